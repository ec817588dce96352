"""Japanese glyphs are real: the fonts are embedded, and a missing font is caught, not printed
as tofu (a missing font does not make WeasyPrint fail; it draws .notdef boxes silently)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from mcnet.printing import renderer

from . import pdf

ROOT = Path(__file__).resolve().parents[2]

# Renders 別紙7 on a machine without the IPAex fonts: fontconfig sees only DejaVu (no CJK)
# and the form's @font-face files are missing. Prints the PDF WeasyPrint makes regardless,
# and whether the portal's renderer refused to make it.
WITHOUT_FONTS = r"""
import sys
from unittest import mock
import django
django.setup()
from django.template.loader import render_to_string
from weasyprint import HTML
from mcnet.models import NetworkSettings
from mcnet.printing import registry, renderer
from mcnet.rulebook import seed
from mcnet.rulebook.models import RuleVersion

def first_version(document, **kwargs):  # version 1 of the rules, without a database
    day = seed.FIRST_DATE
    blocks = seed.first_blocks(document)
    return RuleVersion(number=1, blocks=blocks, approved_on=day, effective_on=day)

with (
    mock.patch.object(NetworkSettings, "load", return_value=NetworkSettings()),
    mock.patch("mcnet.printing.forms.base.version_in_force", first_version),
):
    context = registry.get("besshi7").sample_context()
missing = {"mincho": "file:///nonexistent/ipaexm.ttf", "gothic": "file:///nonexistent/ipaexg.ttf"}
html = render_to_string("forms/besshi7.html", {**context, "font_urls": missing})
sys.stdout.buffer.write(HTML(string=html).render().write_pdf())
try:
    renderer.write_pdf([renderer.html_to_document(html)])
except renderer.MissingGlyphs as exc:
    sys.stderr.write("REFUSED: " + str(exc) + "\n")
"""


@pytest.fixture
def fontconfig_without_japanese(tmp_path) -> Path:
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("needs DejaVu (fonts-dejavu-core) as the only font of the fake machine")
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{dejavu}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    return conf


def test_the_check_fails_when_the_font_is_missing(fontconfig_without_japanese):
    """Proof that the font check of test_forms can fail: without IPAex the text still reads
    right in pdftotext (the ToUnicode map keeps the characters) but the glyphs drawn are
    .notdef boxes, and font_problems says so; the portal's renderer refuses outright."""
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(fontconfig_without_japanese),
        "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_FONTS], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()
    tofu = result.stdout
    assert tofu.startswith(b"%PDF")
    # What a text-only check would see: the right words. Not enough.
    assert "同意書" in pdf.text(tofu)
    problems = pdf.font_problems(tofu)
    assert any(".notdef" in p for p in problems), problems
    assert any("no IPAex font" in p for p in problems), problems
    assert "REFUSED: フォントに無い文字があり、印刷できません" in result.stderr.decode()


def test_renderer_refuses_to_draw_notdef_glyphs():
    html = (
        '<html lang="ja"><head><style>@font-face { font-family: IPAexMincho; '
        f'src: url("{renderer.font_files().mincho.as_uri()}"); }}'
        "body { font-family: IPAexMincho; }</style></head><body>同意書\ue000</body></html>"
    )
    with pytest.raises(renderer.MissingGlyphs) as caught:
        renderer.write_pdf([renderer.html_to_document(html)])
    assert "\ue000" in str(caught.value)


def test_a_missing_font_file_is_an_error_naming_the_package(tmp_path):
    with override_settings(
        MCNET_FORM_FONT_FILES={"mincho": str(tmp_path / "none.ttf"), "gothic": str(tmp_path / "x")}
    ):
        with pytest.raises(renderer.FontNotInstalled) as caught:
            renderer.font_files()
    assert "fonts-ipaexfont-mincho" in str(caught.value)


def test_fonts_are_loaded_from_their_files():
    files = renderer.font_files()
    assert files.mincho.name == "ipaexm.ttf" and files.gothic.name == "ipaexg.ttf"
    assert files.urls()["mincho"].startswith("file:///")


def test_one_font_configuration_is_shared():
    assert renderer.font_configuration() is renderer.font_configuration()


def test_forms_cannot_load_other_files():
    """Only the font files may be fetched: a form cannot pull /etc/passwd or a URL in."""
    fetcher = renderer._FontsOnlyFetcher({renderer.font_files().mincho.as_uri()})
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/x.png"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch(renderer.font_files().mincho.as_uri()) is not None


def test_sample_pdf_passes_the_font_check(db):
    from mcnet.printing import registry

    spec = registry.get("besshi6")
    assert pdf.font_problems(renderer.render_pdf(spec.template, spec.sample_context())) == []


def test_a_forked_child_makes_its_own_font_configuration():
    """Open font files and the folder of font copies are the process's own."""
    import multiprocessing

    inherited = renderer.font_configuration()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_makes_its_own_configuration) is True
    assert renderer.font_configuration() is inherited


def _makes_its_own_configuration() -> bool:
    inherited = renderer._font_config
    return renderer.font_configuration() is not inherited


def _loaded_fonts() -> set[str]:
    folder = renderer.font_configuration()._folder
    return {path.name for path in folder.iterdir()} if folder else set()


def test_warm_up_loads_the_fonts_the_forms_use(db, monkeypatch):
    """After the warm-up a form's render loads no font: the rules are the forms' own."""
    from mcnet.printing import registry

    monkeypatch.setattr(renderer, "_font_config", None)  # a process that has rendered nothing
    spec = registry.get("besshi6")
    renderer.warm_up([spec.template])
    loaded = _loaded_fonts()
    assert len(loaded) == len(renderer.font_files().urls())  # IPAex ×2, and IPAmj if there
    renderer.render_pdf(spec.template, spec.sample_context())
    assert _loaded_fonts() == loaded
