"""Which role holds which object permission on its facility (deny by default: nothing else)."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet

from .models import CENTER_STAFF_GROUP, FacilityRole, FacilityUserObjectPermission, User

Role = FacilityRole.Role

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # Art. 6: patient and personal information, IT devices, IDs, user registration and removal;
    # 留意事項 2: archive groups of patients who stopped using MCS, restrict or ban misuse.
    Role.MCS_ADMIN: (
        "facilities.manage_staff",
        "facilities.manage_devices",
        "facilities.archive_groups",
    ),
    # Art. 5, 7, 別紙1/2/4: signs for the facility, appoints the MCS administrator, pledges and
    # education of the staff.
    Role.FACILITY_MANAGER: (
        "facilities.sign_for_facility",
        "facilities.manage_education",
    ),
    # Art. 8: creates the patient's group and manages it.
    Role.GROUP_MANAGER: ("facilities.register_patients",),
}


def roles_grant(user, *codenames: str) -> bool:
    """Whether one of the user's role rows gives one of `facilities.<codename>` on its facility.

    The guardian grants on facilities follow the role rows (and only them), so a user whose
    roles give none of these holds no such grant anywhere: selectors skip their query, from the
    role rows already read for the request (User.role_rows)."""
    wanted = {f"facilities.{codename}" for codename in codenames}
    return any(wanted & set(ROLE_PERMISSIONS.get(role, ())) for _f, role in user.roles_held)


def facility_ids_with(user, *codenames: str, while_restricted: bool = False) -> QuerySet:
    """Ids of the facilities on which the user holds one of `facilities.<codename>` (a
    subquery): the one answer to "the facilities where the user holds X", from the guardian
    grants that follow the role rows. Nobody signed out, inactive or banned; a restricted user
    (留意事項 2) only where the caller leaves them that duty (`while_restricted`)."""
    if not _may_hold_grants(user, while_restricted) or not roles_grant(user, *codenames):
        return FacilityUserObjectPermission.objects.none().values("content_object_id")
    return FacilityUserObjectPermission.objects.filter(
        user=user,
        permission__content_type__app_label="facilities",
        permission__codename__in=codenames,
    ).values("content_object_id")


def holds_on(user, facility_id: int, *codenames: str, while_restricted: bool = False) -> bool:
    """The object check of the same rule: whether the user holds one of them on the facility."""
    ids = facility_ids_with(user, *codenames, while_restricted=while_restricted)
    return ids.filter(content_object_id=facility_id).exists()


def _may_hold_grants(user, while_restricted: bool) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return while_restricted or user.state == User.State.ACTIVE


# 第5条: who appoints which role on a facility — the facility manager (sign_for_facility)
# appoints every role; the MCS administrator, who registers the facility's users (第6条(4)),
# also the patient-group managers. The center appoints only what the facility's signed paper
# asks for (別紙1's signer, 別紙3/別紙4's administrator flag).
APPOINTED_BY: dict[str, tuple[str, ...]] = {
    Role.MCS_ADMIN: ("sign_for_facility",),
    Role.FACILITY_MANAGER: ("sign_for_facility",),
    Role.GROUP_MANAGER: ("sign_for_facility", "manage_staff"),
}


def appointable_roles(codenames_held: set[str]) -> list[str]:
    """The roles a holder of these codenames on a facility appoints there (the pages' list)."""
    return [role for role, by in APPOINTED_BY.items() if codenames_held & set(by)]


def can_appoint(actor, facility, role: str) -> bool:
    """The object check of appointable_roles (and the center's part)."""
    if getattr(actor, "is_center_staff", False):
        return True
    codenames = APPOINTED_BY.get(role, ("sign_for_facility",))
    return holds_on(actor, facility.pk, *codenames, while_restricted=True)


def can_appoint_mcs_admin(actor, facility) -> bool:
    """Inviting someone as the MCS administrator is appointing one: the facility manager's
    (第5条) or the center's; `actor` None is the system finishing a signed paper."""
    if actor is None:
        return True
    return can_appoint(actor, facility, Role.MCS_ADMIN)


def permissions_for_roles(roles) -> set[str]:
    perms: set[str] = set()
    for role in roles:
        perms.update(ROLE_PERMISSIONS[role])
    return perms


# What the center's Django group may do in the admin (model permissions). Center staff see no
# patient details (別紙5): later apps add only what keeps that promise.
CENTER_STAFF_PERMISSIONS: tuple[str, ...] = (
    "facilities.view_user",
    "facilities.add_user",
    "facilities.change_user",
    "facilities.view_facility",
    "facilities.add_facility",
    "facilities.change_facility",
    "facilities.view_facilityrole",
    "facilities.add_facilityrole",
    "facilities.change_facilityrole",
    "facilities.delete_facilityrole",
    "facilities.view_facilitymembership",
    # The center, which oversees the network (第1条), sees restrictions and bans (留意事項 2),
    # invitations, pledges and education, and each facility's state history; it changes them
    # only through the portal's services (facility state through the facility's own admin form).
    "facilities.view_userrestriction",
    "facilities.view_invitation",
    "facilities.view_staffpledge",
    "facilities.view_educationsession",
    "facilities.view_facilitystatechange",
    # Groups: names, kinds, states, counts only (the admin shows no patient field); the
    # center writes the announcements. No consents.* permission at all (別紙5 (2)).
    "groups.view_group",
    "groups.view_announcement",
    "groups.add_announcement",
    "groups.change_announcement",
    "groups.delete_announcement",
    "mcnet.view_auditevent",
    "mcnet.view_networksettings",
    "mcnet.change_networksettings",
)


def center_staff_group() -> Group:
    """The center's Django group, with exactly the model permissions of CENTER_STAFF_PERMISSIONS.

    Run after every migrate (signals.py) and when a member joins the center (services.py), so new apps' permissions reach the center at once.
    """
    group, _created = Group.objects.get_or_create(name=CENTER_STAFF_GROUP)
    wanted = Q()
    for perm in CENTER_STAFF_PERMISSIONS:
        app_label, codename = perm.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group
