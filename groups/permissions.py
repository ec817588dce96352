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
