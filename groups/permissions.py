"""Which membership fact gives which object permission on a group (deny by default).

- `groups.access_group`: an accepted member (サポーター) sees the group's patient details and
  its member list. An invitee does not (留意事項 4: they judge from the patient's name whether
  they belong, nothing more). Access ends with care (別紙5 (2), 第9条3項): once a patient
  group is closed — archived, or its consent withdrawn or found invalid — no member keeps it;
  its custodians open the record each time with a reason (consents.permissions). A free
  group holds no patient: its members keep reading it in the archive (留意事項 2).
- `groups.manage_group`: the group's manager, while they are an accepted member and the group
  is neither archived (read-only) nor closed.

`grants_for` is the one statement of that rule; services.py applies it in the same transaction
as the fact it follows, and a test rebuilds every grant from the rows with it.

Below it, the groups' part of the patient-access rule (consents.permissions): whether a
patient reaches the user through a group, and whether the patient's groups are working or
closed. Consents sits below groups and cannot import them, so GroupsConfig.ready() hands these
to consents.permissions.use_patient_groups (one registration, read on every query).
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from facilities.models import FacilityMembership, FacilityRole
from facilities.permissions import facility_ids_with, holds_on, roles_grant

from .models import CARE_ENDED_REASONS, Group, GroupUserObjectPermission

ACCESS_GROUP = "groups.access_group"
MANAGE_GROUP = "groups.manage_group"


def grants_for(*, accepted: bool, is_manager: bool, archived: bool, closed: bool) -> set[str]:
    """`closed`: a patient group whose care has ended (closed_patient_group_q)."""
    perms: set[str] = set()
    if accepted and not closed:
        perms.add(ACCESS_GROUP)
        if is_manager and not archived:
            perms.add(MANAGE_GROUP)
    return perms


def group_ids_granted(user, codename: str) -> QuerySet:
    """Ids of the groups on which the user holds `groups.<codename>` (a subquery)."""
    return GroupUserObjectPermission.objects.filter(
        user=user, permission__content_type__app_label="groups", permission__codename=codename
    ).values("content_object_id")


def is_manager_of(user, group: Group) -> bool:
    managed = getattr(group, "is_managed", None)  # read with the group (group_for_member)
    if managed is not None:
        return managed
    return group_ids_granted(user, "manage_group").filter(content_object_id=group.pk).exists()


def archivable_q(user) -> Q:
    """On Group: a working group the user may archive — the owning facility's MCS
    administrator (留意事項 2); for a free group, also its own manager (it holds no patient)."""
    return (
        (
            Q(facility_id__in=facility_ids_with(user, "archive_groups", while_restricted=True))
            | Q(kind=Group.Kind.FREE, pk__in=group_ids_granted(user, "manage_group"))
        )
        & ~Q(kind=Group.Kind.ALL_USERS)
        & ~Q(state=Group.State.ARCHIVED)
    )


def can_archive(user, group: Group) -> bool:
    # The list filter's rule, at the least; most members hold neither, and the role rows and
    # the group already say so without a query.
    if not (user and user.is_authenticated and user.is_active):
        return False
    if not (
        roles_grant(user, "archive_groups")
        or (group.kind == Group.Kind.FREE and is_manager_of(user, group))
    ):
        return False
    return Group.objects.filter(archivable_q(user), pk=group.pk).exists()


def can_remove_as_staff_admin(actor, membership) -> bool:
    """留意事項 1: a facility's MCS administrator removes their own staff from any group."""
    return FacilityMembership.objects.filter(
        user_id=membership.user_id,
        facility_id__in=facility_ids_with(actor, "manage_staff", while_restricted=True),
    ).exists()


def can_attest_staff(user, facility) -> bool:
    """留意事項 1: the facility's MCS administrator compares its staff list with MCS and
    settles the differences (the same rule as the attestation page's facility_for)."""
    return holds_on(user, facility.pk, "manage_staff")


def is_mcs_admin(user) -> bool:
    """An MCS administrator somewhere: the center's announcements to administrators reach them."""
    return user.holds_role(FacilityRole.Role.MCS_ADMIN)


def closed_patient_group_q(prefix: str = "") -> Q:
    """Patient groups whose care has ended: archived, or their consent withdrawn or invalid.
    Access ends with care (別紙5 (2)): no member holds a grant on them any more; only the
    custodians open them, each time with a reason (consents.permissions)."""
    return Q(**{f"{prefix}kind": "patient"}) & (
        Q(**{f"{prefix}state": "archived"}) | Q(**{f"{prefix}end_reason__in": CARE_ENDED_REASONS})
    )


# --- the groups' part of the patient-access rule, on Patient rows (consents.permissions) ----


def _groups_of_outer_patient() -> QuerySet:
    return Group.objects.filter(patient=OuterRef("pk"))


def patient_has_group() -> Exists:
    """On Patient: a group of theirs exists, in any state."""
    return Exists(_groups_of_outer_patient())


def patient_has_working_group() -> Exists:
    """On Patient: a group of theirs is not closed (care goes on)."""
    return Exists(_groups_of_outer_patient().exclude(closed_patient_group_q()))


def patient_has_closed_group() -> Exists:
    """On Patient: a group of theirs was closed (archived, or its consent ended)."""
    return Exists(_groups_of_outer_patient().filter(closed_patient_group_q()))


def patient_awaiting_archive() -> Q:
    """On Patient: the end of care was reported (留意事項 3) and the group awaits the archive,
    with no active group beside it."""
    groups = _groups_of_outer_patient()
    return Exists(groups.filter(state="to_be_archived")) & ~Exists(groups.filter(state="active"))


def patient_ids_granted(user, codename: str) -> QuerySet:
    """Ids of the patients of the groups on which the user holds `groups.<codename>`."""
    return GroupUserObjectPermission.objects.filter(
        user=user,
        permission__content_type__app_label="groups",
        permission__codename=codename,
        content_object__patient__isnull=False,
    ).values("content_object__patient_id")


def patient_ids_managed_by(user) -> QuerySet:
    """Ids of the patients whose group (in any state) the user manages: a custodian of the
    record (留意事項 医療介護情報の取り扱い (2))."""
    return Group.objects.filter(manager=user, patient__isnull=False).values("patient_id")
