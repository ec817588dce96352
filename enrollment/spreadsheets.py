"""The 別紙3 spreadsheet: reading a facility's xlsx or CSV, writing the vendor's xlsx.

Japanese Excel saves CSV in Shift_JIS (CP932) unless told otherwise; UTF-8 with or without a
BOM is read as well. Columns are found by their headings, the way the paper names them, so a
sheet with the facility columns first (as the 別紙3 sample) or without them reads the same.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from mcnet.text import nfkc

from .rows import MAX_ROWS, ROSTER_COLUMNS

MAX_FILE_BYTES = 2 * 1024 * 1024
# An xlsx is a zip: 2 MB of it can hold gigabytes of XML (a "zip bomb"). A real 別紙3 of
# 2,000 rows is about 1.5 MB unzipped, and Excel compresses it about tenfold; the members'
# declared sizes are checked before anything is unzipped (zipfile stops at the declared size
# and fails the CRC if a member lies).
MAX_UNZIPPED_BYTES = 10 * 1024 * 1024
MAX_MEMBER_RATIO = 200
# Rows read before the heading row may start (the facility block of the sample sheet), and
# blank rows tolerated between and after the data; nothing beyond is read.
HEADING_ROWS = 30
BLANK_ROWS = 1000
# 別紙3 has 11 columns; a sheet claiming 16,384 would have every row padded to that width.
MAX_COLUMNS = 50
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Headings of 別紙3's staff columns (after NFKC, without spaces, *1/*2 marks and case).
HEADINGS = {
    "name": {"名前", "氏名", "スタッフ名", "名前(氏名)", "name"},
    "gender": {"性別", "gender"},
    "occupation": {"職種", "occupation"},
    "email": {
        "mcsid(メールアドレス)",
        "mcsid",
        "メールアドレス",
        "メール",
        "mcsid(メール)",
        "email",
        "e-mail",
    },
    "is_mcs_admin": {"管理者", "mcs管理者", "管理者(mcs管理者)", "admin"},
    "had_mcs_account": {"mcs登録状況", "登録状況", "mcs登録", "mcs登録済み"},
}
_MARK_RE = re.compile(r"[(]?[*※]\d[)]?")


class SpreadsheetError(Exception):
    """The file cannot be read as a 別紙3 sheet; the message says why, in Japanese."""


class TooManyRows(SpreadsheetError):
    """More rows than the caller reads; reading stopped there."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        super().__init__(
            _("行が多すぎます。一度に読み込めるのは %(max)d 行までです。ファイルを分けてください。")
            % {"max": max_rows}
        )


@dataclass
class Sheet:
    rows: list[dict]  # one dict per data row: {"row": n, "name": ..., ...}
    columns: list[str]  # which staff columns were found


def _heading_key(value) -> str:
    text = re.sub(r"\s+", "", nfkc(str(value or ""))).lower()
    return _MARK_RE.sub("", text)


_HEADING_KEYS = {heading: key for key, headings in HEADINGS.items() for heading in headings}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(data: bytes, *, max_rows: int = MAX_ROWS) -> list[list[str]]:
    """The cells of the first sheet (xlsx) or of the CSV, as text: at most `max_rows` rows
    with something in them (after the heading), or TooManyRows without reading further."""
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(
            _("ファイルが大きすぎます（上限 %(mb)d MB）。") % {"mb": MAX_FILE_BYTES // 1024 // 1024}
        )
    if not data.strip():
        raise SpreadsheetError(_("ファイルが空です。"))
    if data.startswith(OLE_MAGIC):
        raise SpreadsheetError(
            _("古いExcel形式（.xls）は読めません。.xlsx か CSV で保存し直してください。")
        )
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, max_rows=max_rows)
    return _read_csv(data, max_rows=max_rows)


def _bounded_rows(rows, *, max_rows: int) -> list[list[str]]:
    """Take rows from an iterator until it ends; stop with TooManyRows at the first row beyond
    the limit (heading rows and some blank rows allowed besides), never reading the rest."""
    table: list[list[str]] = []
    filled = blank = 0
    for row in rows:
        cells = [_cell_text(v) for v in row]
        if any(cells):
            filled += 1
        else:
            blank += 1
        if filled > max_rows + HEADING_ROWS or blank > BLANK_ROWS + max_rows:
            raise TooManyRows(max_rows)
        table.append(cells)
    return table


