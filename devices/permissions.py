"""Who may act on devices, take-outs and reports (第12条, 留意事項 4): one predicate per action,
beside the list filter of the same rule. Both read the facilities' grants
(facilities.permissions.facility_ids_with / holds_on), which follow the role rows; a restricted
MCS administrator (留意事項 2) keeps these duties."""

from django.db.models import QuerySet

from facilities.models import User
from facilities.permissions import facility_ids_with, holds_on

MANAGE_DEVICES = "facilities.manage_devices"
SIGN_FOR_FACILITY = "facilities.sign_for_facility"


def device_managed_facility_ids(user) -> QuerySet:
    """Ids of the facilities whose devices, take-outs and reports the user manages (MCS
    administrator, 第12条). A superuser is not every facility's MCS administrator: the grants
    alone decide."""
    return facility_ids_with(user, "manage_devices", while_restricted=True)


def is_device_manager(user, facility_id: int) -> bool:
    """The object check of device_managed_facility_ids."""
    return holds_on(user, facility_id, "manage_devices", while_restricted=True)


def signing_facility_ids(user) -> QuerySet:
    """Ids of the facilities the user signs for (事業所管理者): they decide their MCS
    administrators' own take-outs (see takeout_deciders)."""
    return facility_ids_with(user, "sign_for_facility", while_restricted=True)


def holders_on(facility_id: int, codename: str) -> QuerySet[User]:
    """The active users holding `facilities.<codename>` on the facility (who is told, who
    decides)."""
    return User.objects.filter(
        is_active=True,
        facilityuserobjectpermission__content_object_id=facility_id,
        facilityuserobjectpermission__permission__codename=codename,
    ).distinct()


def takeout_deciders(request_obj) -> list[User]:
    """Who may approve or reject this request: never the requester.

    Art. 12 (9): the facility's MCS administrator approves. When the requester is an MCS
    administrator themself, another MCS administrator of the facility decides, or the facility
    manager (事業所管理者, who appoints the MCS administrator under art. 5). When there is no
    such person, nobody in the portal can approve it (the page says so).
    """
    managers = list(holders_on(request_obj.facility_id, "manage_devices"))
    others = [u for u in managers if u.pk != request_obj.requester_id]
    if len(others) == len(managers):  # an ordinary user's request: the MCS administrators
        return others
    signers = [
        u
        for u in holders_on(request_obj.facility_id, "sign_for_facility")
        if u.pk != request_obj.requester_id
    ]
    return list({u.pk: u for u in others + signers}.values())


def can_decide_takeout(user, request_obj) -> bool:
    if user.pk == request_obj.requester_id:
        return False
    return any(u.pk == user.pk for u in takeout_deciders(request_obj))


def may_act_on_incident(user, incident, action: str) -> bool:
    """The facility's MCS administrator acts on its reports; once escalated, the center may
    add notes to the timeline (留意事項 4)."""
    if is_device_manager(user, incident.facility_id):
        return True
    return action == "note" and incident.is_escalated and user.is_center_staff
