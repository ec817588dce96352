"""HTML templates (templates/forms/) to A4 PDF with WeasyPrint and the IPAex fonts.

A missing font does not make WeasyPrint fail: it draws .notdef boxes ("tofu") and goes on.
So the fonts are loaded by @font-face from their files (one shared FontConfiguration per
process, which also keeps WeasyPrint's font cache warm), a missing file is an error that says
which package to install, and a render that drew any .notdef glyph fails with the characters
it could not draw.

Real names use characters IPAex lacks (𠮷, and the JIS X 0213 / 人名用 variants), so each face
is a chain: IPAex first (the customary face of official forms), then IPAmj Mincho (the
national 文字情報基盤 set, 58,000+ kanji), then Noto CJK (Hangul, simplified Chinese, the
rest of Adobe-Japan1). Every font is embedded as a subset of what the page uses. A character
no font of the chain has is printed as 〓 and the requester is told (`unprintable`), before
WeasyPrint could draw a .notdef: a name the fonts lack never stops a form from printing.
"""

import functools
import logging
import os
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from fontTools.ttLib import TTCollection, TTFont
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

# Debian's fonts-ipaexfont-mincho / fonts-ipaexfont-gothic (.ci/install-system-deps).
DEFAULT_FONT_FILES = {
    "mincho": (
        "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf",
    ),
    "gothic": (
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    ),
}
FONT_PACKAGES = {"mincho": "fonts-ipaexfont-mincho", "gothic": "fonts-ipaexfont-gothic"}
# The family names the form templates use; pdffonts lists the embedded subsets under them.
FONT_FAMILIES = {"mincho": "IPAexMincho", "gothic": "IPAexGothic"}


@dataclass(frozen=True)
class FallbackFont:
    """A font after IPAex in the chain: (family, Debian package, file candidates).

    IPAmj is one TrueType file, loaded by @font-face like IPAex; Noto CJK is a collection
    (JP, KR, SC, TC, HK in one file) that fontconfig already knows by its family name, so it
    is named, not loaded, and its JP face is the one read for the coverage check.
    """

    family: str
    package: str
    paths: tuple[str, ...]
    by_file: bool

    def path(self) -> Path | None:
        return next((Path(p) for p in self.paths if Path(p).is_file()), None)


IPAMJ_MINCHO = FallbackFont(
    "IPAmjMincho", "fonts-ipamj-mincho", ("/usr/share/fonts/truetype/ipamj/ipamjm.ttf",), True
)
NOTO_SERIF = FallbackFont(
    "Noto Serif CJK JP",
    "fonts-noto-cjk",
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",),
    False,
)
NOTO_SANS = FallbackFont(
    "Noto Sans CJK JP",
    "fonts-noto-cjk",
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",),
    False,
)
# After IPAex, in order. IPAmj has no Gothic; a Gothic line takes Noto Sans before it.
FALLBACKS = {"mincho": (IPAMJ_MINCHO, NOTO_SERIF), "gothic": (NOTO_SANS, IPAMJ_MINCHO)}
GENERIC = {"mincho": "serif", "gothic": "sans-serif"}
# What a character no font has is printed as (the 下駄記号, the customary stand-in).
GETA = "〓"

_font_config: FontConfiguration | None = None
_font_config_pid: int | None = None
_font_config_lock = threading.Lock()


class RenderError(Exception):
    """A form could not be printed; the message says why, in words a user can act on."""


class FontNotInstalled(RenderError):
    pass


class MissingGlyphs(RenderError):
    pass