def _check_zip(data: bytes) -> None:
    """Refuse a zip whose members unzip to more than the limits, from its directory alone."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    total = sum(member.file_size for member in members)
    too_packed = any(
        member.file_size > 1024 * 1024
        and member.file_size > MAX_MEMBER_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if total > MAX_UNZIPPED_BYTES or too_packed:
        raise SpreadsheetError(
            _(
                "このExcelファイルは展開すると大きすぎるため読み込めません（展開後の上限 "
                "%(mb)d MB）。別紙3の様式に必要な行だけを残して保存し直してください。"
            )
            % {"mb": MAX_UNZIPPED_BYTES // 1024 // 1024}
        )


# What a damaged or foreign zip makes openpyxl raise.
_XLSX_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError)


def _read_xlsx(data: bytes, *, max_rows: int) -> list[list[str]]:
    try:
        _check_zip(data)
        # read_only: rows are parsed as they are iterated, never the whole sheet at once.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            return _bounded_rows(rows, max_rows=max_rows)
        finally:
            workbook.close()
    except _XLSX_ERRORS as exc:
        raise SpreadsheetError(_("Excelファイル（.xlsx）として読み取れませんでした。")) from exc


def _read_csv(data: bytes, *, max_rows: int) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(
            _("文字コードを判別できませんでした。UTF-8 か Shift_JIS の CSV で保存してください。")
        )
    if "\x00" in text:
        raise SpreadsheetError(_("CSV ファイルとして読み取れませんでした。"))
    try:
        return _bounded_rows(csv.reader(io.StringIO(text)), max_rows=max_rows)
    except csv.Error as exc:
        raise SpreadsheetError(_("CSV ファイルとして読み取れませんでした。")) from exc


def parse_roster_table(table: list[list[str]]) -> Sheet:
    """Find the heading row (the one naming the MCS ID column) and read the rows under it.

    Row numbers count the data rows from 1, as the paper does (the seed's 上越一 is row 2).
    """
    index = 0
    for index, cells in enumerate(table):  # noqa: B007 — used after the loop
        columns: dict[str, int] = {}
        for position, cell in enumerate(cells):
            key = _HEADING_KEYS.get(_heading_key(cell))
            if key and key not in columns:
                columns[key] = position
        if "email" in columns and "name" in columns:
            break
    else:
        raise SpreadsheetError(
            _(
                "見出しの行が見つかりません。別紙3の見出し（名前、性別、職種、"
                "MCS ID（メールアドレス）、管理者、MCS登録状況）を残したまま保存してください。"
            )
        )
    rows = []
    for number, cells in enumerate(table[index + 1 :], start=1):
        row = {"row": number}
        for key, position in columns.items():
            row[key] = cells[position] if position < len(cells) else ""
        rows.append(row)
    return Sheet(rows=rows, columns=[k for k in ROSTER_COLUMNS if k in columns])


def read_roster_file(data: bytes, *, max_rows: int = MAX_ROWS) -> Sheet:
    """`max_rows`: the caller's row limit (the form's, or MAX_ROWS of one request)."""
    return parse_roster_table(read_table(data, max_rows=max_rows))


# --- writing ---------------------------------------------------------------------------------

VENDOR_HEADINGS = (
    "事業所名",
    "郵便番号",
    "住所",
    "電話番号",
    "施設の種類",
    "名前",
    "性別",
    "職種",
    "MCS ID（メールアドレス）",
    "管理者*1",
    "MCS登録状況*2",
)


def _workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _safe(value: str) -> str:
    """Text that a spreadsheet must not run as a formula (CSV/formula injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def roster_workbook(requests) -> bytes:
    """The rows of 別紙3 requests, in the paper's columns, for the MCS vendor's registration."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "一括登録"
    sheet.append(VENDOR_HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for request in requests:
        facility = request.facility
        for row in request.rows.all():
            sheet.append(
                [
                    _safe(facility.name),
                    facility.postal_code,
                    _safe(facility.address),
                    facility.phone,
                    str(facility.get_kind_display()),
                    _safe(row.name),
                    str(row.get_gender_display()) if row.gender != "unspecified" else "",
                    str(row.get_occupation_display()),
                    row.email,
                    "〇" if row.is_mcs_admin else "",
                    "有" if row.had_mcs_account else "",
                ]
            )
    for column, width in zip(
        "ABCDEFGHIJK", (24, 10, 30, 14, 18, 14, 6, 14, 32, 8, 12), strict=True
    ):
        sheet.column_dimensions[column].width = width
    return _workbook_bytes(workbook)


def blank_roster_workbook(facility) -> bytes:
    """An empty 別紙3 sheet with the facility's data filled in, to fill and upload."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "別紙3"
    sheet.append(VENDOR_HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(
        [
            facility.name,
            facility.postal_code,
            facility.address,
            facility.phone,
            str(facility.get_kind_display()),
        ]
    )
    for column, width in zip(
        "ABCDEFGHIJK", (24, 10, 30, 14, 18, 14, 6, 14, 32, 8, 12), strict=True
    ):
        sheet.column_dimensions[column].width = width
    return _workbook_bytes(workbook)
