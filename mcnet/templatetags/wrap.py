"""`{% wrap "_list_table.html" with rows=documents empty=_("…") %}…{% endwrap %}`: an include
with a body. The shared template holds the markup every page repeats (a list's table and its
empty message, a list's search form) and puts the page's own part where it says
`{{ body }}`; the page keeps only what is its own. The shared template sees the body and
the values after `with`, nothing else."""

from django import template
from django.template.base import token_kwargs

register = template.Library()


class WrapNode(template.Node):
    def __init__(self, template_name, extra_context, nodelist):
        self.template_name = template_name
        self.extra_context = extra_context
        self.nodelist = nodelist

    def render(self, context):
        body = self.nodelist.render(context)  # a SafeString: escaped as it was rendered
        shared = context.template.engine.get_template(self.template_name.resolve(context))
        values = {name: var.resolve(context) for name, var in self.extra_context.items()}
        # Only what the page hands over: a name the page happens to use cannot leak in.
        return shared.render(context.new({**values, "body": body}))


@register.tag
def wrap(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError('usage: {% wrap "template" with name=value %}')
    template_name = parser.compile_filter(bits[1])
    extra_context = {}
    if len(bits) > 2:
        if bits[2] != "with":
            raise template.TemplateSyntaxError("wrap: 'with' comes after the template's name")
        extra_context = token_kwargs(bits[3:], parser, support_legacy=False)
        if len(extra_context) != len(bits) - 3:
            raise template.TemplateSyntaxError("wrap: every value after 'with' is name=value")
    nodelist = parser.parse(("endwrap",))
    parser.delete_first_token()
    return WrapNode(template_name, extra_context, nodelist)
