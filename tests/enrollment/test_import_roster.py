"""Reading 別紙3 files, and `manage.py import_roster` on the seed's own example."""

import io

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from enrollment.models import RosterRequest, RosterRow
from enrollment.spreadsheets import (
    SpreadsheetError,
    blank_roster_workbook,
    read_roster_file,
    roster_workbook,
)

from .conftest import SEED_CSV, seed_xlsx_bytes

EXPECTED_ROWS = [
    {
        "row": 1,
        "name": "山田花子",
        "gender": "女",
        "occupation": "医師",
        "email": "abc@gmail.com",
        "is_mcs_admin": "〇",
        "had_mcs_account": "",
    },
    {
        "row": 2,
        "name": "上越一",
        "gender": "男",
        "occupation": "看護師",
        "email": "ｘyz＠ｇmail",
        "is_mcs_admin": "",
        "had_mcs_account": "有",
    },
]


def test_seed_csv_is_read_under_its_headings():
    sheet = read_roster_file(SEED_CSV.read_bytes())
    assert sheet.rows == EXPECTED_ROWS
    assert sheet.columns == [
        "name",
        "gender",
        "occupation",
        "email",
        "is_mcs_admin",
        "had_mcs_account",
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
def test_csv_in_excel_encodings(encoding):
    text = SEED_CSV.read_text(encoding="utf-8")
    if encoding == "cp932":
        text = text.replace("〇", "○")  # 〇 (U+3007) has no Shift_JIS code in every table
    data = text.encode(encoding)
    rows = read_roster_file(data).rows
    assert [r["name"] for r in rows] == ["山田花子", "上越一"]
    assert rows[1]["email"] == "ｘyz＠ｇmail"


def test_xlsx_generated_with_openpyxl():
    assert read_roster_file(seed_xlsx_bytes()).rows == EXPECTED_ROWS


def test_headings_without_facility_columns_and_in_another_order():
    data = "メールアドレス,氏名,職種\nA@B.JP,佐藤,医師\n".encode()
    rows = read_roster_file(data).rows
    assert rows == [{"row": 1, "email": "A@B.JP", "name": "佐藤", "occupation": "医師"}]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "空です"),
        (b"\xd0\xcf\x11\xe0rest-of-an-old-xls", ".xls"),
        ("名前,電話\n佐藤,1\n".encode(), "見出しの行が見つかりません"),
        (b"PK\x03\x04not-really-a-zip", "読み取れませんでした"),
    ],
)
def test_unreadable_files_say_why(data, fragment):
    with pytest.raises(SpreadsheetError, match=fragment.replace(".", r"\.")):
        read_roster_file(data)


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_roster", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_of_the_seed_example_rejects_row_2_and_saves_nothing(abc, kind, tmp_path):
    path = SEED_CSV
    if kind == "xlsx":
        path = tmp_path / "besshi3.xlsx"
        path.write_bytes(seed_xlsx_bytes())
    before = RosterRequest.objects.count()
    code, out, err = _run(str(path), "--facility", str(abc.pk))
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("row ")]
    assert len(lines) == 1
    assert lines[0].startswith("row 2, MCS ID（メールアドレス）: ")
    assert "xyz@gmail" in lines[0]
    assert "row 1" not in err  # the first row is accepted
    assert "2 rows read, 1 valid, 1 errors" in out
    assert RosterRequest.objects.count() == before


@pytest.mark.django_db
def test_import_of_a_corrected_file_creates_the_request(abc, tmp_path):
    path = tmp_path / "fixed.csv"
    path.write_text(
        SEED_CSV.read_text(encoding="utf-8").replace("ｘyz＠ｇmail", "ｘyz＠ｇmail．com")
    )
    code, out, _err = _run(str(path), "--facility", str(abc.pk), "--dry-run")
    assert code == 0 and "dry run" in out
    assert not RosterRow.objects.filter(email="xyz@gmail.com").exists()

    code, out, _err = _run(str(path), "--facility", str(abc.pk))
    assert code == 0
    request = RosterRequest.objects.get(rows__email="xyz@gmail.com")
    assert request.facility == abc and request.source == "command"
    assert list(
        request.rows.values_list("row_number", "email", "is_mcs_admin", "had_mcs_account")
    ) == [
        (1, "abc@gmail.com", True, False),
        (2, "xyz@gmail.com", False, True),
    ]
    assert f"created roster request {request.pk}" in out


@pytest.mark.django_db
def test_import_needs_an_existing_facility_and_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("import_roster", str(SEED_CSV), "--facility", "999999")


@pytest.mark.django_db
def test_vendor_export_and_blank_template(abc):
    from enrollment import services

    request = services.roster_submit(
        actor=None,
        facility=abc,
        rows=[
            {
                "name": "=HYPERLINK()",
                "gender": "女",
                "occupation": "医師",
                "email": "a@b.jp",
                "is_mcs_admin": "〇",
            }
        ],
        source="command",
    )
    book = load_workbook(io.BytesIO(roster_workbook([request])))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][5:] == (
        "名前",
        "性別",
        "職種",
        "MCS ID（メールアドレス）",
        "管理者*1",
        "MCS登録状況*2",
    )
    assert rows[1][0] == "ABCクリニック"
    assert rows[1][5] == "'=HYPERLINK()"  # never run as a formula
    assert rows[1][8:10] == ("a@b.jp", "〇")

    template = read_roster_file(blank_roster_workbook(abc))
    assert template.rows == [
        {
            "row": 1,
            "name": "",
            "gender": "",
            "occupation": "",
            "email": "",
            "is_mcs_admin": "",
            "had_mcs_account": "",
        }
    ]


def test_unknown_workbook_values_are_text():
    workbook = Workbook()
    workbook.active.append(["名前", "MCS ID"])
    workbook.active.append(["佐藤", 12345.0])
    out = io.BytesIO()
    workbook.save(out)
    assert read_roster_file(out.getvalue()).rows == [{"row": 1, "name": "佐藤", "email": "12345"}]
