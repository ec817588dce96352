"""`{% csrf_token %}` for every template (a TEMPLATES builtin): Django's CSRF field and the
form's one-time submission token (mcnet/submissions.py), so that every POST form carries one
without each template having to remember it."""

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import format_html

from mcnet.submissions import FIELD, new_token

register = template.Library()


class CsrfAndSubmissionNode(CsrfTokenNode):
    def render(self, context):
        csrf = super().render(context)
        if not csrf:  # no CSRF token here: not a form that can be posted
            return csrf
        token = format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())
        return csrf + token


@register.tag
def csrf_token(parser, token):
    return CsrfAndSubmissionNode()
