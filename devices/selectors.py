"""Reads of the devices app, scoped to the asking user.

Who is the MCS administrator of a facility is read from the facility's object permission
`facilities.manage_devices` (guardian, granted from the role rows by facilities.services), so a
view never decides it by itself. Another facility's objects are not found (404): their
existence does not leak.
"""

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from facilities.models import Facility, FacilityMembership, FacilityUserObjectPermission, User
from groups.models import Group, Membership
from mcnet.models import NetworkSettings
from mcnet.selectors import first_or_404
from mcnet.text import nfkc

from . import permissions
from .models import (
    Device,
    IncidentReport,
    LeaverChecklist,
    LossReport,
    PrivacyLeak,
    TakeoutRequest,
    check_overdue_q,
)


# --- who holds which role (devices.permissions) ------------------------------------------
def managed_facilities(user) -> QuerySet[Facility]:
    """Facilities whose devices, take-outs and reports this user manages (MCS administrator)."""
    return Facility.objects.filter(pk__in=permissions.device_managed_facility_ids(user))


def member_facilities(user) -> QuerySet[Facility]:
    """Where the user works: where they file requests and reports from."""
    if not getattr(user, "is_authenticated", False):
        return Facility.objects.none()
    return Facility.objects.filter(memberships__user=user, memberships__is_active=True).order_by(
        "name"
    )


def facility_members(facility_ids) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__facility_id__in=facility_ids,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("kana", "email")
    )


def device_managers_of(facility_id: int) -> list[User]:
    """The facility's MCS administrators: who is told about requests and reports."""
    return list(permissions.holders_on(facility_id, "manage_devices"))


def _requester_is_manager_q() -> Q:
    """Requests filed by an MCS administrator of the same facility."""
    return Q(
        Exists(
            FacilityUserObjectPermission.objects.filter(
                user_id=OuterRef("requester_id"),
                content_object_id=OuterRef("facility_id"),
                permission__codename="manage_devices",
            )
        )
    )


# --- devices -------------------------------------------------------------------------------
def check_cutoff(today: dt.date | None = None) -> dt.date:
    """A checklist item confirmed before this date is overdue (the network's interval)."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=NetworkSettings.load().device_check_interval_days)


def devices_managed_by(user) -> QuerySet[Device]:
    return Device.objects.filter(facility__in=managed_facilities(user)).select_related(
        "facility", "assigned_user"
    )


def device_list(
    user, *, facility_id=None, state="", overdue=False, kind="", ownership="", query=""
):
    devices = devices_managed_by(user)
    if query:
        devices = devices.filter(label__icontains=nfkc(query))
    if facility_id:
        devices = devices.filter(facility_id=facility_id)
    if state:
        devices = devices.filter(state=state)
    if kind:
        devices = devices.filter(kind=kind)
    if ownership:
        devices = devices.filter(ownership=ownership)
    if overdue:
        devices = devices.filter(check_overdue_q(check_cutoff()))
    return devices.order_by("facility__name", "label", "pk")


def device_for_manager(user, pk: int) -> Device:
    return first_or_404(devices_managed_by(user).filter(pk=pk))


def devices_assigned_to(user, facility_id: int | None = None) -> QuerySet[Device]:
    """The user's own devices in use (they may name one in a request or a loss report)."""
    devices = Device.objects.filter(
        assigned_user=user,
        state=Device.State.IN_USE,
        facility__memberships__user=user,
        facility__memberships__is_active=True,
    ).select_related("facility")
    if facility_id:
        devices = devices.filter(facility_id=facility_id)
    return devices.order_by("label")


# --- take-out and BYOD requests (art. 12 (9)(10)) ----------------------------------------------
def takeouts_visible_to(user) -> QuerySet[TakeoutRequest]:
    """Own requests; the facility's for its MCS administrator; an administrator's own requests
    also for the facility manager, who may decide them (see permissions.takeout_deciders)."""
    if not getattr(user, "is_authenticated", False):
        return TakeoutRequest.objects.none()
    managed = managed_facilities(user)
    signed = Facility.objects.filter(pk__in=permissions.signing_facility_ids(user))
    return (
        TakeoutRequest.objects.filter(
            Q(requester=user)
            | Q(facility__in=managed)
            | (Q(facility__in=signed) & _requester_is_manager_q())
        )
        .select_related("facility", "requester", "decided_by", "device")
        .distinct()
    )


