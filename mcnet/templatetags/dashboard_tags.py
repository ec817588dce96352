"""Menu entries of the center's dashboard and the audit viewer."""

from django import template

from mcnet.auditlog.selectors import audit_scope

register = template.Library()


@register.simple_tag
def reads_audit_trail(user) -> bool:
    """Whether the menu shows the audit viewer (center staff and MCS administrators)."""
    return audit_scope(user) is not None
