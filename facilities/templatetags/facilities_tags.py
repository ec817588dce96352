from django import template

from facilities.models import FacilityRole

register = template.Library()

RUNS_A_FACILITY = (FacilityRole.Role.MCS_ADMIN, FacilityRole.Role.FACILITY_MANAGER)


@register.simple_tag
def runs_a_facility(user) -> bool:
    """Whether the menu shows "事業所の管理" (MCS administrators and facility managers only)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.holds_role(*RUNS_A_FACILITY)