def takeout_list(user, *, status: str = "", mine: bool = False) -> QuerySet[TakeoutRequest]:
    requests = takeouts_visible_to(user)
    if mine:
        requests = requests.filter(requester=user)
    today = timezone.localdate()
    if status == "overdue":
        requests = requests.filter(state=TakeoutRequest.State.APPROVED, period_end__lt=today)
    elif status == "active":
        # 「持ち出し中」 from the start date only (第12条(9): the approved period).
        requests = requests.filter(state=TakeoutRequest.State.APPROVED, period_start__lte=today)
    elif status in TakeoutRequest.State.values:
        requests = requests.filter(state=status)
    return requests.order_by("-created_at", "-pk")


def takeout_for_viewer(user, pk: int) -> TakeoutRequest:
    return first_or_404(takeouts_visible_to(user).filter(pk=pk))


# --- loss and theft (art. 12 (11)) -----------------------------------------------------------
def loss_reports_visible_to(user) -> QuerySet[LossReport]:
    if not getattr(user, "is_authenticated", False):
        return LossReport.objects.none()
    return LossReport.objects.filter(
        Q(reporter=user) | Q(facility__in=managed_facilities(user))
    ).select_related("facility", "reporter", "device", "acknowledged_by", "closed_by")


def loss_report_list(user, *, open_only: bool = False) -> QuerySet[LossReport]:
    reports = loss_reports_visible_to(user)
    if open_only:
        reports = reports.exclude(state=LossReport.State.CLOSED)
    return reports.order_by("-created_at", "-pk")


def loss_report_for_viewer(user, pk: int) -> LossReport:
    return first_or_404(loss_reports_visible_to(user).filter(pk=pk))


# --- incidents (留意事項 4) ---------------------------------------------------------------------
def incidents_visible_to(user) -> QuerySet[IncidentReport]:
    """Own reports, the facility's for its MCS administrator, escalated ones for the center."""
    if not getattr(user, "is_authenticated", False):
        return IncidentReport.objects.none()
    visible = Q(reporter=user) | Q(facility__in=managed_facilities(user))
    if user.is_center_staff:
        visible |= Q(escalated_at__isnull=False)
    return IncidentReport.objects.filter(visible).select_related(
        "facility", "reporter", "escalated_by"
    )


def incident_list(user, *, open_only: bool = False) -> QuerySet[IncidentReport]:
    incidents = incidents_visible_to(user)
    if open_only:
        incidents = incidents.exclude(state=IncidentReport.State.CLOSED)
    return incidents.order_by("-created_at", "-pk")


def incident_for_viewer(user, pk: int) -> IncidentReport:
    return first_or_404(incidents_visible_to(user).filter(pk=pk))


def incident_timeline(incident: IncidentReport):
    return incident.events.select_related("actor").order_by("created_at", "pk")


def restrictable_users(incident: IncidentReport) -> QuerySet[User]:
    """Staff of the incident's facility (the MCS administrator restricts their own staff)."""
    return facility_members([incident.facility_id])


# --- the center: escalated incidents and counts, never device details (別紙5) ---------------------
def center_facility_counts(today: dt.date | None = None) -> list[dict]:
    """Per facility: how many devices, overdue checks, open requests and reports (a handful of
    grouped queries, whatever the number of facilities)."""
    today = today or timezone.localdate()
    cutoff = check_cutoff(today)
    rows: dict[int, dict] = {}

    def add(queryset, **counts):
        for row in queryset.values("facility_id").annotate(**counts).order_by():
            rows.setdefault(row.pop("facility_id"), {}).update(row)

    add(  # one pass over the devices (a device checked overdue is in use, so not disposed)
        Device.objects.exclude(state=Device.State.DISPOSED),
        devices=Count("pk"),
        devices_lost=Count("pk", filter=Q(state=Device.State.LOST)),
        devices_check_overdue=Count("pk", filter=check_overdue_q(cutoff)),
    )
    add(
        TakeoutRequest.objects.filter(
            state__in=[TakeoutRequest.State.PENDING, TakeoutRequest.State.APPROVED]
        ),
        takeouts_pending=Count("pk", filter=Q(state=TakeoutRequest.State.PENDING)),
        takeouts_active=Count(
            "pk", filter=Q(state=TakeoutRequest.State.APPROVED, period_start__lte=today)
        ),
        takeouts_overdue=Count(
            "pk", filter=Q(state=TakeoutRequest.State.APPROVED, period_end__lt=today)
        ),
    )
    add(
        LossReport.objects.exclude(state=LossReport.State.CLOSED),
        loss_reports_open=Count("pk"),
    )
    add(
        IncidentReport.objects.all(),
        incidents_open=Count("pk", filter=~Q(state=IncidentReport.State.CLOSED)),
        incidents_escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
    )
    names = dict(Facility.objects.filter(pk__in=rows).values_list("pk", "name"))
    keys = (
        "devices",
        "devices_lost",
        "devices_check_overdue",
        "takeouts_pending",
        "takeouts_active",
        "takeouts_overdue",
        "loss_reports_open",
        "incidents_open",
        "incidents_escalated",
    )
    result = [
        {"facility": names[pk], **{k: counts.get(k, 0) for k in keys}}
        for pk, counts in rows.items()
    ]
    return sorted(result, key=lambda r: r["facility"])


