"""What each form prints, as plain JSON-able values (strings, booleans, lists).

A document stores the context it was requested with and its hash is the document's version:
rendering it again gives the same PDF, and a change in the data gives a new document. Dates
are formatted here, in the Japanese era; a missing value prints as a blank to fill in by hand.
"""

import datetime as dt

from mcnet.models import NetworkSettings

from . import samples
from .wareki import wareki

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
# 別紙6 is dated the day the rules took effect (附則: 令和3年9月1日).
PRIVACY_POLICY_DATE = dt.date(2021, 9, 1)
# 別紙7 is printed twice: one copy stays with the facility, one goes to the patient.
CONSENT_COPIES = ("事業所控え", "本人控え")
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


# --- 別紙1–4: the facility's papers to the center (第4条) ----------------------------------
def besshi1(*, facility: dict | None = None, date=None) -> dict:
    return _form("besshi1", facility=_pick(facility, FACILITY_FIELDS), date=wareki(date))


def besshi2(*, facility: dict | None = None, date=None) -> dict:
    return _form("besshi2", facility=_pick(facility, FACILITY_FIELDS), date=wareki(date))


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


# --- 別紙5–7: what the patient is given and signs (第9条) -----------------------------------
def besshi5() -> dict:
    return _form("besshi5")


def besshi6() -> dict:
    return _form("besshi6", policy_date=wareki(PRIVACY_POLICY_DATE))


def besshi7(
    *,
    patient: dict | None = None,
    family: dict | None = None,
    explainer: dict | None = None,
    date=None,
) -> dict:
    return _form(
        "besshi7",
        copies=list(CONSENT_COPIES),
        patient=_pick(patient, ("name", "address")),
        family=_pick(family, ("name", "relationship")),
        explainer=_pick(explainer, ("facility", "phone", "name")),
        date=wareki(date),
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
    "takeout": takeout,
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
            patient=samples.PATIENT, family=samples.FAMILY, explainer=samples.EXPLAINER, date=day
        )
    if code == "takeout":
        return takeout({**samples.TAKEOUT, "requested_on": day})
    return BLANK[code]()
