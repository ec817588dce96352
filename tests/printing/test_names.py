"""Every real name prints: 別紙3 with staff named 𠮷田, 髙橋, 山﨑, 德永 and an IVS variant (葛󠄀),
rendered by the portal's own job, each glyph checked in the embedded font data; a character
no font has prints as 〓 and the requester is told, the job does not fail."""

import io
import re
import zlib
from functools import cache

import pytest
from django.urls import reverse
from fontTools.ttLib import TTFont

from mcnet.models import GeneratedDocument
from mcnet.printing import renderer

from . import pdf
from .test_views import ask, render_queued

IVS_KATSURAGI = "葛\U000e0100城"  # 葛 with the Adobe-Japan1 variation selector (葛󠄀)
NAMES = ("𠮷田花子", "髙橋一郎", "山﨑二郎", "德永三郎", IVS_KATSURAGI + "四郎")


@pytest.fixture
def roster(demo):
    from enrollment.models import RosterRequest

    roster = RosterRequest.objects.get(facility__name="ABCクリニック")
    rows = list(roster.rows.order_by("row_number"))
    for number, name in enumerate(NAMES, start=len(rows) + 1):
        roster.rows.create(
            row_number=number,
            name=name,
            occupation=rows[0].occupation,
            email=f"staff{number}@abc.example.jp",
        )
    return roster


def print_besshi3(client, roster) -> tuple[GeneratedDocument, bytes]:
    document, _ = ask(
        client,
        reverse("printing:request_for", args=["besshi3", roster.pk]),
        {"model": "enrollment.RosterRequest"},
    )
    render_queued()
    document.refresh_from_db()
    assert document.state == GeneratedDocument.State.READY, document.message
    response = client.get(reverse("printing:download", args=[document.pk]))
    return document, b"".join(response.streaming_content)


def embedded_truetype(content: bytes) -> dict[str, TTFont]:
    """The TrueType subsets embedded in a WeasyPrint PDF, by PostScript name. WeasyPrint keeps
    the original glyph ids in its subsets (retain-gids), and only the glyphs drawn keep
    their outlines."""
    fonts = {}
    for match in re.finditer(rb"<<([^<>]*?)>>\s*stream\r?\n", content):
        header = match.group(1)
        if b"/Length1" not in header:  # TrueType font files only
            continue
        length = int(re.search(rb"/Length (\d+)", header).group(1))
        data = content[match.end() : match.end() + length]
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        font = TTFont(io.BytesIO(data))
        fonts[font["name"].getDebugName(6)] = font
    return fonts


@cache
def _original(path: str) -> TTFont:
    return TTFont(path, lazy=True)


def expected_glyph(cluster: str) -> tuple[str, int]:
    """(font, glyph id) the mincho chain draws a character (with its variation selector, if
    any) with: the first font that has the character, its variant glyph when it has the
    sequence."""
    base = cluster[0]
    for family, path in renderer.font_files().chain("mincho"):
        if path.suffix != ".ttf":
            continue
        font = _original(str(path))
        cmap = font.getBestCmap()
        if ord(base) not in cmap:
            continue
        name = cmap[ord(base)]
        if len(cluster) > 1:
            uvs = next(t for t in font["cmap"].tables if t.format == 14).uvsDict
            variant = dict(uvs.get(ord(cluster[1]), ())).get(ord(base))
            assert variant, f"{family} lacks the sequence {cluster!r}"
            name = variant
        return font["name"].getDebugName(6), font.getGlyphID(name)
    raise AssertionError(f"no TrueType font of the chain has {base!r}")


def test_every_real_name_prints_with_real_glyphs(client_as, roster, published, media):
    client = client_as("other_facility_user")  # ABC's facility manager, who filed it
    document, content = print_besshi3(client, roster)
    assert document.message == ""  # nothing had to be replaced
    assert pdf.font_problems(content) == []  # all embedded subsets, no .notdef anywhere
    names = {font.name.split("+", 1)[-1] for font in pdf.fonts(content)}
    assert {"IPAexMincho", "IPAmjMincho"} <= names  # 𠮷 is drawn by the second font
    text = pdf.text(content)
    for name in NAMES:
        assert name.replace("\U000e0100", "") in text.replace("\U000e0100", ""), name
    embedded = embedded_truetype(content)
    for cluster in ("𠮷", "髙", "﨑", "德", IVS_KATSURAGI[:2]):
        font_name, gid = expected_glyph(cluster)
        subset = embedded[font_name]
        glyph = subset["glyf"][subset.getGlyphOrder()[gid]]
        assert gid != 0 and glyph.numberOfContours != 0, (cluster, font_name, gid)
    # The IVS picked the variant: IPAex's 葛󠄀 is another glyph than its plain 葛.
    plain = expected_glyph("葛")
    assert expected_glyph(IVS_KATSURAGI[:2]) != plain


def test_a_character_no_font_has_prints_as_geta_with_a_warning(client_as, roster, published, media):
    row = roster.rows.get(name="髙橋一郎")
    row.name = "髙橋\ue000郎"  # a private-use character: in no font of the chain
    row.save()
    client = client_as("other_facility_user")
    document, content = print_besshi3(client, roster)
    assert pdf.font_problems(content) == []
    assert "髙橋〓郎" in pdf.text(content)
    assert "「\ue000」" in document.message and "〓" in document.message
    page = client.get(reverse("printing:detail", args=[document.pk])).content.decode()
    assert "フォントに無い文字" in page and "\ue000" in page


def test_printable_keeps_what_the_chain_draws():
    html, missing = renderer.printable("<p>𠮷田 한국 张伟 葛\U000e0100 \ue000\U000f0000</p>")
    assert html == "<p>𠮷田 한국 张伟 葛\U000e0100 〓〓</p>"
    assert missing == ["\ue000", "\U000f0000"]


def test_the_chains_are_installed():
    """.ci/install-system-deps and the Dockerfile install them; without them names like
    𠮷田 would print as 〓."""
    files = renderer.font_files()
    for face in ("mincho", "gothic"):
        families = [family for family, _path in files.chain(face)]
        assert len(families) == 3, families
    assert files.stacks()["mincho"].startswith('"IPAexMincho", "IPAmjMincho"')