@dataclass(frozen=True)
class FontFiles:
    mincho: Path
    gothic: Path

    def urls(self) -> dict[str, str]:
        urls = {"mincho": self.mincho.as_uri(), "gothic": self.gothic.as_uri()}
        if (ipamj := IPAMJ_MINCHO.path()) is not None:
            urls["ipamj"] = ipamj.as_uri()
        return urls

    def chain(self, face: str) -> list[tuple[str, Path]]:
        """(family, file) of each installed font of a face's chain, in order."""
        fonts = [(FONT_FAMILIES[face], getattr(self, face))]
        for fallback in FALLBACKS[face]:
            if (path := fallback.path()) is not None:
                fonts.append((fallback.family, path))
        return fonts

    def stacks(self) -> dict[str, SafeString]:
        """The CSS font-family value of each face (family names are ours, not user input)."""
        return {
            face: SafeString(
                ", ".join([*(f'"{family}"' for family, _ in self.chain(face)), GENERIC[face]])
            )
            for face in FONT_FAMILIES
        }


def font_files() -> FontFiles:
    """The font files to embed (settings.MCNET_FORM_FONT_FILES may point elsewhere)."""
    configured = getattr(settings, "MCNET_FORM_FONT_FILES", None) or {}
    found = {}
    for face, candidates in DEFAULT_FONT_FILES.items():
        paths = [configured[face]] if face in configured else list(candidates)
        path = next((Path(p) for p in paths if Path(p).is_file()), None)
        if path is None:
            raise FontNotInstalled(
                _(
                    "帳票用の日本語フォント（%(family)s）が見つかりません: %(paths)s。"
                    "Debian パッケージ %(package)s を導入してください（.ci/install-system-deps）。"
                )
                % {
                    "family": FONT_FAMILIES[face],
                    "paths": ", ".join(str(p) for p in paths),
                    "package": FONT_PACKAGES[face],
                }
            )
        found[face] = path
    return FontFiles(**found)


def font_configuration() -> FontConfiguration:
    """One FontConfiguration per process, shared by every render (WeasyPrint docs).

    Per process, not per interpreter image: a forked child (a prefork worker's) makes its own.
    The parent's holds open font files (their offsets shared across fork) and a temporary
    folder of font copies that whichever process exits first deletes."""
    global _font_config, _font_config_pid
    if _font_config is None or _font_config_pid != os.getpid():
        with _font_config_lock:
            if _font_config is None or _font_config_pid != os.getpid():
                _font_config = FontConfiguration()
                _font_config_pid = os.getpid()
    return _font_config


