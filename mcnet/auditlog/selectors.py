"""Who may read which part of the audit trail, searching it, and how an event is shown.

- Center staff read the whole trail (national guideline: access and operation logs must be
  reviewable), including the access log of patient data ("patient.view": who opened which
  patient's page, when, from where, through which page).
- An MCS administrator (第6条: manages the facility's patient and personal information and
  its IDs) reads, for each facility where they hold `facilities.manage_staff`:
    (1) the events about that facility's objects — `AuditTrail.facility_id` is the facility;
    (2) the events done by that facility's staff — the actor holds an ACTIVE membership of the
        facility now (wherever the event happened, e.g. their nurse opening a patient's page
        at another facility). Someone who left is no longer their staff: that person's later
        events elsewhere are not shown; their events at the facility stay visible through (1).
  Nobody else reads the trail.

The trail read here is AuditTrail: the sealed hash chain and the access-log records still
waiting for their seal (mcnet.audit), so an opening of a patient's page is listed, searched
and exported from the moment it happens, not from the periodic seal.

What an event says is shown as stored, except for events about patients (patients, consents,
groups, memberships, reviews, printed forms) seen by someone outside the patient's facility —
the center, or an administrator reading their staff's events at another facility: they see the
object's type and id, never its stored label, and of its changes only harmless keys (別紙5:
only the facilities involved see a patient's information). The stored labels hold no patient
name today (Patient.__str__ is 「患者 #id」, groups write no label); this keeps it so.
"""

import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from facilities.models import Facility, FacilityMembership, User
from facilities.permissions import facility_ids_with
from facilities.search import search_key
from mcnet.models import AuditTrail
from mcnet.text import nfkc

# Events about patients: their label and changes stay inside the patient's facility.
PATIENT_OBJECT_TYPES = frozenset(
    {
        "consents.patient",
        "consents.consent",
        "groups.group",
        "groups.membership",
        "groups.supporterreview",
        "mcnet.generateddocument",
    }
)
# Keys of a patient event's changes that say nothing about the patient (which page, which
# form, which fields — never their values).
# "purpose": why a custodian opened a closed record (consents.permissions.OpeningPurpose, a code).
HARMLESS_KEYS = frozenset({"via", "form", "fields", "new", "requeued", "format", "purpose"})
# The access log of patient data, as the consents and groups apps record it.
PATIENT_ACCESS_ACTION = "patient.view"


@dataclass(frozen=True)
class AuditScope:
    everything: bool
    facility_ids: frozenset[int]


def audit_scope(user) -> AuditScope | None:
    """What part of the trail `user` may read, or None (nothing)."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.is_center_staff:
        return AuditScope(True, frozenset())
    ids = frozenset(
        facility_ids_with(user, "manage_staff").values_list("content_object_id", flat=True)
    )
    return AuditScope(False, ids) if ids else None


def events_in_scope(scope: AuditScope) -> QuerySet[AuditTrail]:
    if scope.everything:
        return AuditTrail.objects.all()
    staff = FacilityMembership.objects.filter(
        facility_id__in=scope.facility_ids, is_active=True
    ).values("user_id")
    return AuditTrail.objects.filter(Q(facility_id__in=scope.facility_ids) | Q(actor_id__in=staff))


@dataclass
class AuditFilters:
    actor: str = ""
    facility: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def search(events: QuerySet[AuditTrail], f: AuditFilters) -> QuerySet[AuditTrail]:
    """Narrow `events`: actor (MCS ID, name or kana), facility (id or name), object type and id,
    action (exact, or a prefix such as "patient" for every patient.* action), days."""
    if f.actor:
        text = nfkc(f.actor).strip()
        key = search_key(text)
        names = User.objects.filter(Q(search_name__contains=key) | Q(search_kana__contains=key))
        names = names.values("pk")
        events = events.filter(Q(actor_label__icontains=text) | Q(actor_id__in=names))
    if f.facility:
        text = nfkc(f.facility).strip()
        if text.isdigit():
            events = events.filter(facility_id=int(text))
        else:
            named = Facility.objects.filter(search_name__contains=search_key(text)).values("pk")
            events = events.filter(facility_id__in=named)
    if f.object_type:
        events = events.filter(object_type=f.object_type.strip().lower())
    if f.object_id:
        events = events.filter(object_id=nfkc(f.object_id).strip())
    if f.action:
        action = f.action.strip()
        events = events.filter(Q(action=action) | Q(action__startswith=action.rstrip(".") + "."))
    if f.date_from:
        events = events.filter(created_at__gte=_day_start(f.date_from))
    if f.date_to:
        events = events.filter(created_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    return events.order_by("-created_at", "-id")


@dataclass
class EventRow:
    """One event as the reader may see it."""

    id: int
    created_at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    facility_id: int | None
    facility_name: str
    changes: str
    ip_address: str
    masked: bool
    sealed: bool = True  # False: in the trail, not yet sealed into the hash chain


def _is_masked(event: AuditTrail, scope: AuditScope) -> bool:
    if event.object_type not in PATIENT_OBJECT_TYPES:
        return False
    return scope.everything or event.facility_id not in scope.facility_ids


def _changes_text(changes, masked: bool) -> str:
    if not changes:
        return ""
    if not isinstance(changes, dict):
        return "" if masked else json.dumps(changes, ensure_ascii=False)
    if masked:
        shown = {k: v for k, v in changes.items() if k in HARMLESS_KEYS}
        hidden = sorted(k for k in changes if k not in HARMLESS_KEYS)
        text = json.dumps(shown, ensure_ascii=False, sort_keys=True) if shown else ""
        if hidden:
            text += (" " if text else "") + "（" + "、".join(hidden) + ": 非表示）"
        return text
    return json.dumps(changes, ensure_ascii=False, sort_keys=True)


def present(events, scope: AuditScope) -> list[EventRow]:
    """The events as `scope` may see them; facility names in one query."""
    events = list(events)
    names = dict(
        Facility.objects.filter(
            pk__in={e.facility_id for e in events if e.facility_id is not None}
        ).values_list("pk", "name")
    )
    rows = []
    for e in events:
        masked = _is_masked(e, scope)
        fallback = f"{e.object_type} #{e.object_id}" if e.object_id else e.object_type
        rows.append(
            EventRow(
                id=e.pk,
                created_at=e.created_at,
                actor=e.actor_label,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                object_label=fallback if masked else (e.object_repr or fallback),
                facility_id=e.facility_id,
                facility_name=names.get(e.facility_id, ""),
                changes=_changes_text(e.changes, masked),
                ip_address=e.ip_address or "",
                masked=masked,
                sealed=e.sealed,
            )
        )
    return rows
