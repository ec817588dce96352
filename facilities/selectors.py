"""Reads that depend on who asks."""

from django.db.models import QuerySet

from .models import Facility, FacilityRole, User


def roles_of(user: User) -> QuerySet[FacilityRole]:
    """The user's roles, with their facilities, for the home page and the menus."""
    return (
        FacilityRole.objects.filter(user=user)
        .select_related("facility")
        .order_by("facility__name", "role")
    )


def facilities_of(user: User) -> QuerySet[Facility]:
    return Facility.objects.filter(memberships__user=user, memberships__is_active=True)


def user_requires_mfa(user: User) -> bool:
    """Center staff and MCS administrators must use MFA (national guideline, via art. 3)."""
    if not user.is_authenticated:
        return False
    return (
        user.is_center_staff
        or FacilityRole.objects.filter(user=user, role=FacilityRole.Role.MCS_ADMIN).exists()
    )
