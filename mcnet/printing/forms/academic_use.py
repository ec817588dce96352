"""学術利用についての同意書 (留意事項 医療介護情報の取り扱い (3)): separate from the care
consent, with a withdrawal part of its own, in two copies.

Printed for a recorded academic-use consent or for a patient (to be signed), by the
patient's managers (printing.permissions).
"""

from django.utils.translation import gettext_lazy

from consents.models import AcademicUseConsent, Patient
from mcnet.wareki import wareki

from .. import samples
from ..permissions import academic_consents_printable_by
from ..targets import Target
from .base import (
    CONSENT_COPIES,
    CONSENT_TEXT_VERSION,
    explainer_of,
    form,
    patient_fields,
    patient_target,
    pick,
    signed_label,
    text,
)


def context(
    *,
    patient: dict | None = None,
    explainer: dict | None = None,
    date=None,
    withdrawn_on=None,
    text_version: str = CONSENT_TEXT_VERSION,
) -> dict:
    return form(
        "academic_use",
        copies=list(CONSENT_COPIES),
        patient=pick(patient, ("name", "address")),
        explainer=pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
        withdrawn_on=wareki(withdrawn_on) if withdrawn_on else "",
        text_version=text(text_version),
    )


def for_record(record: AcademicUseConsent) -> dict:
    patient = record.patient
    return context(
        patient=patient_fields(patient),
        explainer=explainer_of(patient.facility),
        date=record.signed_on,
        withdrawn_on=record.withdrawn_on,
        text_version=record.text_version,
    )


def for_patient(patient: Patient) -> dict:
    return context(patient=patient_fields(patient), explainer=explainer_of(patient.facility))


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(patient=samples.PATIENT, explainer=samples.EXPLAINER, date=samples.SAMPLE_DATE)


TARGETS = (
    Target(
        model="consents.AcademicUseConsent",
        visible_to=academic_consents_printable_by,
        context=for_record,
        label=signed_label(gettext_lazy("%(date)sの同意")),
    ),
    patient_target(for_patient),
)
