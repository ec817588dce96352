"""Reads of the consents app, scoped to the asking user.

A patient is visible to (1) the accepted members of one of the patient's groups — the
`groups.access_group` grant — and (2) the patient-group managers of the facility that
registered them — the `facilities.register_patients` grant — who explain, record consent and
create the group before any group exists (第8条, 第9条). Nobody else: not an invitee, not the
center, not another facility's administrator (別紙5 (2)). Both facts are read from the guardian
grant tables, and the rule itself is consents.permissions (patients_visible_q,
patients_managed_q), so lists and single-object checks cannot disagree.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from facilities.models import Facility
from mcnet.selectors import first_or_404
from mcnet.text import nfkc, normalize_kana

from .models import (
    AcademicUseConsent,
    Consent,
    ConsentAddendum,
    Patient,
    PatientRequest,
    active_consent_q,
)
from .permissions import (
    care_ended_q,
    custodian_q,
    out_of_care_q,
    patient_groups,
    patients_managed_q,
    patients_visible_q,
    registering_facility_ids,
)


def registering_facilities_of(user) -> QuerySet:
    """Facilities where the user may register patients (patient-group manager, 第8条)."""
    if not user.is_authenticated:
        return Facility.objects.none()
    return Facility.objects.filter(pk__in=registering_facility_ids(user))


def patients_visible_to(user) -> QuerySet[Patient]:
    """Patients whose details the user may see (see the module docstring). Once care has
    ended, only a custodian who gave a purpose (consents.permissions)."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    return Patient.objects.filter(patients_visible_q(user))


def patients_managed_by(user) -> QuerySet[Patient]:
    """Patients whose record and consent the user may change: a patient-group manager of the
    registering facility, or the manager of the patient's group."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    return Patient.objects.filter(patients_managed_q(user))


def closed_record_for_custodian(user, pk: int) -> Patient:
    """A record whose care has ended, for one of its custodians (to ask the purpose of the
    opening); 404 for everyone else, as if it did not exist."""
    if not user.is_authenticated or not user.is_active:
        raise Http404
    return first_or_404(
        Patient.objects.filter(care_ended_q() & custodian_q(user))
        .filter(pk=pk)
        .select_related("facility")
    )


def patient_for_viewer(user, pk: int) -> Patient:
    # 404, not 403: whether the patient exists is not the asker's business
    return first_or_404(patients_visible_to(user).select_related("facility").filter(pk=pk))


def patient_for_manager(user, pk: int) -> Patient:
    return first_or_404(patients_managed_by(user).select_related("facility").filter(pk=pk))


def consents_managed_by(user) -> QuerySet[Consent]:
    """Consents (and their scans) are for those who handle the paper: the managers above.
    Supporters see only that a valid consent exists, on the group's page."""
    return Consent.objects.filter(patient__in=patients_managed_by(user))


def consent_for_manager(user, pk: int) -> Consent:
    return first_or_404(
        consents_managed_by(user)
        .select_related("patient", "patient__facility", "explainer_facility", "recorded_by")
        .filter(pk=pk)
    )


def addendum_for_manager(user, pk: int) -> ConsentAddendum:
    return first_or_404(
        ConsentAddendum.objects.filter(consent__in=consents_managed_by(user), pk=pk).select_related(
            "consent", "consent__patient"
        )
    )


def addenda_printable_by(user) -> QuerySet[ConsentAddendum]:
    """追加同意書 to print: those of consents the user handles, not erased."""
    return ConsentAddendum.objects.filter(
        consent__in=consents_managed_by(user), erased_at__isnull=True
    ).exclude(state=ConsentAddendum.State.CANCELLED)


def academic_consents_managed_by(user) -> QuerySet[AcademicUseConsent]:
    return AcademicUseConsent.objects.filter(
        patient__in=patients_managed_by(user), erased_at__isnull=True
    )


def academic_consent_for_manager(user, pk: int) -> AcademicUseConsent:
    return first_or_404(academic_consents_managed_by(user).select_related("patient").filter(pk=pk))


def active_academic_consent_of(patient: Patient) -> AcademicUseConsent | None:
    return patient.academic_consents.filter(status=AcademicUseConsent.Status.ACTIVE).first()


def pending_addendum_facility_ids(patient_id: int) -> set[int]:
    """Facilities named on an addendum of the patient's valid consent not yet signed."""
    return set(
        ConsentAddendum.objects.filter(
            active_consent_q("consent__"),
            consent__patient_id=patient_id,
            state=ConsentAddendum.State.PENDING,
        ).values_list("facilities", flat=True)
    )


def active_consent_of(patient: Patient) -> Consent | None:
    return patient.consents.active().first()


# The patient list's filters: patients in care (the default), those whose care has ended.
IN_CARE, OUT_OF_CARE = "current", "ended"


# The patient list's sort orders: a `sort` parameter not named here keeps the default (kana).
PATIENT_SORTS = {
    "kana": ("kana", "pk"),
    "-kana": ("-kana", "-pk"),
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
}


def patient_list_for(
    user, *, query: str = "", care: str = "", sort: str = "kana"
) -> QuerySet[Patient]:
    """The patients the user sees; `care` IN_CARE or OUT_OF_CARE keeps one side only. Each
    carries `in_care` and `has_active_consent` (a consent still valid on paper does not make
    an ended patient's care current)."""
    patients = patients_visible_to(user).filter(erased_at__isnull=True)
    if query:
        patients = patients.filter(
            Q(name__contains=nfkc(query)) | Q(kana__contains=normalize_kana(query))
        )
    if care == IN_CARE:
        patients = patients.exclude(out_of_care_q())
    elif care == OUT_OF_CARE:
        patients = patients.filter(out_of_care_q())
    return (
        patients.select_related("facility")
        .annotate(
            has_active_consent=Exists(Consent.objects.active().filter(patient=OuterRef("pk"))),
            in_care=~out_of_care_q(),
        )
        .order_by(*PATIENT_SORTS.get(sort, PATIENT_SORTS["kana"]))
    )


