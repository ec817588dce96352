"""別紙6 ご本人の照会 (個人情報保護法 §33 開示): the disclosure package, and what the reply
letter (request_reply.py) shares with it: the request and the custodian.

- The disclosure package (§33 開示): everything the portal holds about the patient — the
  record, every consent with the version of the 別紙7 text signed and the facilities it
  covers, each patient group with its member facilities, professions and dates, and the
  access log of who opened the patient's pages. Printed as a PDF; the same context, stored
  with the document, is the machine-readable JSON file.

Staff are named by facility and profession, never by name: the patient is told which
facilities and professions saw their data (別紙5 (2)); the staff's own data is not theirs.
Who may print it is who handles the request (printing.permissions).
"""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from consents.models import Consent, Patient, PatientRequest
from facilities.models import FacilityMembership, User
from groups.models import Group, Membership
from mcnet.models import AuditTrail
from mcnet.wareki import wareki

from ..permissions import patient_requests_printable_by
from ..targets import Target
from .base import form

# The pages that open a patient's details, as the patient reads them in the access log.
PAGE_LABELS = {
    "consents:patient_detail": "患者のページ",
    "consents:consent_detail": "同意書",
    "consents:consent_scan": "同意書の画像",
    "consents:patient_request_detail": "ご本人からの請求",
    "groups:detail": "患者グループのページ",
}
# Every opening of the patient's details, and a custodian's opening of a record whose care has
# ended (with its purpose: 留意事項 医療介護情報の取り扱い (2)).
ACCESS_ACTIONS = ("patient.view", "patient.open_record")
CLOSED_RECORD_PAGE = "終了した記録の閲覧"


def _day(value) -> dict:
    """A date both ways: ISO for the machine-readable file, the Japanese era for the page."""
    if value is None:
        return {"iso": "", "wareki": ""}
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return {"iso": value.isoformat(), "wareki": wareki(value)}


def _facilities_at(user_ids: set[int]) -> dict[int, list[FacilityMembership]]:
    by_user: dict[int, list[FacilityMembership]] = {}
    memberships = FacilityMembership.objects.filter(user_id__in=user_ids).select_related("facility")
    for membership in memberships.order_by("started_at", "pk"):
        by_user.setdefault(membership.user_id, []).append(membership)
    return by_user


def _facility_of(memberships: list[FacilityMembership], moment) -> str:
    """The facility (or facilities) where the person worked at that moment."""
    at = [
        m.facility.name
        for m in memberships
        if m.started_at <= moment and (m.ended_at is None or m.ended_at > moment)
    ]
    if not at:  # joined later than the moment recorded (a bulk registration's date)
        at = [m.facility.name for m in memberships if m.is_active] or [
            m.facility.name for m in memberships
        ]
    return "、".join(dict.fromkeys(at)) or "（不明）"


def _people(user_ids: set[int]) -> tuple[dict[int, str], dict[int, list]]:
    users = User.objects.filter(pk__in=user_ids)
    occupations = {user.pk: str(user.get_occupation_display()) for user in users}
    return occupations, _facilities_at(user_ids)


def _patient(patient: Patient) -> dict:
    return {
        "number": patient.pk,
        "name": patient.name,
        "kana": patient.kana,
        "birth_date": _day(patient.birth_date),
        "sex": str(patient.get_sex_display()) if patient.sex else "",
        "address": patient.address,
        "phone": patient.phone,
        "registered_by_facility": patient.facility.name,
        "registered_on": _day(patient.created_at),
    }


def _consents(patient: Patient) -> list[dict]:
    rows = []
    consents = (
        Consent.objects.filter(patient=patient)
        .select_related("explainer_facility")
        .prefetch_related("covered_facilities")
        .order_by("signed_on", "pk")
    )
    for consent in consents:
        rows.append(
            {
                "number": consent.pk,
                "status": str(consent.get_status_display()),
                "signed_on": _day(consent.signed_on),
                # 別紙7: which wording of the consent was signed.
                "text_version": getattr(consent, "text_version", ""),
                "signer": str(consent.get_signer_kind_display()),
                "signer_relationship": consent.signer_relationship,
                "explained_by_facility": consent.explainer_facility.name,
                "covered_facilities": sorted(f.name for f in consent.covered_facilities.all()),
                "academic_use": consent.academic_use,
                "withdrawn_on": _day(consent.withdrawn_on),
            }
        )
    return rows


