from django import template

from enrollment.permissions import may_file

register = template.Library()


@register.filter
def can_file(user) -> bool:
    """The menu shows 申込・届出 only to those who may file 別紙3/別紙4 for a facility."""
    return bool(user.is_authenticated) and may_file(user)
