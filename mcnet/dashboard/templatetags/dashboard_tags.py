"""Menu entries of the center's dashboard and the audit viewer."""

from django import template

from facilities.models import FacilityRole

register = template.Library()


@register.simple_tag
def reads_audit_trail(user) -> bool:
    """Whether the menu shows the audit viewer (center staff and MCS administrators)."""
    # The same answer as auditlog's audit_scope (its grants follow these role rows), from the
    # roles already read for this request instead of another query on every page.
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_center_staff or user.holds_role(FacilityRole.Role.MCS_ADMIN)