class _NotdefCollector(logging.Handler):
    """Collects WeasyPrint's ".notdef glyph rendered" warnings of the current thread."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.characters: list[str] = []

    def emit(self, record):
        if record.thread == self.thread and ".notdef" in record.getMessage():
            args = record.args if isinstance(record.args, tuple) else ()
            self.characters.append(str(args[0]) if args else "?")


class _FontsOnlyFetcher(URLFetcher):
    """Forms load nothing but the font files: no other local file, no network request."""

    def __init__(self, allowed: set[str]):
        super().__init__(allowed_protocols=("file",))
        self.allowed = allowed

    def fetch(self, url, headers=None):
        if url not in self.allowed:
            raise ValueError(f"forms may not load {url}")
        return super().fetch(url, headers)


def html_to_document(html: str):
    """Lay out one HTML string (A4 is set by the templates' @page rule)."""
    fetcher = _FontsOnlyFetcher(set(font_files().urls().values()))
    return HTML(string=html, url_fetcher=fetcher).render(font_config=font_configuration())


def write_pdf(documents) -> bytes:
    """One PDF from one or more laid-out documents; fails on any .notdef glyph."""
    documents = list(documents)
    first = documents[0]
    if len(documents) > 1:
        first = first.copy([page for document in documents for page in document.pages])
    collector = _NotdefCollector()
    logger = logging.getLogger("weasyprint")
    if not logger.isEnabledFor(logging.WARNING):  # the guard needs WeasyPrint's warning
        logger.setLevel(logging.WARNING)
    logger.addHandler(collector)
    try:
        pdf = first.write_pdf()
    finally:
        logger.removeHandler(collector)
    if collector.characters:
        missing = "".join(dict.fromkeys(collector.characters))
        raise MissingGlyphs(
            _("フォントに無い文字があり、印刷できません: 「%(chars)s」") % {"chars": missing}
        )
    return pdf


# --- coverage: what the chains can draw --------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _codepoints(path: str) -> frozenset[int]:
    """The characters a font file maps (its JP face for a collection). Read once per process,
    and only when a page has a character the first font lacks."""
    if path.endswith((".ttc", ".otc")):
        collection = TTCollection(path, lazy=True)
        faces = collection.fonts
        face = next((f for f in faces if "JP" in f["name"].getDebugName(1)), faces[0])
    else:
        face = TTFont(path, lazy=True)
    return frozenset(face.getBestCmap())


def _drawable(char: str, fonts: FontFiles) -> bool:
    code = ord(char)
    return all(
        any(code in _codepoints(str(path)) for _family, path in fonts.chain(face))
        for face in FONT_FAMILIES
    )


def _invisible(char: str) -> bool:
    """Characters shaped away rather than drawn: variation selectors (an IVS picks the variant
    when the font drawing its base has it, else the base prints as is) and format characters
    (joiners, BOM)."""
    code = ord(char)
    return (
        0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or unicodedata.category(char) == "Cf"
    )


def printable(html: str, *, fonts: FontFiles | None = None) -> tuple[str, list[str]]:
    """`html` with every character no font of the chains has replaced by 〓, and those
    characters (in order of appearance). Markup is ASCII, which IPAex has, so only text and
    attribute values can change."""
    fonts = fonts or font_files()
    first = _codepoints(str(fonts.mincho)) & _codepoints(str(fonts.gothic))
    missing = [
        char
        for char in dict.fromkeys(html)
        if ord(char) >= 0x80
        and ord(char) not in first
        and not _invisible(char)
        and not _drawable(char, fonts)
    ]
    if missing:
        html = html.translate({ord(char): GETA for char in missing})
    return html, missing


def render_html(template_name: str, context: dict, *, unprintable: list | None = None) -> str:
    """The form's HTML, with the font files' URLs for its @font-face rules and the font
    chains for its font-family rules. Characters no font has become 〓 and are added to
    `unprintable` (for the warning to the requester)."""
    fonts = font_files()
    html = render_to_string(
        template_name, {**context, "font_urls": fonts.urls(), "font_stack": fonts.stacks()}
    )
    html, missing = printable(html, fonts=fonts)
    if unprintable is not None:
        unprintable.extend(c for c in missing if c not in unprintable)
    return html


def unprintable_warning(chars) -> str:
    return _(
        "フォントに無い文字「%(chars)s」は「〓」に置き換えて印刷しました。"
        "必要なら印刷した帳票に手書きで補ってください。"
    ) % {"chars": "".join(chars)}


def render_document(template_name: str, context: dict, *, unprintable: list | None = None):
    return html_to_document(render_html(template_name, context, unprintable=unprintable))


def render_pdf(template_name: str, context: dict) -> bytes:
    return write_pdf([render_document(template_name, context)])


# A line in each face (forms.css: headings Gothic, the rest Mincho) on the forms' own base
# page: its @font-face rules are the forms', and WeasyPrint keeps a loaded font under its
# rule, so the forms find theirs loaded.
_WARM_UP_PAGE = """{% extends "forms/_base.html" %}{% block body %}
<h1>帳票の準備（ゴシック）ABC</h1><p>帳票の準備（明朝）。0123456789</p>
{% endblock %}"""


def warm_up(template_names=()) -> None:
    """What the first render of a process would otherwise pay, paid now (a worker process
    calls it when it starts, before its first task): the font configuration with the
    @font-face fonts copied and registered, the character tables of every font of the chains
    (IPAmj's alone is 45 MB), WeasyPrint's and the PDF writer's first use, and the templates
    compiled. Needs no database."""
    fonts = font_files()
    for face in FONT_FAMILIES:
        for _family, path in fonts.chain(face):
            _codepoints(str(path))
    html = (
        engines["django"]
        .from_string(_WARM_UP_PAGE)
        .render({"font_urls": fonts.urls(), "font_stack": fonts.stacks()})
    )
    write_pdf([html_to_document(html)])
    for name in template_names:
        get_template(name)
