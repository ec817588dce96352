"""Tables sent as files people open in Excel: a streamed CSV (UTF-8 with BOM) or an xlsx, a
cell that starts like a formula kept as text (CSV injection)."""

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@")


def _as_text(value):
    if value is None:
        return ""
    return value


def _csv_safe(value):
    value = _as_text(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def csv_response(name: str, header: list, rows: Iterable[list]) -> StreamingHttpResponse:
    """Streamed CSV, UTF-8 with BOM, CRLF line ends (what Excel opens without mojibake)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")

    def lines() -> Iterator[bytes]:
        yield ("\ufeff" + writer.writerow(header)).encode("utf-8")
        for row in rows:
            yield writer.writerow([_csv_safe(v) for v in row]).encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    return _attachment(response, f"{name}.csv")


def xlsx_response(name: str, title: str, header: list, rows: Iterable[list]) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    sheet.append([str(h) for h in header])
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_as_text(value))
            if cell.data_type == "f":  # a name typed as "=..." stays text, never a formula
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return _attachment(HttpResponse(out.getvalue(), content_type=XLSX_TYPE), f"{name}.xlsx")


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
