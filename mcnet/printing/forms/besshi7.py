"""別紙7 利用についての同意書 (第9条), in two copies (事業所控え・本人控え).

Printed for a recorded consent (filled from the record, with the wording the patient agreed
to) or for a patient whose consent is still to be obtained (name and address filled, to be
signed), by the patient's managers (printing.permissions); a facility's pending ones print
as one batch (batches).
"""

from django.utils.translation import gettext_lazy

from consents.models import Consent, Patient
from mcnet.wareki import wareki

from .. import samples
from ..permissions import consents_printable_by
from ..targets import Target
from .base import (
    CONSENT_COPIES,
    CONSENT_TEXT_VERSION,
    COVERED_MIN_ROWS,
    explainer_of,
    facility_row,
    facility_rows,
    form,
    patient_fields,
    patient_target,
    pick,
    rule_text,
    signed_label,
    text,
)


def context(
    *,
    patient: dict | None = None,
    family: dict | None = None,
    explainer: dict | None = None,
    date=None,
    covered=(),
    academic_use: bool | None = None,
    text_version: str = CONSENT_TEXT_VERSION,
    version=None,
) -> dict:
    """`covered`: the facilities the consent covers (留意事項 医療介護情報の取り扱い (3)).
    `academic_use`: the separate choice — True, False, or None (left to tick by hand).
    `version`: the version of the wording the patient agreed to (else the one in force)."""
    return form(
        "besshi7",
        rules=rule_text("besshi7", on=date, version=version),
        copies=list(CONSENT_COPIES),
        patient=pick(patient, ("name", "address")),
        family=pick(family, ("name", "relationship")),
        explainer=pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
        covered=facility_rows(covered, 0 if covered else COVERED_MIN_ROWS),
        academic_use=academic_use,
        text_version=text(text_version),
    )


def _covered_by_signature(consent: Consent) -> list:
    """The facilities the 別紙7 itself covers: those added later print on their addenda."""
    added = consent.addenda.filter(state="signed").values("facilities")
    return list(consent.covered_facilities.exclude(pk__in=added).order_by("name"))


def for_consent(consent: Consent) -> dict:
    proxy = consent.signer_kind != "patient"
    return context(
        covered=[facility_row(f) for f in _covered_by_signature(consent)],
        academic_use=bool(consent.academic_use),
        text_version=consent.text_version,
        version=consent.rule_version,
        patient=patient_fields(consent.patient),
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


def for_patient(patient: Patient) -> dict:
    """The consent to be signed: the patient and the registering facility filled in; the
    date, the signatures and the explainer's name are written on the paper."""
    return context(patient=patient_fields(patient), explainer=explainer_of(patient.facility))


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(
        patient=samples.PATIENT,
        family=samples.FAMILY,
        explainer=samples.EXPLAINER,
        date=samples.SAMPLE_DATE,
        covered=samples.COVERED,
        academic_use=True,
    )


TARGETS = (
    Target(
        model="consents.Consent",
        visible_to=consents_printable_by,
        context=for_consent,
        label=signed_label(gettext_lazy("%(date)sの同意")),
    ),
    patient_target(for_patient),
)
