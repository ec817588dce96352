"""HTML templates (templates/forms/) to A4 PDF with WeasyPrint and the IPAex fonts.

A missing font does not make WeasyPrint fail: it draws .notdef boxes ("tofu") and goes on.
So the fonts are loaded by @font-face from their files (one shared FontConfiguration per
process, which also keeps WeasyPrint's font cache warm), a missing file is an error that says
which package to install, and a render that drew any .notdef glyph fails with the characters
it could not draw.
"""

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
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

_font_config: FontConfiguration | None = None
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
        return {"mincho": self.mincho.as_uri(), "gothic": self.gothic.as_uri()}


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
    """One FontConfiguration per process, shared by every render (WeasyPrint docs)."""
    global _font_config
    if _font_config is None:
        with _font_config_lock:
            if _font_config is None:
                _font_config = FontConfiguration()
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


def render_html(template_name: str, context: dict) -> str:
    """The form's HTML, with the font files' URLs for its @font-face rules."""
    fonts = font_files()
    return render_to_string(template_name, {**context, "font_urls": fonts.urls()})


def render_document(template_name: str, context: dict):
    return html_to_document(render_html(template_name, context))


def render_pdf(template_name: str, context: dict) -> bytes:
    return write_pdf([render_document(template_name, context)])
