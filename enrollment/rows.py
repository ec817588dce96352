"""Checking the rows of 別紙3 (bulk registration) and 別紙4 (change notice).

Every message names its row and column (「2行目・MCS ID（メールアドレス）: …」). Values are
NFKC-normalized first, so a full-width ｘyz＠ｇmail．com is xyz@gmail.com; what is still
invalid after that is an error that says so. The checks against the network are set-based
(one query for the addresses already in use), so 1,000 rows take milliseconds (make bench).
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import Exists, OuterRef, Value
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from facilities.models import FacilityMembership, Gender, Occupation, User
from mcnet.text import nfkc, normalize_email, normalize_kana

from .models import ChangeNotice, ChangeRow, RosterRequest, RosterRow

# Column labels, as the papers print them.
ROSTER_COLUMNS = {
    "name": gettext_lazy("名前"),
    "gender": gettext_lazy("性別"),
    "occupation": gettext_lazy("職種"),
    "email": gettext_lazy("MCS ID（メールアドレス）"),
    "is_mcs_admin": gettext_lazy("管理者（*1）"),
    "had_mcs_account": gettext_lazy("MCS登録状況（*2）"),
}
CHANGE_COLUMNS = {
    "action": gettext_lazy("追加・削除"),
    "kana": gettext_lazy("ふりがな"),
    "name": gettext_lazy("氏名"),
    "occupation": gettext_lazy("職種"),
    "email": gettext_lazy("メールアドレス"),
    "is_mcs_admin": gettext_lazy("管理者"),
}
MAX_ROWS = 2000
NAME_MAX = 100

# How people mark a box on the paper forms (〇 and ○ and ◯ are different characters).
YES_MARKS = {"〇", "○", "◯", "◎", "●", "o", "有", "有り", "あり", "はい", "yes", "y", "1",
             "true", "✓", "✔", "レ", "済", "登録済", "登録済み"}  # fmt: skip
NO_MARKS = {"", "×", "✕", "無", "無し", "なし", "いいえ", "no", "n", "0", "false", "-", "ー",
            "―", "未", "未登録"}  # fmt: skip
GENDER_SPELLINGS = {
    Gender.FEMALE: {"女", "女性", "f", "female", "woman", "おんな"},
    Gender.MALE: {"男", "男性", "m", "male", "man", "おとこ"},
    Gender.OTHER: {"その他", "other"},
    Gender.UNSPECIFIED: {"", "回答しない", "無回答", "不明", "未回答", "unspecified"},
}
# Spellings seen on paper beyond the occupations' own names.
OCCUPATION_ALIASES = {
    Occupation.DOCTOR: {"dr", "ドクター", "医者", "医師(院長)", "院長"},
    Occupation.DENTIST: {"歯科医", "歯医者"},
    Occupation.PHARMACIST: {"ph"},
    Occupation.NURSE: {"ns", "ナース", "正看護師", "看護職"},
    Occupation.ASSOCIATE_NURSE: {"准看"},
    Occupation.PHYSICAL_THERAPIST: {"pt"},
    Occupation.OCCUPATIONAL_THERAPIST: {"ot"},
    Occupation.SPEECH_THERAPIST: {"st"},
    Occupation.DIETITIAN: {"栄養士"},
    Occupation.DENTAL_HYGIENIST: {"dh"},
    Occupation.CARE_MANAGER: {"cm", "ケアマネ", "ケアマネジャー", "ケアマネージャー"},
    Occupation.CARE_WORKER: {"介護士", "介護職", "介護職員"},
    Occupation.HOME_HELPER: {"ヘルパー", "ホームヘルパー"},
    Occupation.SOCIAL_WORKER: {"sw", "ソーシャルワーカー"},
    Occupation.MEDICAL_SOCIAL_WORKER: {"msw"},
    Occupation.CLERK: {"事務", "事務員", "医療事務"},
}
ACTION_SPELLINGS = {
    "add": {"追加", "追加登録", "add", "登録"},
    "delete": {"削除", "削除者", "delete", "中止", "退職"},
}
_email_validator = EmailValidator()


def _key(value) -> str:
    """How a cell is compared with a known spelling: NFKC, no spaces, lower case."""
    return re.sub(r"\s+", "", nfkc(str(value or ""))).lower()


def person_key(name: str) -> str:
    """Two spellings of one name (full-width space, half-width space) compare equal."""
    return re.sub(r"\s+", "", nfkc(name or ""))


def _occupation_spellings() -> dict[str, str]:
    spellings: dict[str, str] = {}
    for value, label in Occupation.choices:
        if value == Occupation.CENTER_STAFF:
            continue  # not a facility's occupation
        spellings[_key(value)] = value
        for language in ("ja", "en"):
            with translation.override(language):
                spellings[_key(str(label))] = value
    for value, aliases in OCCUPATION_ALIASES.items():
        for alias in aliases:
            spellings[_key(alias)] = value
    return spellings


_OCCUPATIONS: dict[str, dict[str, str]] = {}


def occupation_spellings() -> dict[str, str]:
    language = translation.get_language() or "ja"
    if language not in _OCCUPATIONS:
        _OCCUPATIONS[language] = _occupation_spellings()
    return _OCCUPATIONS[language]


_GENDERS = {_key(s): value for value, spellings in GENDER_SPELLINGS.items() for s in spellings}
_ACTIONS = {_key(s): value for value, spellings in ACTION_SPELLINGS.items() for s in spellings}
_YES = {_key(s) for s in YES_MARKS}
_NO = {_key(s) for s in NO_MARKS}


@dataclass(frozen=True)
class RowError:
    """One problem: which row (1-based, as the paper counts), which column, what is wrong."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("%(row)d行目・%(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    def for_console(self) -> str:
        """The command line's form: `row N, column: message`."""
        if self.row is None:
            return self.message
        return f"row {self.row}, {self.column}: {self.message}"


@dataclass
class RowResult:
    row: int
    values: dict  # normalized as far as possible (what the form shows back)
    errors: list[RowError] = field(default_factory=list)
    user_id: int | None = None  # the existing account this row links to


@dataclass
class RowsCheck:
    rows: list[RowResult]
    general_errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return self.general_errors + [e for r in self.rows for e in r.errors]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def clean_rows(self) -> list[dict]:
        return [{"row": r.row, **r.values, "user_id": r.user_id} for r in self.rows]


# --- one cell ------------------------------------------------------------------------------


def parse_email(value) -> tuple[str, str | None]:
    """(normalized address, error or None). Says what is wrong after normalizing."""
    raw = str(value or "")
    address = normalize_email(raw)
    if not address:
        return "", _("入力してください。")
    shown = (
        address
        if address == raw.strip()
        else _("「%(raw)s」を半角に直した「%(address)s」")
        % {
            "raw": raw.strip(),
            "address": address,
        }
    )
    if address.count("@") != 1:
        problem = _("「@」がありません") if "@" not in address else _("「@」が複数あります")
        return address, _("%(shown)s はメールアドレスの形式ではありません（%(problem)s）。") % {
            "shown": shown,
            "problem": problem,
        }
    local, domain = address.split("@")
    if not local or not domain or "." not in domain.strip("."):
        return address, _(
            "%(shown)s はメールアドレスの形式ではありません"
            "（「@」の後ろのドメインが不完全です。例: name@example.jp）。"
        ) % {"shown": shown}
    try:
        _email_validator(address)
    except ValidationError:
        return address, _(
            "%(shown)s はメールアドレスの形式ではありません"
            "（使えない文字が含まれています。例: name@example.jp）。"
        ) % {"shown": shown}
    return address, None


def parse_flag(value) -> tuple[bool, str | None]:
    if isinstance(value, bool):
        return value, None
    key = _key(value)
    if key in _YES:
        return True, None
    if key in _NO:
        return False, None
    return False, _(
        "「%(value)s」は読み取れません。該当する場合は「〇」か「有」、しない場合は空欄にしてください。"
    ) % {"value": nfkc(str(value))}


def parse_gender(value) -> tuple[str, str | None]:
    key = _key(value)
    if key in _GENDERS:
        return _GENDERS[key], None
    return "", _(
        "「%(value)s」は読み取れません。「女」「男」「その他」または空欄にしてください。"
    ) % {"value": nfkc(str(value))}


def parse_occupation(value, *, required: bool = True) -> tuple[str, str | None]:
    key = _key(value)
    if not key:
        return "", (
            _("入力してください（例: 医師、看護師、介護支援専門員）。") if required else None
        )
    spellings = occupation_spellings()
    if key in spellings:
        return spellings[key], None
    return "", _(
        "「%(value)s」は職種として読み取れません（例: 医師、看護師、介護支援専門員）。"
    ) % {"value": nfkc(str(value))}


def parse_name(value, *, required: bool = True) -> tuple[str, str | None]:
    name = re.sub(r"\s+", " ", nfkc(str(value or "")))
    if not name:
        return "", (_("入力してください。") if required else None)
    if len(name) > NAME_MAX:
        return name[:NAME_MAX], _("%(max)d文字以内にしてください。") % {"max": NAME_MAX}
    return name, None


# --- the sets of rows --------------------------------------------------------------------------


def _numbered(rows) -> list[tuple[int, dict]]:
    """(row number, row) for the rows that are not blank; numbers count from 1 as on paper."""
    numbered = []
    for index, row in enumerate(rows, start=1):
        number = row.get("row") or index
        if any(_key(v) for k, v in row.items() if k != "row" and not isinstance(v, bool)) or any(
            v is True for v in row.values()
        ):
            numbered.append((int(number), row))
    return numbered


def _too_many(numbered) -> RowError | None:
    if len(numbered) > MAX_ROWS:
        return RowError(
            None, "", _("一度に登録できるのは %(max)d 行までです。") % {"max": MAX_ROWS}
        )
    return None


def _mark_duplicates(results: list[RowResult], column: str) -> None:
    """The same address twice in one paper: one person, one address (別紙1, 別紙3)."""
    first_row: dict[str, int] = {}
    for result in results:
        email = result.values["email"]
        if not email or any(e.column == column for e in result.errors):
            continue
        if email in first_row:
            result.errors.append(
                RowError(
                    result.row,
                    column,
                    _(
                        "%(email)s は%(first)d行目と同じメールアドレスです。"
                        "メールアドレスはおひとりに1つご用意ください。"
                    )
                    % {"email": email, "first": first_row[email]},
                )
            )
        else:
            first_row[email] = result.row


def _pending_names(emails: set[str], *, exclude_facility_id=None) -> dict[str, set[str]]:
    """Addresses already listed on a paper the center has not processed yet, with the names."""
    # order_by(): the models' default ordering is not allowed inside a UNION on SQLite (the demo).
    roster = (
        RosterRow.objects.filter(email__in=emails, request__state=RosterRequest.State.SUBMITTED)
        .order_by()
        .values_list("email", "name")
    )
    changes = (
        ChangeRow.objects.filter(
            email__in=emails,
            action=ChangeRow.Action.ADD,
            notice__state=ChangeNotice.State.SUBMITTED,
        )
        .order_by()
        .values_list("email", "name")
    )
    pending: dict[str, set[str]] = {}
    for email, name in roster.union(changes, all=True):
        pending.setdefault(email, set()).add(person_key(name))
    return pending


def _address_in_use_message(email: str) -> str:
    return _(
        "%(email)s はネットワーク内で別の方が使っています。"
        "メールアドレスの共有は認められません（おひとりに1つ）。"
    ) % {"email": email}


def _parse_rows(rows, columns: dict, parsers) -> RowsCheck:
    """Each non-blank row through `parsers(row)` -> [(key, parse, kwargs)]; duplicates marked."""
    numbered = _numbered(rows)
    check = RowsCheck(rows=[])
    if error := _too_many(numbered):
        check.general_errors.append(error)
        return check
    for number, row in numbered:
        result = RowResult(row=number, values={})
        for key, parse, kwargs in parsers(row):
            value, error = parse(row.get(key, ""), **kwargs)
            result.values[key] = value
            if error:
                result.errors.append(RowError(number, str(columns[key]), error))
        check.rows.append(result)
    _mark_duplicates(check.rows, str(columns["email"]))
    return check


def _accounts(check: RowsCheck, facility=None) -> dict[str, tuple[int, str, bool]]:
    """One query: the accounts using the rows' addresses (pk, name, works at `facility`)."""
    emails = {r.values["email"] for r in check.rows if not r.errors}
    users = User.objects.filter(email__in=emails)
    if facility is not None:
        here = FacilityMembership.objects.filter(
            user=OuterRef("pk"), facility=facility, is_active=True
        )
        users = users.annotate(member_here=Exists(here))
    else:
        users = users.annotate(member_here=Value(False))
    return {
        email: (pk, person_key(name), member_here)
        for pk, email, name, member_here in users.values_list("pk", "email", "name", "member_here")
    }


def _roster_parsers(row):
    return [
        ("name", parse_name, {}),
        ("gender", parse_gender, {}),
        ("occupation", parse_occupation, {}),
        ("email", parse_email, {}),
        ("is_mcs_admin", parse_flag, {}),
        ("had_mcs_account", parse_flag, {}),
    ]


def check_roster_rows(rows) -> RowsCheck:
    """別紙3: each row's name, gender, occupation, MCS ID, *1 and *2; then across the rows."""
    check = _parse_rows(rows, ROSTER_COLUMNS, _roster_parsers)
    if not check.rows and not check.general_errors:
        check.general_errors.append(RowError(None, "", _("参加者を1行以上入力してください。")))
    if not check.rows:
        return check
    email_column = str(ROSTER_COLUMNS["email"])
    # One query for the addresses in use, one for those waiting on another paper.
    existing = _accounts(check)
    pending = _pending_names({r.values["email"] for r in check.rows if not r.errors})
    for result in check.rows:
        if result.errors:
            continue
        email, name = result.values["email"], person_key(result.values["name"])
        pk, existing_name, _member = existing.get(email, (None, "", False))
        if pk is not None and existing_name and existing_name != name:
            result.errors.append(RowError(result.row, email_column, _address_in_use_message(email)))
        elif pk is None and pending.get(email, set()) - {name}:
            result.errors.append(RowError(result.row, email_column, _address_in_use_message(email)))
        else:
            result.user_id = pk  # the same person: their one account gets linked

    # 別紙3 *1: one MCS administrator per facility in principle; the facility confirms otherwise.
    admins = sum(1 for r in check.rows if r.values.get("is_mcs_admin"))
    if admins == 0:
        check.warnings.append(
            _("MCS管理者（*1）が1人も指定されていません。MCS管理者は各施設ごとに原則1名です。")
        )
    elif admins > 1:
        check.warnings.append(
            _("MCS管理者（*1）が%(n)d人指定されています。MCS管理者は各施設ごとに原則1名です。")
            % {"n": admins}
        )
    return check


def validate_roster_rows(rows) -> tuple[list[dict], list[RowError]]:
    """The bench hook: (clean rows, errors) for a 別紙3 list; nothing is written."""
    check = check_roster_rows(rows)
    return check.clean_rows, check.errors


def _parse_kana(value) -> tuple[str, None]:
    return normalize_kana(str(value or ""))[:NAME_MAX], None


def parse_action(value) -> tuple[str, str | None]:
    key = _key(value)
    if key in _ACTIONS:
        return _ACTIONS[key], None
    if not key:
        return "", _("「追加」か「削除」を選んでください。")
    return "", _("「%(value)s」は読み取れません。「追加」か「削除」にしてください。") % {
        "value": nfkc(str(value))
    }


def _change_parsers(row):
    action, _error = parse_action(row.get("action", ""))
    adding = {"required": action == "add"}
    return [
        ("action", parse_action, {}),
        ("kana", _parse_kana, {}),
        ("name", parse_name, adding),
        ("occupation", parse_occupation, adding),
        ("email", parse_email, {}),
        ("is_mcs_admin", parse_flag, {}),
    ]


def check_change_rows(rows, *, facility) -> RowsCheck:
    """別紙4: additions must be new to the facility; deletions must be its current staff."""
    check = _parse_rows(rows, CHANGE_COLUMNS, _change_parsers)
    if not check.rows and not check.general_errors:
        check.general_errors.append(
            RowError(None, "", _("追加または削除する方を1行以上入力してください。"))
        )
    if not check.rows:
        return check
    email_column = str(CHANGE_COLUMNS["email"])
    existing = _accounts(check, facility)
    pending = _pending_names({r.values["email"] for r in check.rows if not r.errors})
    for result in check.rows:
        if result.errors:
            continue
        email, name = result.values["email"], person_key(result.values["name"])
        pk, existing_name, member_here = existing.get(email, (None, "", False))
        if result.values["action"] == "delete":
            if not member_here:
                result.errors.append(
                    RowError(
                        result.row,
                        email_column,
                        _("%(email)s の方はこの事業所の利用者として登録されていません。")
                        % {"email": email},
                    )
                )
            result.user_id = pk
            continue
        if member_here:
            result.errors.append(
                RowError(
                    result.row,
                    email_column,
                    _("%(email)s の方は既にこの事業所の利用者です。") % {"email": email},
                )
            )
        elif pk is not None and existing_name and existing_name != name:
            result.errors.append(RowError(result.row, email_column, _address_in_use_message(email)))
        elif pk is None and pending.get(email, set()) - {name}:
            result.errors.append(RowError(result.row, email_column, _address_in_use_message(email)))
        else:
            result.user_id = pk
    return check
