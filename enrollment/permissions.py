"""Who may file 別紙3/別紙4 for which facility: one predicate per action, beside the list
filter of the same rule. A facility files through the people who may sign for it: its facility
manager (sign_for_facility) or its MCS administrator (manage_staff, 第6条(4)); stopping the
facility's use altogether only its manager (別紙4). Read from the facilities' grants
(facilities.permissions.facility_ids_with), which follow the role rows."""

from django.db.models import QuerySet

from facilities.models import Facility, User
from facilities.permissions import ROLE_PERMISSIONS, facility_ids_with

from .models import ChangeNotice

FILE_PERMS = ("facilities.sign_for_facility", "facilities.manage_staff")
STOP_PERMS = ("facilities.sign_for_facility",)  # stopping altogether: the manager signs


def codenames(perms) -> list[str]:
    return [perm.split(".", 1)[1] for perm in perms]


def roles_granting(perms) -> list[str]:
    return [role for role, granted in ROLE_PERMISSIONS.items() if set(perms) & set(granted)]


def filing_facilities(user, *, perms=FILE_PERMS) -> QuerySet[Facility]:
    """Active facilities for which `user` may file 別紙3/別紙4 (by their role rows)."""
    return Facility.objects.filter(
        pk__in=facility_ids_with(user, *codenames(perms)),
        state=Facility.State.ACTIVE,
        memberships__user=user,
        memberships__is_active=True,
    ).distinct()


def may_file(user) -> bool:
    """Whether filing_facilities(user) is not empty, from the role rows read for the request
    (the menu asks on every page)."""
    if not user.is_authenticated or not user.is_active or user.state != User.State.ACTIVE:
        return False
    return user.holds_current_role(*roles_granting(FILE_PERMS))


def can_stop(user, facility: Facility) -> bool:
    return user.has_perm(STOP_PERMS[0], facility)


def can_submit_notice(user, notice: ChangeNotice) -> bool:
    return (
        notice.state in (ChangeNotice.State.DRAFT, ChangeNotice.State.RETURNED)
        and filing_facilities(user).filter(pk=notice.facility_id).exists()
    )
