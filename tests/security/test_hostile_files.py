"""Hostile files and bodies are refused before they are read in full.

- a request body beyond its view's limit: 413 with a Japanese message, the body never read;
- the 別紙3 zip bomb (≈290 KB of xlsx, ≈100 MB of XML, 2 million rows): refused by the web
  upload and by `import_roster` in well under 2 s and 100 MB, naming the limit;
- rows beyond the caller's limit are not read; an image's pixels are counted before decoding.

Times are generous bounds on a shared 2-core machine; the behaviour is the assertion.
"""

import io
import json
import os
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from enrollment import spreadsheets
from enrollment.forms import MAX_FORM_ROWS
from enrollment.models import RosterRequest
from enrollment.rows import MAX_ROWS
from enrollment.spreadsheets import TooManyRows, read_roster_file
from mcnet.uploads import MAX_PHOTO_PIXELS, photo_upload

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
HEADINGS = ["名前", "性別", "職種", "MCS ID（メールアドレス）", "管理者", "MCS登録状況"]


def _xlsx(sheet_xml_rows, *, total_rows: int) -> bytes:
    """A real workbook (openpyxl's) whose first sheet holds the heading and then `total_rows`
    copies of one row, streamed into the zip (never the whole XML in memory)."""
    workbook = Workbook()
    workbook.active.append(HEADINGS)
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            xml = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, xml)
                continue
            head, _, rest = xml.partition(b"<sheetData>")
            # The sheet declares its real size, as Excel writes it (readers trust it).
            head = head.replace(b'ref="A1:F1"', b'ref="A1:F%d"' % (total_rows + 1))
            heading_row, _, _ = rest.partition(b"</row>")
            member = zipfile.ZipInfo(info.filename)
            member.compress_type = zipfile.ZIP_DEFLATED
            with target.open(member, "w", force_zip64=True) as f:
                f.write(head + b"<sheetData>" + heading_row + b"</row>")
                block = sheet_xml_rows * 10_000
                for _ in range(total_rows // 10_000):
                    f.write(block)
                f.write(sheet_xml_rows * (total_rows % 10_000))
                f.write(b"</sheetData></worksheet>")
    return out.getvalue()


ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """≈290 KB of xlsx that unzips to ≈100 MB of XML: 2 million rows."""
    data = _xlsx(ROW, total_rows=2_000_000)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unzipped = sum(member.file_size for member in archive.infolist())
    assert len(data) < 400 * 1024 and unzipped > 90 * MB  # what the attacker sent
    path = tmp_path_factory.mktemp("bomb") / "besshi3.xlsx"
    path.write_bytes(data)
    return path


LIMIT_NAMED = f"展開後の上限 {spreadsheets.MAX_UNZIPPED_BYTES // MB} MB"

# Reads the bomb in a fresh interpreter and reports the growth of its peak memory (RSS, which
# counts the C parsers' memory too, unlike tracemalloc) and the time taken.
MEASURE = r"""
import json, resource, sys, time
import django
django.setup()
from enrollment.spreadsheets import SpreadsheetError, read_roster_file
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    read_roster_file(data, max_rows=int(sys.argv[2]))
    message = None
except SpreadsheetError as exc:
    message = str(exc)
elapsed = time.perf_counter() - start
grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"message": message, "seconds": elapsed, "grown_mb": grown_kb / 1024}))
"""


@pytest.mark.parametrize("max_rows", [MAX_FORM_ROWS, MAX_ROWS])
def test_the_zip_bomb_is_refused_fast_in_little_memory(zip_bomb, max_rows):
    env = {"DJANGO_SETTINGS_MODULE": "mcnet.settings.test", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(zip_bomb), str(max_rows)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["message"] and LIMIT_NAMED in measured["message"]
    assert measured["seconds"] < 2, measured
    assert measured["grown_mb"] < 100, measured


def _measured(call):
    """What `call` returns, its time, and (from a second call, traced) its peak of Python
    memory: tracemalloc slows Python down several times, so the time is taken untraced."""
    call()  # warm: templates compiled, translations loaded, as in a running server
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, elapsed, peak


def test_the_besshi3_upload_refuses_the_zip_bomb(client_as, abc, zip_bomb):
    client = client_as("other_mcs_admin")  # ABC's MCS administrator files ABC's 別紙3
    data = zip_bomb.read_bytes()
    url = reverse("enrollment:roster_upload", kwargs={"facility_id": abc.pk})
    response, elapsed, peak = _measured(
        lambda: client.post(url, {"file": SimpleUploadedFile("besshi3.xlsx", data)})
    )
    assert response.status_code == 400
    assert LIMIT_NAMED in response.content.decode()
    assert elapsed < 2 and peak < 100 * MB, (elapsed, peak)


def test_import_roster_refuses_the_zip_bomb(abc, zip_bomb):
    def run():
        with pytest.raises(CommandError) as caught:
            call_command("import_roster", str(zip_bomb), "--facility", str(abc.pk))
        return caught.value

    before = RosterRequest.objects.count()
    error, elapsed, peak = _measured(run)
    assert LIMIT_NAMED in str(error)
    assert elapsed < 2 and peak < 100 * MB, (elapsed, peak)
    assert RosterRequest.objects.count() == before


def test_import_roster_does_not_read_a_file_over_the_size_limit(abc, tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(spreadsheets.MAX_FILE_BYTES + 1)  # sparse: nothing to read anyway
    with pytest.raises(CommandError, match="上限 2 MB"):
        call_command("import_roster", str(big), "--facility", str(abc.pk))


FILLED_ROW = (
    b'<row><c t="inlineStr"><is><t>\xe4\xbd\x90\xe8\x97\xa4</t></is></c>'
    b'<c t="inlineStr"><is><t>a@example.jp</t></is></c></row>'
)


def test_rows_beyond_the_limit_are_not_read(monkeypatch):
    """Not a bomb by size (≈0.5 MB unzipped): reading stops at the caller's row limit."""
    data = _xlsx(FILLED_ROW, total_rows=5_000)
    pulled = []
    real = spreadsheets._bounded_rows

    def counting(rows, **kwargs):
        return real((pulled.append(1) or row for row in rows), **kwargs)

    monkeypatch.setattr(spreadsheets, "_bounded_rows", counting)
    with pytest.raises(TooManyRows) as caught:
        read_roster_file(data, max_rows=MAX_FORM_ROWS)
    assert f"{MAX_FORM_ROWS} 行まで" in str(caught.value)
    assert len(pulled) == MAX_FORM_ROWS + spreadsheets.HEADING_ROWS + 1


def test_the_upload_says_how_many_rows_the_form_shows(client_as, abc):
    client = client_as("other_mcs_admin")
    data = _xlsx(FILLED_ROW, total_rows=MAX_FORM_ROWS + 100)
    url = reverse("enrollment:roster_upload", kwargs={"facility_id": abc.pk})
    response = client.post(url, {"file": SimpleUploadedFile("b.xlsx", data)})
    assert response.status_code == 400
    assert f"画面で確認できるのは {MAX_FORM_ROWS} 行までです" in response.content.decode()


def test_a_csv_with_too_many_rows_stops_at_the_limit():
    data = ("名前,MCS ID（メールアドレス）\n" + "佐藤,a@example.jp\n" * 20_000).encode()
    with pytest.raises(TooManyRows):
        read_roster_file(data, max_rows=MAX_ROWS)


# --- request bodies ------------------------------------------------------------------------------


class EndlessBody:
    """A request body that claims its size and counts what the server reads of it."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, size=-1):
        size = 64 * 1024 if size is None or size < 0 else min(size, 64 * 1024)
        self.read_bytes += size
        return b"\0" * size

    def readline(self, size=-1):
        return self.read(size)


def test_a_200_mb_photo_is_refused_before_it_is_read(client_as):
    client = client_as("user")
    body = EndlessBody()
    response = client.generic(
        "POST",
        reverse("facilities:profile"),
        content_type="multipart/form-data; boundary=xyz",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(200 * MB)},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "ファイルが大きすぎます" in page and "5 MB まで" in page
    assert body.read_bytes == 0  # not a byte written to memory or disk


def test_the_default_limit_applies_elsewhere(client_as, settings):
    client = client_as("anonymous")
    body = EndlessBody()
    response = client.generic(
        "POST",
        "/accounts/login/",
        content_type="application/x-www-form-urlencoded",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(settings.MCNET_MAX_REQUEST_BYTES + 1)},
    )
    assert response.status_code == 413
    assert body.read_bytes == 0


def test_a_photo_within_the_limit_still_saves(client_as, people):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), "white").save(out, format="JPEG")
    client = client_as("user")
    user = people["user"]
    data = {"name": user.name, "kana": user.kana, "occupation": user.occupation, "phone": ""}
    photo = SimpleUploadedFile("me.jpg", out.getvalue(), content_type="image/jpeg")
    response = client.post(reverse("facilities:profile"), {**data, "photo": photo})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.photo


# --- images --------------------------------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [9_000, 40_000])  # 81 and 1,600 megapixels
def test_an_image_with_too_many_pixels_is_refused_before_decoding(side):
    upload = SimpleUploadedFile("p.png", _png_claiming(side, side), content_type="image/png")
    start = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        photo_upload(upload)
    assert time.perf_counter() - start < 1
    assert f"上限 {MAX_PHOTO_PIXELS // 10_000} 万画素" in caught.value.messages[0]


def test_the_profile_form_names_the_pixel_limit(client_as, people):
    client = client_as("user")
    user = people["user"]
    data = {"name": user.name, "kana": user.kana, "occupation": user.occupation, "phone": ""}
    photo = SimpleUploadedFile("p.png", _png_claiming(20_000, 20_000), content_type="image/png")
    response = client.post(reverse("facilities:profile"), {**data, "photo": photo})
    assert response.status_code == 200
    assert "画素数が多すぎます" in response.content.decode()
