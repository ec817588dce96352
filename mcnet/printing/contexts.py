"""What each form prints, as plain JSON-able values (strings, booleans, lists).

A document stores the context it was requested with and its hash is the document's version:
rendering it again gives the same PDF, and a change in the data gives a new document. Dates
are formatted here, in the Japanese era; a missing value prints as a blank to fill in by hand.
"""

import datetime as dt

from django.utils import timezone

from mcnet.models import NetworkSettings
from mcnet.rulebook import text as rule_texts
from mcnet.rulebook.selectors import version_in_force
from mcnet.wareki import wareki

from . import samples

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
FACILITY_FIELDS = (
    "name",
    "postal_code",
    "address",
    "phone",
    "kind",
    "manager_name",
    "manager_email",
)
STAFF_FIELDS = ("name", "kana", "gender", "occupation", "email", "is_admin", "registered")
CHANGE_FIELDS = ("kana", "name", "occupation", "email", "is_admin", "change")
BESSHI3_MIN_ROWS = 10  # the original leaves empty rows to fill in by hand
BESSHI4_MIN_ROWS = 4
# 別紙7 is printed twice: one copy stays with the facility, one goes to the patient.
CONSENT_COPIES = ("事業所控え", "本人控え")
# The version of the 別紙7 wording these templates print (consents.models keeps the same
# string on each signed consent).
CONSENT_TEXT_VERSION = "2021-09-01"
# Lines left to write facility names by hand on a blank 別紙7 or addendum.
COVERED_MIN_ROWS = 4
CHECKLIST_ITEMS = (
    ("boot_password", "起動時パスワード（英数混合8文字以上）を設定している（第12条(1)）"),
    (
        "no_file_sharing",
        "定められた以外のアプリケーション（ファイル交換ソフト等）を入れていない（第12条(2)）",
    ),
    ("antivirus", "適切なウイルス対策を施している（第12条(3)）"),
    ("browser_no_password", "ブラウザに ID・パスワードを記憶させていない（第12条(4)）"),
    ("screen_lock", "端末にロックをかけている（第11条(6)）"),
    ("mdm_considered", "端末管理・利用者管理（MDM）サービスの利用を検討した（第12条(8)）"),
)


def network_context() -> dict:
    network = NetworkSettings.load()
    return {field: str(getattr(network, field, "") or "") for field in NETWORK_FIELDS}


def _text(value) -> str:
    return "" if value is None else str(value)


def _pick(data: dict | None, fields) -> dict:
    data = data or {}
    return {field: data.get(field, "") for field in fields}


def _rows(rows, fields, minimum: int) -> list[dict]:
    rows = [_pick(row, fields) for row in rows or []]
    blank = dict.fromkeys(fields, "")
    return rows + [dict(blank) for _ in range(max(0, minimum - len(rows)))]


def _form(code: str, **values) -> dict:
    return {"form_code": code, "network": network_context(), **values}


def _day(value) -> dt.date | None:
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


def rule_text(document: str, *, on=None, version=None) -> dict:
    """The text of `document` a form prints (第15条): the version given (the one agreed to),
    else the version in force on the form's date (today for a blank form), its placeholders
    filled from the network settings."""
    version = version or version_in_force(document, on=_day(on))
    return {
        "document": document,
        "number": version.number,
        "effective_on": wareki(version.effective_on),
        "blocks": rule_texts.fill(version.blocks, network_context()),
    }


# --- 別紙1–4: the facility's papers to the center (第4条) ----------------------------------
def besshi1(*, facility: dict | None = None, date=None) -> dict:
    return _form("besshi1", facility=_pick(facility, FACILITY_FIELDS), date=wareki(date))


def besshi2(*, facility: dict | None = None, date=None, version=None) -> dict:
    return _form(
        "besshi2",
        facility=_pick(facility, FACILITY_FIELDS),
        date=wareki(date),
        rules=rule_text("besshi2", on=date, version=version),
    )


def besshi3(*, facility: dict | None = None, staff=(), date=None) -> dict:
    return _form(
        "besshi3",
        facility=_pick(facility, FACILITY_FIELDS),
        staff=_rows(staff, STAFF_FIELDS, BESSHI3_MIN_ROWS),
        date=wareki(date),
    )


def besshi4(
    *, facility: dict | None = None, changes=(), date=None, stop: bool = False, reason: str = ""
) -> dict:
    """`stop`: the facility stops using the network altogether (第4条2 中止), with its reason."""
    return _form(
        "besshi4",
        facility=_pick(facility, FACILITY_FIELDS),
        changes=_rows(changes, CHANGE_FIELDS, BESSHI4_MIN_ROWS),
        date=wareki(date),
        stop=bool(stop),
        reason=_text(reason),
    )


