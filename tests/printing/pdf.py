"""Reading PDFs back in tests, with poppler's command-line tools (pdftotext, pdffonts)."""

import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

SEED = Path("/work/shared/seeds/mcnet-rules.ja.txt")


def _with_file(pdf: bytes, args: list[str]) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(
            [*args, f.name, *([] if args[0] == "pdffonts" else ["-"])],
            check=True,
            capture_output=True,
            text=True,
        ).stdout


def text(pdf: bytes, *, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext", "-raw", "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return _with_file(pdf, args)


def pages(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    return text(pdf).split("\f")[:-1]


def page_count(pdf: bytes) -> int:
    return len(pages(pdf))


@dataclass
class Font:
    name: str
    type: str
    encoding: str
    embedded: bool
    subset: bool
    unicode: bool


def fonts(pdf: bytes) -> list[Font]:
    out = _with_file(pdf, ["pdffonts"])
    found = []
    for line in out.splitlines()[2:]:
        # name type (may contain spaces) encoding emb sub uni object ID
        m = re.match(r"^(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line)
        if m:
            found.append(
                Font(
                    name=m.group(1),
                    type=m.group(2),
                    encoding=m.group(3),
                    embedded=m.group(4) == "yes",
                    subset=m.group(5) == "yes",
                    unicode=m.group(6) == "yes",
                )
            )
    return found


def font_problems(pdf: bytes) -> list[str]:
    """Why this PDF's Japanese would not print on a fresh machine, or [] if it would.

    - every font embedded as a subset (a missing font falls back to whatever is installed);
    - an IPAex face among them (the forms' fonts);
    - no .notdef glyph drawn: WeasyPrint maps a character no font has to glyph 0 (.notdef,
      the "tofu" box) and, for exactly that case, gives the font a custom CMap instead of
      Identity-H (weasyprint/pdf/fonts.py, "font.missing"). So a font whose encoding is not
      Identity-H draws .notdef somewhere.
    """
    listed = fonts(pdf)
    problems = []
    if not listed:
        problems.append("no font in the PDF")
    for font in listed:
        if not (font.embedded and font.subset):
            problems.append(f"{font.name} not embedded as a subset")
        if font.encoding != "Identity-H":
            problems.append(f"{font.name} draws .notdef glyphs (encoding {font.encoding})")
    if not any("IPAex" in font.name for font in listed):
        problems.append("no IPAex font embedded: " + ", ".join(f.name for f in listed))
    return problems


def normalize(value: str) -> str:
    """NFKC, no whitespace: compare wording across line breaks, full/half width and the
    seed's extraction artifacts (⾧ for 長)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


def seed() -> str:
    return normalize(SEED.read_text(encoding="utf-8"))
