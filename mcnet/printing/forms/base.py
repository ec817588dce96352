"""What every form's context shares, as plain JSON-able values (strings, booleans, lists).

A document stores the context it was requested with and its hash is the document's version:
rendering it again gives the same PDF, and a change in the data gives a new document. Dates
are formatted in the Japanese era; a missing value prints as a blank to fill in by hand.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext

from mcnet.models import NetworkSettings
from mcnet.rulebook import text as rule_texts
from mcnet.rulebook.selectors import version_in_force
from mcnet.wareki import wareki

from ..permissions import facilities_printable_by, patients_printable_by
from ..targets import Target

# What the forms print of the network (NetworkSettings): never written into a template.
NETWORK_FIELDS = (
    "name",
    "operator",
    "operator_head_title",
    "center_name",
    "center_postal_code",
    "center_address",
    "center_phone",
    "center_fax",
    "center_email",
    "center_hours",
    "center_contact_person",
    "region_name",
)
# 別紙1–4's facility block.
FACILITY_FIELDS = (
    "name",
    "postal_code",
    "address",
    "phone",
    "kind",
    "manager_name",
    "manager_email",
)
# Lines left to write facility names by hand on a blank 別紙7 or addendum.
COVERED_MIN_ROWS = 4
# 別紙7 is printed twice: one copy stays with the facility, one goes to the patient.
CONSENT_COPIES = ("事業所控え", "本人控え")
# The version of the 別紙7 wording these templates print (consents.models keeps the same
# string on each signed consent).
CONSENT_TEXT_VERSION = "2021-09-01"


def network_context() -> dict:
    network = NetworkSettings.load()
    return {field: str(getattr(network, field, "") or "") for field in NETWORK_FIELDS}


def text(value) -> str:
    return "" if value is None else str(value)


def pick(data: dict | None, fields) -> dict:
    data = data or {}
    return {field: data.get(field, "") for field in fields}


def rows(values, fields, minimum: int) -> list[dict]:
    """The rows picked to `fields`, then empty ones to fill in by hand up to `minimum`."""
    picked = [pick(row, fields) for row in values or []]
    blank = dict.fromkeys(fields, "")
    return picked + [dict(blank) for _ in range(max(0, minimum - len(picked)))]


def form(code: str, **values) -> dict:
    return {"form_code": code, "network": network_context(), **values}


def day(value) -> dt.date | None:
    if isinstance(value, dt.datetime):  # the network's day, not UTC's (after 15:00 UTC)
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def local_day(moment: dt.datetime | None) -> dt.date | None:
    """The network's day of a stored moment (Asia/Tokyo), or None."""
    return timezone.localdate(moment) if moment else None


def rule_text(document: str, *, on=None, version=None) -> dict:
    """The text of `document` a form prints (第15条): the version given (the one agreed to),
    else the version in force on the form's date (today for a blank form), its placeholders
    filled from the network settings."""
    version = version or version_in_force(document, on=day(on))
    return {
        "document": document,
        "number": version.number,
        "effective_on": wareki(version.effective_on),
        "blocks": rule_texts.fill(version.blocks, network_context()),
    }


def facility_fields(facility, *, manager_name: str | None = None) -> dict:
    """別紙1–4's facility block, from a facility or an application (the facility as applied);
    `manager_name`: who signs this paper, when not the facility's manager."""
    return {
        "name": getattr(facility, "facility_name", None) or facility.name,
        "postal_code": facility.postal_code,
        "address": facility.address,
        "phone": facility.phone,
        "kind": str(facility.get_kind_display()),
        "manager_name": facility.manager_name if manager_name is None else manager_name,
        "manager_email": facility.manager_email,
    }


def facility_row(facility) -> dict:
    return {"name": facility.name, "kind": facility.get_kind_display(), "phone": facility.phone}


def facility_rows(facilities, minimum: int = 0) -> list[dict]:
    """The facilities a patient's paper lists (name, kind, phone), then empty lines."""
    picked = [pick(f, ("name", "kind", "phone")) for f in facilities or []]
    return picked + [{"name": "", "kind": "", "phone": ""} for _ in range(minimum - len(picked))]


def explainer_of(facility) -> dict:
    """The facility that explains a paper to be signed; the explainer writes their name."""
    return {"facility": facility.name, "phone": facility.phone, "name": ""}


def patient_fields(patient) -> dict:
    return {"name": patient.name, "address": patient.address}


def patient_target(for_patient) -> Target:
    """A patient's paper still to be signed (their name and address filled in)."""
    return Target(
        model="consents.Patient",
        visible_to=patients_printable_by,
        context=for_patient,
        label=patient_label,
    )


def facility_paper_targets(*, model: str, visible_to, for_paper, for_facility) -> tuple:
    """別紙1–4 print from the paper as filed (first) or, with no paper, from a facility."""
    return (
        Target(model=model, visible_to=visible_to, context=for_paper, label=filed_label),
        Target(
            model="facilities.Facility", visible_to=facilities_printable_by, context=for_facility
        ),
    )


# --- the PDF's title names the paper, never an internal id (「同意書 #4」) --------------------
def signed_label(words):
    """A signed paper by the day it was signed."""

    def label(paper) -> str:
        if paper.signed_on is None:
            return gettext("未署名")
        return words % {"date": wareki(paper.signed_on)}

    return label


def filed_label(paper) -> str:
    """A filed paper (持ち出し届, 別紙3, 別紙4) by its facility and the day it was filed."""
    filed = wareki(timezone.localdate(paper.created_at))
    facility = getattr(paper, "facility", None)
    name = facility.name if facility is not None else getattr(paper, "facility_name", "")
    return f"{name}・{filed}" if name else filed


def patient_label(patient) -> str:
    return gettext("患者 No.%(pk)s") % {"pk": patient.pk}
