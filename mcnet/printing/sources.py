"""Where the forms' data comes from in the other apps, and who may print it.

Facilities (別紙1–4) are read here from facilities' models; the patient's consent (別紙7) and
the take-out request (第12条(9)) are gathered by their own apps' selectors, imported plainly
(printing sits above every app). Every function returns plain values for `contexts`.
"""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from consents import selectors as consent_selectors
from consents.models import active_consent_q
from facilities.models import Facility
from groups import selectors as group_selectors
from groups import services as group_services

from . import contexts
from .forms.base import patient_label, signed_label
from .targets import Target

# --- 別紙7: the consent (consents app, 第9条) ------------------------------------------------
# Printed for a recorded consent (its two copies, filled from the record) or for a patient
# whose consent is still to be obtained (pending: name and address filled, to be signed).
# Who may print them is who handles the paper: consents.selectors' managers of the patient —
# never the center (別紙5 (2): only the facilities involved see a patient's information).


def _consents_printable_by(user) -> QuerySet:
    return consent_selectors.consents_managed_by(user).filter(
        erased_at__isnull=True, patient__erased_at__isnull=True
    )


def _patients_printable_by(user) -> QuerySet:
    return consent_selectors.patients_managed_by(user).filter(erased_at__isnull=True)


def _explainer_of(facility) -> dict:
    return {"facility": facility.name, "phone": facility.phone, "name": ""}


def _facility_row(facility) -> dict:
    return {"name": facility.name, "kind": facility.get_kind_display(), "phone": facility.phone}


def _covered_by_signature(consent) -> list:
    """The facilities the 別紙7 itself covers: those added later print on their addenda."""
    added = consent.addenda.filter(state="signed").values("facilities")
    return list(consent.covered_facilities.exclude(pk__in=added).order_by("name"))


def besshi7_for_consent(consent) -> dict:
    patient = consent.patient
    proxy = consent.signer_kind != "patient"
    return contexts.besshi7(
        covered=[_facility_row(f) for f in _covered_by_signature(consent)],
        academic_use=bool(consent.academic_use),
        text_version=consent.text_version,
        version=consent.rule_version,
        patient={"name": patient.name, "address": patient.address},
        family=(
            {"name": consent.signer_name, "relationship": consent.signer_relationship}
            if proxy
            else None
        ),
        explainer={
            "facility": consent.explainer_facility.name,
            "phone": consent.explainer_phone or consent.explainer_facility.phone,
            "name": consent.explainer_name,
        },
        date=consent.signed_on,
    )


def besshi7_for_patient(patient) -> dict:
    """The consent to be signed: the patient and the registering facility filled in; the
    date, the signatures and the explainer's name are written on the paper."""
    return contexts.besshi7(
        patient={"name": patient.name, "address": patient.address},
        explainer=_explainer_of(patient.facility),
    )


def besshi7_addendum_for(addendum) -> dict:
    consent = addendum.consent
    added = list(addendum.facilities.order_by("name"))
    covered = consent.covered_facilities.exclude(pk__in=[f.pk for f in added]).order_by("name")
    return contexts.besshi7_addendum(
        patient={"name": consent.patient.name, "address": consent.patient.address},
        consent_date=consent.signed_on,
        covered=[_facility_row(f) for f in covered],
        added=[_facility_row(f) for f in added],
        explainer={
            "facility": consent.explainer_facility.name,
            "phone": consent.explainer_phone or consent.explainer_facility.phone,
            "name": "",
        },
        date=addendum.signed_on,
        text_version=addendum.text_version,
        number=str(addendum.pk),
    )


def academic_use_for_record(record) -> dict:
    patient = record.patient
    return contexts.academic_use(
        patient={"name": patient.name, "address": patient.address},
        explainer=_explainer_of(patient.facility),
        date=record.signed_on,
        withdrawn_on=record.withdrawn_on,
        text_version=record.text_version,
    )


def academic_use_for_patient(patient) -> dict:
    return contexts.academic_use(
        patient={"name": patient.name, "address": patient.address},
        explainer=_explainer_of(patient.facility),
    )


def besshi7_addendum_targets() -> tuple:
    return (
        Target(
            model="consents.ConsentAddendum",
            visible_to=lambda user: consent_selectors.addenda_printable_by(user).filter(
                consent__patient__erased_at=None
            ),
            context=besshi7_addendum_for,
            label=signed_label(gettext_lazy("%(date)sの追加同意")),
        ),
    )


def academic_use_targets() -> tuple:
    return (
        Target(
            model="consents.AcademicUseConsent",
            visible_to=lambda user: consent_selectors.academic_consents_managed_by(user).filter(
                patient__erased_at=None
            ),
            context=academic_use_for_record,
            label=signed_label(gettext_lazy("%(date)sの同意")),
        ),
        Target(
            model="consents.Patient",
            visible_to=_patients_printable_by,
            context=academic_use_for_patient,
            label=patient_label,
        ),
    )


def besshi7_targets() -> tuple:
    return (
        Target(
            model="consents.Consent",
            visible_to=_consents_printable_by,
            context=besshi7_for_consent,
            label=signed_label(gettext_lazy("%(date)sの同意")),
        ),
        Target(
            model="consents.Patient",
            visible_to=_patients_printable_by,
            context=besshi7_for_patient,
            label=patient_label,
        ),
    )


def _pending_consent_facilities(user) -> QuerySet:
    return (
        consent_selectors.registering_facilities_of(user)
        if getattr(user, "is_authenticated", False)
        else Facility.objects.none()
    )


def _patients_pending_consent(user, facility) -> QuerySet:
    """The facility's patients with no valid consent yet: their 別紙7 are to be signed."""
    return (
        _patients_printable_by(user)
        .filter(facility=facility)
        .exclude(active_consent_q("consents__"))
        .select_related("facility")
        .order_by("kana", "pk")
    )


def consent_batches(batch_class) -> list:
    """Every pending 別紙7 of a facility, for its patient-group managers."""
    return [
        batch_class(
            key="besshi7-pending",
            form_code="besshi7",
            title="同意書（別紙7）の未取得者",
            item_model="consents.Patient",
            scope_model="facilities.Facility",
            scopes_for=_pending_consent_facilities,
            items=_patients_pending_consent,
        )
    ]


# --- 「あなたの支援チーム」 (groups app, 別紙5 (2)) -----------------------------------------------


def team_notice_for_group(group) -> dict:
    manager = group.manager
    return contexts.team_notice(
        patient={"name": group.patient.name},
        team=group_selectors.team_of(group),
        date=timezone.localdate(),
        manager={
            "name": getattr(manager, "name", "") or "",
            "facility": group.facility.name if group.facility_id else "",
            "phone": group.facility.phone if group.facility_id else "",
        },
    )


def _record_team_notice(actor, group) -> None:
    group_services.team_notice_record(actor=actor, group=group)


def team_notice_targets() -> tuple:
    return (
        Target(
            model="groups.Group",
            visible_to=lambda user: group_selectors.team_notice_groups_for(user).select_related(
                "patient", "facility"
            ),
            context=team_notice_for_group,
            label=lambda group: f"No.{group.pk}",
            on_request=_record_team_notice,
        ),
    )
