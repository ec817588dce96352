"""What each form prints, as plain JSON-able values (strings, booleans, lists).

A document stores the context it was requested with and its hash is the document's version:
rendering it again gives the same PDF, and a change in the data gives a new document. Dates
are formatted here, in the Japanese era; a missing value prints as a blank to fill in by hand.
"""

from mcnet.rulebook import text as rule_texts
from mcnet.wareki import wareki

from . import samples
from .forms.base import (
    CONSENT_COPIES,
    CONSENT_TEXT_VERSION,
    rule_text,
)
from .forms.base import form as _form
from .forms.base import pick as _pick
from .forms.base import text as _text

# Lines left to write facility names by hand on a blank 別紙7 or addendum.
COVERED_MIN_ROWS = 4


# --- 別紙5–7: what the patient is given and signs (第9条) -----------------------------------
def besshi5(*, date=None) -> dict:
    rules = rule_text("besshi5", on=date)
    pages = [rule_texts.sections(page) for page in rule_texts.pages(rules.pop("blocks"))]
    return _form("besshi5", rules=rules, pages=pages)


def besshi6(*, date=None) -> dict:
    # Dated the day its version took effect (version 1: 令和3年9月1日, 附則).
    rules = rule_text("besshi6", on=date)
    return _form("besshi6", rules=rules, policy_date=rules["effective_on"])


def _facility_rows(facilities, minimum: int = 0) -> list[dict]:
    rows = [_pick(f, ("name", "kind", "phone")) for f in facilities or []]
    return rows + [{"name": "", "kind": "", "phone": ""} for _ in range(minimum - len(rows))]


def besshi7(
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
    return _form(
        "besshi7",
        rules=rule_text("besshi7", on=date, version=version),
        copies=list(CONSENT_COPIES),
        patient=_pick(patient, ("name", "address")),
        family=_pick(family, ("name", "relationship")),
        explainer=_pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
        covered=_facility_rows(covered, 0 if covered else COVERED_MIN_ROWS),
        academic_use=academic_use,
        text_version=_text(text_version),
    )


def besshi7_addendum(
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
    """追加同意書: the facilities the patient agrees to add to a signed 別紙7, on a page of
    its own, in the same two copies."""
    return _form(
        "besshi7_addendum",
        copies=list(CONSENT_COPIES),
        patient=_pick(patient, ("name", "address")),
        consent_date=wareki(consent_date),
        covered=_facility_rows(covered),
        added=_facility_rows(added, 0 if added else COVERED_MIN_ROWS),
        explainer=_pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
        text_version=_text(text_version),
        number=_text(number),
    )


def academic_use(
    *,
    patient: dict | None = None,
    explainer: dict | None = None,
    date=None,
    withdrawn_on=None,
    text_version: str = CONSENT_TEXT_VERSION,
) -> dict:
    """学術利用についての同意書 (留意事項 医療介護情報の取り扱い (3)): separate from the care
    consent, with a withdrawal part of its own."""
    return _form(
        "academic_use",
        copies=list(CONSENT_COPIES),
        patient=_pick(patient, ("name", "address")),
        explainer=_pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
        withdrawn_on=wareki(withdrawn_on) if withdrawn_on else "",
        text_version=_text(text_version),
    )


def team_notice(*, patient: dict | None = None, team=(), date=None, manager: dict | None = None):
    """「あなたの支援チーム」 (別紙5 (2)): the facilities and professions in the patient's
    team, dated, for the patient and family."""
    return _form(
        "team_notice",
        patient=_pick(patient, ("name",)),
        team=[
            {
                **_pick(entry, ("name", "kind", "phone")),
                "professions": [_text(p) for p in entry.get("professions", [])],
            }
            for entry in team or []
        ],
        date=wareki(date),
        manager=_pick(manager, ("name", "facility", "phone")),
    )


# --- blank and sample versions of every form ---------------------------------------------
BLANK = {
    "besshi5": besshi5,
    "besshi6": besshi6,
    "besshi7": besshi7,
    "besshi7_addendum": besshi7_addendum,
    "academic_use": academic_use,
    "team_notice": team_notice,
}


def sample(code: str) -> dict:
    """The form filled with the made-up data of samples.py."""
    day = samples.SAMPLE_DATE
    if code == "besshi7":
        return besshi7(
            patient=samples.PATIENT,
            family=samples.FAMILY,
            explainer=samples.EXPLAINER,
            date=day,
            covered=samples.COVERED,
            academic_use=True,
        )
    if code == "besshi7_addendum":
        return besshi7_addendum(
            patient=samples.PATIENT,
            consent_date=samples.SAMPLE_CONSENT_DATE,
            covered=samples.COVERED,
            added=samples.ADDED,
            explainer=samples.EXPLAINER,
            date=day,
            number="1",
        )
    if code == "team_notice":
        return team_notice(
            patient=samples.PATIENT, team=samples.TEAM, date=day, manager=samples.EXPLAINER
        )
    if code == "academic_use":
        return academic_use(patient=samples.PATIENT, explainer=samples.EXPLAINER, date=day)
    return BLANK[code]()