def escalated_incidents() -> QuerySet[IncidentReport]:
    return (
        IncidentReport.objects.filter(escalated_at__isnull=False)
        .select_related("facility", "reporter", "escalated_by")
        .order_by("-escalated_at", "-pk")
    )


# --- the home page and the reminders ------------------------------------------------------------
def _own_takeouts(user) -> dict:
    """Whether the user works somewhere (files take-outs) and their own take-outs under way
    and waiting, in one query: the home page is opened many times a day."""
    own = TakeoutRequest.objects.filter(requester=OuterRef("pk"))
    return (
        User.objects.filter(pk=user.pk)
        .annotate(
            member=Exists(FacilityMembership.objects.filter(user=OuterRef("pk"), is_active=True)),
            active=_count_of(
                own.filter(
                    state=TakeoutRequest.State.APPROVED, period_start__lte=timezone.localdate()
                )
            ),
            pending=_count_of(own.filter(state=TakeoutRequest.State.PENDING)),
        )
        .values("member", "active", "pending")
        .get()
    )


def _count_of(rows: QuerySet) -> Coalesce:
    return Coalesce(
        Subquery(rows.order_by().values("requester").annotate(n=Count("pk")).values("n")), 0
    )


def home_section(user) -> dict | None:
    """What the devices app puts on the home page: the user's own items, the administrator's
    queue, the center's escalated incidents."""
    if not user.is_authenticated:
        return None
    section: dict = {}
    if user.is_center_staff:
        section["center_escalated"] = (
            escalated_incidents().exclude(state=IncidentReport.State.CLOSED).count()
        )
    mine = _own_takeouts(user)
    if mine["member"]:
        section["member"] = True
        section["my_active_takeouts"] = mine["active"]
        section["my_pending_takeouts"] = mine["pending"]
    managed = managed_facilities(user)
    if managed.exists():
        today = timezone.localdate()
        section["manager"] = {
            "pending_takeouts": TakeoutRequest.objects.filter(
                facility__in=managed, state=TakeoutRequest.State.PENDING
            )
            .exclude(requester=user)
            .count(),
            "overdue_takeouts": TakeoutRequest.objects.filter(
                facility__in=managed,
                state=TakeoutRequest.State.APPROVED,
                period_end__lt=today,
            ).count(),
            "open_loss_reports": LossReport.objects.filter(facility__in=managed)
            .exclude(state=LossReport.State.CLOSED)
            .count(),
            "open_incidents": IncidentReport.objects.filter(facility__in=managed)
            .exclude(state=IncidentReport.State.CLOSED)
            .count(),
            "devices_check_overdue": Device.objects.filter(facility__in=managed)
            .filter(check_overdue_q(check_cutoff(today)))
            .count(),
        }
    return section or None


def overdue_takeouts(today: dt.date) -> QuerySet[TakeoutRequest]:
    """Approved take-outs whose period ended without a return (one query)."""
    return TakeoutRequest.objects.filter(
        state=TakeoutRequest.State.APPROVED, period_end__lt=today
    ).select_related("requester", "facility")