def home_section(user) -> dict | None:
    """Patient-group managers get a link to their patients on the home page (counted: those
    in care only); custodians, the patients' own requests still to answer, nearest deadline
    first (個人情報保護法 §33–35)."""
    if not user.is_authenticated:
        return None
    open_requests = list(patient_request_list_for(user)[:5])
    if not registering_facilities_of(user).exists():
        return {"open_requests": open_requests, "registers": False} if open_requests else None
    return {
        "patient_count": patient_list_for(user, care=IN_CARE).count(),
        "open_requests": open_requests,
        "registers": True,
    }


def explainer_facilities_for(user, patient: Patient) -> QuerySet[Facility]:
    """Who explained the consent (別紙7 ＜説明した人＞): the recorder's facilities, or the
    patient's."""
    return (
        Facility.objects.filter(
            Q(memberships__user=user, memberships__is_active=True) | Q(pk=patient.facility_id)
        )
        .distinct()
        .order_by("name")
    )


def facilities_in_care_of(patient: Patient) -> QuerySet[Facility]:
    """The facilities a new consent (別紙7) covers unless unticked: those already in the
    patient's care — the facility holding the record, those covered by the patient's earlier
    consents and signed addenda, and those through which the people of the patient's care team
    (its groups not archived, members and invitees) came. With no care team, the facility
    holding the record alone. Active ones only; any other is found by search."""
    consents = Consent.objects.filter(patient=patient)
    earlier = Q(pk__in=consents.values("covered_facilities")) | Q(
        pk__in=ConsentAddendum.objects.filter(
            consent__patient=patient, state=ConsentAddendum.State.SIGNED
        ).values("facilities")
    )
    team = patient_groups().care_team_facility_ids(patient)
    return (
        Facility.objects.filter(earlier | Q(pk=patient.facility_id) | Q(pk__in=team))
        .filter(state=Facility.State.ACTIVE)
        .distinct()
        .order_by("name")
    )


# --- 別紙6 ご本人の照会: the patient's own requests (個人情報保護法 §33–35) ----------------------
# The custodians of a patient's record answer them (第6条 (1); 留意事項 医療介護情報の取り扱い
# (2)): consents.permissions.custodian_q — the MCS administrators of the facility holding it
# and the managers of the patient's groups, archived ones included. Nobody else — not another
# facility, not the center.


def patients_in_custody_of(user) -> QuerySet[Patient]:
    """Patients for whom the user may receive and answer a request (see above)."""
    if not user.is_authenticated or not user.is_active or user.is_center_staff:
        return Patient.objects.none()
    return Patient.objects.filter(custodian_q(user))


def patient_for_custodian(user, pk: int) -> Patient:
    return first_or_404(
        patients_in_custody_of(user)
        .filter(pk=pk, erased_at__isnull=True)
        .select_related("facility")
    )


def patient_requests_handled_by(user) -> QuerySet[PatientRequest]:
    """The requests the user may see and answer: those of the patients in their custody."""
    if not user.is_authenticated or not user.is_active or user.is_center_staff:
        return PatientRequest.objects.none()
    return PatientRequest.objects.filter(patient__in=patients_in_custody_of(user))


def patient_request_for(user, pk: int) -> PatientRequest:
    # 404: whether the request exists is not the asker's business
    return first_or_404(
        patient_requests_handled_by(user)
        .select_related("patient", "facility", "identity_checked_by", "received_by")
        .filter(pk=pk)
    )


# The request list's sort orders: a `sort` parameter not named here keeps the default (due).
PATIENT_REQUEST_SORTS = {
    "due": ("due_on", "pk"),
    "-due": ("-due_on", "-pk"),
    "newest": ("-received_on", "-pk"),
    "oldest": ("received_on", "pk"),
}


def patient_request_list_for(
    user, *, state: str = "open", query: str = "", sort: str = "due"
) -> QuerySet[PatientRequest]:
    """The requests the user handles; `query` finds them by the patient's name or kana."""
    requests = patient_requests_handled_by(user).select_related("patient", "facility")
    if state == "open":
        requests = requests.filter(state__in=PatientRequest.OPEN_STATES)
    elif state == "closed":
        requests = requests.filter(state__in=PatientRequest.CLOSED_STATES)
    if query:
        requests = requests.filter(
            Q(patient__name__contains=nfkc(query))
            | Q(patient__kana__contains=normalize_kana(query))
        )
    return requests.order_by(*PATIENT_REQUEST_SORTS.get(sort, PATIENT_REQUEST_SORTS["due"]))


def patient_requests_overdue(*, today) -> QuerySet[PatientRequest]:
    """Open requests past their due date (「遅滞なく」), for the reminders and the center's
    counts."""
    return PatientRequest.objects.filter(state__in=PatientRequest.OPEN_STATES, due_on__lt=today)


def patient_request_counts(*, today) -> dict:
    """What the center may know of the requests: numbers only, never whose or what (別紙5 (2))."""
    from django.db.models import Count

    open_q = Q(state__in=PatientRequest.OPEN_STATES)
    totals = PatientRequest.objects.aggregate(
        open=Count("pk", filter=open_q),
        overdue=Count("pk", filter=open_q & Q(due_on__lt=today)),
        answered=Count("pk", filter=Q(state__in=PatientRequest.CLOSED_STATES)),
    )
    by_facility = list(
        PatientRequest.objects.filter(open_q)
        .values("facility_id", "facility__name")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
        .order_by("-overdue", "facility__name")
    )
    return {**totals, "by_facility": by_facility}