# --- 第7条: the staff member's pledge (従事者誓約書) -----------------------------------------
def staff_pledge(
    *, facility: dict | None = None, staff: dict | None = None, date=None, version=None
) -> dict:
    """Items (1)–(5) of the version given (the one the staff member confirmed), else of the
    version in force on the date (today for a blank pledge), with the facility and the staff
    member to sign."""
    return _form(
        "staff_pledge",
        facility=_pick(facility, ("name", "manager_name")),
        staff=_pick(staff, ("name", "occupation")),
        date=wareki(date),
        rules=rule_text("staff_pledge", on=date, version=version),
    )


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


# 規則8条1項: the items of a leak report, in the rule's order.
LEAK_REPORT_ITEMS = (
    ("overview", "概要"),
    ("data_items", "漏えい等が発生し、又は発生したおそれがある個人データの項目"),
    ("person_count", "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数"),
    ("cause", "原因"),
    ("secondary_harm", "二次被害又はそのおそれの有無及びその内容"),
    ("response_to_persons", "本人への対応の実施状況"),
    ("publication", "公表の実施状況"),
    ("prevention", "再発防止のための措置"),
    ("other", "その他参考となる事項"),
)


def leak_report(data: dict | None = None) -> dict:
    """個人データの漏えい等の報告（規則8条1項 1–9）: a draft for the facility to send to the
    commission; facility, dates and items, never a patient's name."""
    data = data or {}
    items = data.get("items") or {}
    return _form(
        "leak_report",
        facility=_pick(data.get("facility"), ("name", "address", "phone", "manager_name")),
        report_kind=_text(data.get("report_kind")),
        known_on=wareki(data.get("known_at")),
        improper_purpose=bool(data.get("improper_purpose")),
        preliminary_due=wareki(data.get("preliminary_due")),
        final_due=wareki(data.get("final_due")),
        preliminary_reported_on=wareki(data.get("preliminary_reported_on")),
        final_reported_on=wareki(data.get("final_reported_on")),
        persons_notified_on=wareki(data.get("persons_notified_on")),
        persons_notified_how=_text(data.get("persons_notified_how")),
        group_count=_text(data.get("group_count")),
        items=[
            {"number": n, "label": label, "value": _text(items.get(key))}
            for n, (key, label) in enumerate(LEAK_REPORT_ITEMS, start=1)
        ],
    )


# --- 第12条(9)(10): taking information or a device out, or using one's own --------------------
def takeout(data: dict | None = None) -> dict:
    data = data or {}
    checklist = data.get("checklist") or {}
    kind = _text(data.get("kind"))
    return _form(
        "takeout",
        title=_text(data.get("title"))
        or (
            "個人所有端末の業務利用届（BYOD）" if kind == "byod" else "情報及び情報機器の持ち出し届"
        ),
        facility=_text(data.get("facility")),
        requester_name=_text(data.get("requester_name")),
        requester_occupation=_text(data.get("requester_occupation")),
        kind=kind,
        device=_text(data.get("device")),
        information=_text(data.get("information")),
        medium=_text(data.get("medium")),
        purpose=_text(data.get("purpose")),
        period_start=wareki(data.get("period_start")),
        period_end=wareki(data.get("period_end")),
        requested_on=wareki(data.get("requested_on")),
        checklist=[
            {"label": label, "checked": checklist.get(key)} for key, label in CHECKLIST_ITEMS
        ],
        decision=_text(data.get("decision")),
        decided_on=wareki(data.get("decided_on")),
        approver_name=_text(data.get("approver_name")),
        decision_note=_text(data.get("decision_note")),
    )


# --- blank and sample versions of every form ---------------------------------------------
BLANK = {
    "besshi1": besshi1,
    "besshi2": besshi2,
    "besshi3": besshi3,
    "besshi4": besshi4,
    "besshi5": besshi5,
    "besshi6": besshi6,
    "besshi7": besshi7,
    "besshi7_addendum": besshi7_addendum,
    "academic_use": academic_use,
    "team_notice": team_notice,
    "leak_report": leak_report,
    "takeout": takeout,
    "staff_pledge": staff_pledge,
}


def sample(code: str, *, staff_count: int = 5) -> dict:
    """The form filled with the made-up data of samples.py."""
    day = samples.SAMPLE_DATE
    facility = samples.FACILITY
    if code == "besshi1":
        return besshi1(facility=facility, date=day)
    if code == "besshi2":
        return besshi2(facility=facility, date=day)
    if code == "besshi3":
        return besshi3(facility=facility, staff=samples.staff_rows(staff_count), date=day)
    if code == "besshi4":
        return besshi4(facility=facility, changes=samples.CHANGES, date=day)
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
    if code == "leak_report":
        return leak_report(samples.LEAK)
    if code == "academic_use":
        return academic_use(patient=samples.PATIENT, explainer=samples.EXPLAINER, date=day)
    if code == "takeout":
        return takeout({**samples.TAKEOUT, "requested_on": day})
    if code == "staff_pledge":
        return staff_pledge(
            facility=facility,
            staff={"name": samples.EXPLAINER["name"], "occupation": "介護支援専門員"},
            date=day,
        )
    return BLANK[code]()
