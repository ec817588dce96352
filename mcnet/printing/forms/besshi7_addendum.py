"""別紙7 追加同意書: the facilities the patient agrees to add to a signed 別紙7, on a page of
its own, in the same two copies.

Printed for an addendum (consents.ConsentAddendum) by who may print it
(printing.permissions).
"""

from django.utils.translation import gettext_lazy

from consents.models import ConsentAddendum
from mcnet.wareki import wareki

from .. import samples
from ..permissions import addenda_printable_by
from ..targets import Target
from .base import (
    CONSENT_COPIES,
    CONSENT_TEXT_VERSION,
    COVERED_MIN_ROWS,
    facility_row,
    facility_rows,
    form,
    patient_fields,
    pick,
    signed_label,
    text,
)


def context(
    *,
    patient: dict | None = None,
    consent_date=None,
    covered=(),
    added=(),
    explainer: dict | None = None,
    date=None,
    text_version: str = CONSENT_TEXT_VERSION,
    number: str = "",
) -> dict:
    return form(
        "besshi7_addendum",
        copies=list(CONSENT_COPIES),
        patient=pick(patient, ("name", "address")),
        consent_date=wareki(consent_date),
        covered=facility_rows(covered),
        added=facility_rows(added, 0 if added else COVERED_MIN_ROWS),
        explainer=pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
        text_version=text(text_version),
        number=text(number),
    )


def for_addendum(addendum: ConsentAddendum) -> dict:
    consent = addendum.consent
    added = list(addendum.facilities.order_by("name"))
    covered = consent.covered_facilities.exclude(pk__in=[f.pk for f in added]).order_by("name")
    return context(
        patient=patient_fields(consent.patient),
        consent_date=consent.signed_on,
        covered=[facility_row(f) for f in covered],
        added=[facility_row(f) for f in added],
        explainer={
            "facility": consent.explainer_facility.name,
            "phone": consent.explainer_phone or consent.explainer_facility.phone,
            "name": "",
        },
        date=addendum.signed_on,
        text_version=addendum.text_version,
        number=str(addendum.pk),
    )


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(
        patient=samples.PATIENT,
        consent_date=samples.SAMPLE_CONSENT_DATE,
        covered=samples.COVERED,
        added=samples.ADDED,
        explainer=samples.EXPLAINER,
        date=samples.SAMPLE_DATE,
        number="1",
    )


TARGETS = (
    Target(
        model="consents.ConsentAddendum",
        visible_to=addenda_printable_by,
        context=for_addendum,
        label=signed_label(gettext_lazy("%(date)sの追加同意")),
    ),
)