def facilities_with_overdue_checks(today: dt.date) -> dict[int, int]:
    """facility id -> number of devices whose checklist is overdue (one grouped query)."""
    rows = (
        Device.objects.filter(check_overdue_q(check_cutoff(today)))
        .values("facility_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["facility_id"]: row["n"] for row in rows}


def device_managers_by_facility(facility_ids) -> dict[int, list[User]]:
    """facility id -> its MCS administrators (one query for every facility)."""
    grants = FacilityUserObjectPermission.objects.filter(
        content_object_id__in=list(facility_ids),
        permission__codename="manage_devices",
        user__is_active=True,
    ).select_related("user")
    result: dict[int, list[User]] = {}
    for grant in grants:
        result.setdefault(grant.content_object_id, []).append(grant.user)
    return result


# --- 個人データの漏えい等 (個人情報保護法 §26) ------------------------------------------------------


def leak_group_choices(user, facility_id: int) -> QuerySet:
    """The patient groups a facility is involved in (it manages them, or its staff are
    accepted members): those its MCS administrator may name as affected by a leak."""
    if not permissions.is_device_manager(user, facility_id):
        return Group.objects.none()
    staff = FacilityMembership.objects.filter(facility_id=facility_id, is_active=True).values(
        "user_id"
    )
    involved = Membership.objects.filter(state=Membership.State.ACCEPTED, user_id__in=staff).values(
        "group_id"
    )
    return (
        Group.objects.filter(kind=Group.Kind.PATIENT)
        .filter(Q(facility_id=facility_id) | Q(pk__in=involved))
        .select_related("facility")
        .order_by("pk")
    )


def leak_group_label(group, facility_id: int) -> str:
    """A group's name (the patient's) only for its own managing facility; for any other, its
    number and managing facility (別紙5 (2): a patient's name stays with the facilities that
    hold the record)."""
    if group.facility_id == facility_id:
        return f"No.{group.pk} {group.name}"
    facility = group.facility.name if group.facility_id else ""
    return f"No.{group.pk}（{facility}）"


def leak_other_facility_ids(leak) -> set[int]:
    """The other facilities in the affected groups: managing ones and those of the members."""
    groups = leak.affected_groups.all()
    members = Membership.objects.filter(group__in=groups, state=Membership.State.ACCEPTED).values(
        "user_id"
    )
    ids = set(
        FacilityMembership.objects.filter(user_id__in=members, is_active=True).values_list(
            "facility_id", flat=True
        )
    ) | {group.facility_id for group in groups if group.facility_id}
    ids.discard(leak.facility_id)
    return ids


def leaks_visible_to(user) -> QuerySet[PrivacyLeak]:
    """A facility's leak records are its MCS administrators' (第6条(1), (2))."""
    if not getattr(user, "is_authenticated", False):
        return PrivacyLeak.objects.none()
    return PrivacyLeak.objects.filter(facility__in=managed_facilities(user)).select_related(
        "facility", "incident", "loss_report"
    )


def leak_for_manager(user, pk: int) -> PrivacyLeak:
    return first_or_404(leaks_visible_to(user).filter(pk=pk))


def leaks_open_for_center() -> QuerySet[PrivacyLeak]:
    """Every open clock with its due dates, for the center: the facility and the dates and the
    number of groups, never a group or a patient."""
    return (
        PrivacyLeak.objects.filter(state=PrivacyLeak.State.OPEN)
        .select_related("facility")
        .annotate(group_count=Count("affected_groups"))
        .order_by("preliminary_due", "final_due", "pk")
    )


# --- leavers (留意事項4, 第7条(2), 第12条(10)) -----------------------------------------------------
def leaver_checklists_for(user) -> QuerySet[LeaverChecklist]:
    """The checklists of the facilities whose devices `user` manages (MCS administrator)."""
    return LeaverChecklist.objects.filter(facility__in=managed_facilities(user)).select_related(
        "facility", "user"
    )


def leaver_checklist_for(user, pk: int) -> LeaverChecklist:
    return first_or_404(leaver_checklists_for(user).filter(pk=pk))


def leaver_devices_to_return(checklist: LeaverChecklist) -> QuerySet[Device]:
    """The facility's devices still in use by the leaver (留意事項4: to return)."""
    return Device.objects.filter(
        facility_id=checklist.facility_id,
        assigned_user_id=checklist.user_id,
        ownership=Device.Ownership.FACILITY,
        state=Device.State.IN_USE,
    )


def leaver_takeouts_to_return(checklist: LeaverChecklist) -> QuerySet[TakeoutRequest]:
    """Information or devices the leaver took out, flagged to return when they left."""
    return TakeoutRequest.objects.filter(
        facility_id=checklist.facility_id,
        requester_id=checklist.user_id,
        state=TakeoutRequest.State.APPROVED,
        return_requested_at__isnull=False,
    )


def leaver_byod_ended(checklist: LeaverChecklist) -> QuerySet[TakeoutRequest]:
    return TakeoutRequest.objects.filter(
        facility_id=checklist.facility_id,
        requester_id=checklist.user_id,
        state=TakeoutRequest.State.ENDED,
    )


def leavers_overdue(now=None) -> QuerySet[LeaverChecklist]:
    """For the center: checklists open past the network's number of days. Names of staff
    are the center's to see (it registers them, 別紙3/別紙4); no device or patient detail."""
    now = now or timezone.now()
    days = NetworkSettings.load().leaver_checklist_due_days
    return LeaverChecklist.objects.filter(
        closed_at__isnull=True, left_at__lt=now - dt.timedelta(days=days)
    ).select_related("facility", "user")