def _groups(patient: Patient) -> list[dict]:
    groups = list(
        Group.objects.filter(patient=patient).select_related("facility").order_by("created_at")
    )
    memberships = list(
        Membership.objects.filter(group__in=groups).order_by("group_id", "invited_at", "pk")
    )
    occupations, facilities = _people({m.user_id for m in memberships})
    rows = []
    for group in groups:
        members = [
            {
                "facility": _facility_of(facilities.get(m.user_id, []), m.invited_at),
                "occupation": occupations.get(m.user_id, ""),
                "state": str(m.get_state_display()),
                "invited_on": _day(m.invited_at),
                "joined_on": _day(m.responded_at if m.state != "invited" else None),
                "ended_on": _day(m.ended_at),
            }
            for m in memberships
            if m.group_id == group.pk
        ]
        rows.append(
            {
                "number": group.pk,
                "state": str(group.get_state_display()),
                "managing_facility": group.facility.name if group.facility else "",
                "created_on": _day(group.created_at),
                "archived_on": _day(group.archived_at),
                "end_reason": str(group.get_end_reason_display()) if group.end_reason else "",
                "member_facilities": sorted({member["facility"] for member in members}),
                "members": members,
            }
        )
    return rows


def access_events(patient: Patient) -> QuerySet[AuditTrail]:
    """The access log of the patient's pages (national guideline, via 第3条): sealed into the
    audit chain or still waiting for the seal (mcnet.audit), every opening up to now."""
    return AuditTrail.objects.filter(
        object_type="consents.patient", object_id=str(patient.pk), action__in=ACCESS_ACTIONS
    ).order_by("created_at", "id")


def _accesses(patient: Patient) -> list[dict]:
    events = list(access_events(patient).values("created_at", "actor_id", "action", "changes"))
    occupations, facilities = _people({e["actor_id"] for e in events if e["actor_id"]})
    rows = []
    for event in events:
        moment = event["created_at"]
        actor_id = event["actor_id"]
        via = (event["changes"] or {}).get("via", "")
        rows.append(
            {
                "date": _day(moment),
                "time": timezone.localtime(moment).strftime("%H:%M"),
                "facility": (
                    _facility_of(facilities.get(actor_id, []), moment)
                    if actor_id
                    else "（削除されたアカウント）"
                ),
                "occupation": occupations.get(actor_id, ""),
                "page": (
                    CLOSED_RECORD_PAGE
                    if event["action"] == "patient.open_record"
                    else PAGE_LABELS.get(via, via)
                ),
            }
        )
    return rows


def custodian(patient_request: PatientRequest) -> dict:
    facility = patient_request.facility
    return {
        "name": facility.name,
        "postal_code": facility.postal_code,
        "address": facility.address,
        "phone": facility.phone,
    }


def request_fields(patient_request: PatientRequest) -> dict:
    return {
        "number": patient_request.pk,
        "kind": str(patient_request.get_kind_display()),
        "kind_code": patient_request.kind,
        "requester": str(patient_request.get_requester_kind_display()),
        "requester_name": patient_request.requester_name,
        "requester_relationship": patient_request.requester_relationship,
        "received_on": _day(patient_request.received_on),
    }


def for_request(patient_request: PatientRequest) -> dict:
    """§33: the package for one request (the custodian asked for it after the identity check)."""
    patient = patient_request.patient
    today = timezone.localdate()
    return form(
        "disclosure",
        format="mcnet-disclosure/1",
        prepared_on=_day(today),
        request=request_fields(patient_request),
        custodian=custodian(patient_request),
        patient=_patient(patient),
        consents=_consents(patient),
        groups=_groups(patient),
        accesses=_accesses(patient),
    )


def blank() -> dict:
    return form(
        "disclosure",
        format="mcnet-disclosure/1",
        prepared_on=_day(None),
        request={},
        custodian={},
        patient={},
        consents=[],
        groups=[],
        accesses=[],
    )


def request_label(patient_request: PatientRequest) -> str:
    return f"請求 #{patient_request.pk}"


TARGETS = (
    Target(
        model="consents.PatientRequest",
        visible_to=patient_requests_printable_by,
        context=for_request,
        label=request_label,
    ),
)
