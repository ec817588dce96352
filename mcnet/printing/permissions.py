"""Who may print which papers, where no app below already answers it.

A facility's papers (別紙1–4) go to the center (第4条), which receives them all; at a facility
they are printed by those who sign them (事業所管理者) or keep its staff list (MCS管理者,
第6条(4)). A patient's papers (別紙7, its addenda, the academic-use consent) are printed by who handles
them, consents.selectors' managers of the patient — never the center (別紙5 (2): only the
facilities involved see a patient's information) — and never once the patient is erased.
The other forms ask the owning app's selector (groups, devices, facilities).
"""

from django.db.models import QuerySet

from consents import selectors as consent_selectors
from consents.models import (
    AcademicUseConsent,
    Consent,
    ConsentAddendum,
    Patient,
    PatientRequest,
)
from enrollment import selectors as enrollment_selectors
from enrollment.models import Application, ChangeNotice, RosterRequest
from facilities.models import Facility
from facilities.permissions import facility_ids_with

FACILITY_FORM_GRANTS = ("sign_for_facility", "manage_staff")


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def facilities_printable_by(user) -> QuerySet[Facility]:
    if not _signed_in(user):
        return Facility.objects.none()
    if user.is_center_staff:
        return Facility.objects.all()
    return Facility.objects.filter(
        pk__in=facility_ids_with(user, *FACILITY_FORM_GRANTS, while_restricted=True)
    )


def _center_or(user, every: QuerySet, own: QuerySet) -> QuerySet:
    if not _signed_in(user):
        return every.none()
    return every if user.is_center_staff else own


def applications_printable_by(user) -> QuerySet[Application]:
    """別紙1・別紙2 as filed."""
    own = Application.objects.filter(facility__in=facilities_printable_by(user))
    return _center_or(user, Application.objects.all(), own)


def rosters_printable_by(user) -> QuerySet[RosterRequest]:
    """別紙3 as filed."""
    return _center_or(
        user, RosterRequest.objects.all(), enrollment_selectors.roster_requests_for(user)
    )


def notices_printable_by(user) -> QuerySet[ChangeNotice]:
    """別紙4 as filed."""
    return _center_or(user, ChangeNotice.objects.all(), enrollment_selectors.notices_for(user))


def consents_printable_by(user) -> QuerySet[Consent]:
    return consent_selectors.consents_managed_by(user).filter(
        erased_at__isnull=True, patient__erased_at__isnull=True
    )


def patients_printable_by(user) -> QuerySet[Patient]:
    return consent_selectors.patients_managed_by(user).filter(erased_at__isnull=True)


def addenda_printable_by(user) -> QuerySet[ConsentAddendum]:
    return consent_selectors.addenda_printable_by(user).filter(consent__patient__erased_at=None)


def academic_consents_printable_by(user) -> QuerySet[AcademicUseConsent]:
    return consent_selectors.academic_consents_managed_by(user).filter(patient__erased_at=None)


def patient_requests_printable_by(user) -> QuerySet[PatientRequest]:
    """別紙6: only the custodians, only while the patient's data exists, and nothing about the
    patient for an asker whose identity was not checked."""
    return (
        consent_selectors.patient_requests_handled_by(user)
        .filter(patient__erased_at__isnull=True)
        .exclude(identity_document="")
    )
