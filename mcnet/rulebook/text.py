"""The rules' text as structured blocks, and the plain text the center edits them in.

A version is stored as a list of blocks (no HTML: templates print each block escaped). The
center writes one block per line; the line's opening says what it is:

    # 見出し / ## 囲みの見出し / ### 並べる囲みの見出し
    （目的）          条の見出し
    第１条　本文      条
    （１）　本文      号 (also (1))
    ２　本文          項
    ・本文 / ■本文   箇条
    ---               改ページ（印刷）
    その他            段落

Placeholders such as {ネットワーク名} are filled from the network settings when printed.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BLOCK_TYPES = ("heading", "caption", "article", "item", "paragraph", "bullet", "text", "pagebreak")
MAX_LINE = 2000
MAX_BLOCKS = 1000

_ARTICLE = re.compile(r"^(第[0-9０-９一二三四五六七八九十百]+条)[\s　]*(.*)$")
_ITEM = re.compile(r"^([（(][0-9０-９]{1,3}[）)])[\s　]*(.*)$")
_PARAGRAPH = re.compile(r"^([0-9０-９]{1,3})[\s　]+(.+)$")
_CAPTION = re.compile(r"^（[^）]{1,40}）$")
_HEADING = re.compile(r"^(#{1,3})[\s　]+(.+)$")
_BULLET = ("・", "■", "◆", "●")
# What a placeholder stands for: the network's own settings (mcnet.models.NetworkSettings).
PLACEHOLDERS = {
    "ネットワーク名": "name",
    "対象地域": "region_name",
    "運営": "operator",
    "センター名": "center_name",
}
_PLACEHOLDER = re.compile(r"\{([^{}]{1,20})\}")


def _clean(line: str) -> str:
    # No control characters (other than the line break we split on) reach the stored text.
    line = "".join(ch for ch in line if unicodedata.category(ch)[0] != "C" or ch == "\t")
    return line.replace("\t", " ").strip()


def parse(source: str) -> list[dict]:
    """The blocks of `source`; a ValidationError (in Japanese) names the line at fault."""
    blocks: list[dict] = []
    for number, raw in enumerate((source or "").splitlines(), start=1):
        line = _clean(raw)
        if not line:
            continue
        if len(line) > MAX_LINE:
            raise ValidationError(
                _("%(line)d 行目が長すぎます（%(max)d 文字まで）。")
                % {"line": number, "max": MAX_LINE}
            )
        for name in _PLACEHOLDER.findall(line):
            if name not in PLACEHOLDERS:
                raise ValidationError(
                    _("%(line)d 行目の {%(name)s} は使えません。使えるのは %(known)s です。")
                    % {
                        "line": number,
                        "name": name,
                        "known": "、".join(f"{{{p}}}" for p in PLACEHOLDERS),
                    }
                )
        blocks.append(_block(line))
    if not blocks:
        raise ValidationError(_("本文を入力してください。"))
    if len(blocks) > MAX_BLOCKS:
        raise ValidationError(_("本文が長すぎます（%(max)d 行まで）。") % {"max": MAX_BLOCKS})
    return blocks


def _block(line: str) -> dict:
    if line == "---":
        return {"type": "pagebreak"}
    if m := _HEADING.match(line):
        return {"type": "heading", "level": len(m.group(1)), "text": m.group(2).strip()}
    if m := _ARTICLE.match(line):
        return {"type": "article", "number": m.group(1), "text": m.group(2).strip()}
    if m := _ITEM.match(line):
        if m.group(2):
            return {"type": "item", "number": m.group(1), "text": m.group(2).strip()}
    if _CAPTION.match(line):
        return {"type": "caption", "text": line}
    if m := _PARAGRAPH.match(line):
        return {"type": "paragraph", "number": m.group(1), "text": m.group(2).strip()}
    if line.startswith(_BULLET):
        return {"type": "bullet", "text": line}
    return {"type": "text", "text": line}


def unparse(blocks: list[dict]) -> str:
    """The editable text of `blocks` (parse(unparse(b)) == b)."""
    lines = []
    for block in blocks:
        kind = block.get("type")
        if kind == "pagebreak":
            lines.append("---")
        elif kind == "heading":
            lines.append("#" * int(block.get("level", 1)) + " " + block["text"])
        elif kind in ("article", "item", "paragraph"):
            lines.append(f"{block['number']}　{block['text']}")
        else:
            lines.append(block["text"])
    return "\n".join(lines) + "\n"


def fill(blocks: list[dict], values: dict) -> list[dict]:
    """The blocks with each placeholder replaced by the network's setting. A place name left
    empty takes its particle with it (「{対象地域}の病院」 → 「病院」)."""

    def replace(match: re.Match) -> str:
        return str(values.get(PLACEHOLDERS.get(match.group(1), ""), "") or "")

    filled = []
    for block in blocks:
        block = dict(block)
        if "text" in block:
            text = block["text"]
            for name, field in PLACEHOLDERS.items():
                if not values.get(field):
                    text = text.replace(f"{{{name}}}の", "")
            block["text"] = _PLACEHOLDER.sub(replace, text)
        filled.append(block)
    return filled


def plain(blocks: list[dict]) -> str:
    """One line per block, as printed (the numbers with their text)."""
    return unparse([b for b in blocks if b.get("type") != "pagebreak"])


def pages(blocks: list[dict]) -> list[list[dict]]:
    """The blocks split at each page break (printed forms of more than one page)."""
    result: list[list[dict]] = [[]]
    for block in blocks:
        if block.get("type") == "pagebreak":
            result.append([])
        else:
            result[-1].append(block)
    return result


def sections(blocks: list[dict]) -> list[dict]:
    """Blocks grouped under their headings, and headings of level 3 side by side in a row
    (別紙5's two cards): [{"heading": block|None, "level": n, "body": [...]} | {"row": [...]}]."""
    grouped: list[dict] = []
    for block in blocks:
        if block.get("type") == "heading":
            section = {"heading": block, "level": block.get("level", 1), "body": []}
            if section["level"] == 3:
                if grouped and "row" in grouped[-1]:
                    grouped[-1]["row"].append(section)
                else:
                    grouped.append({"row": [section]})
            else:
                grouped.append(section)
        elif grouped and "row" in grouped[-1]:
            grouped[-1]["row"][-1]["body"].append(block)
        elif grouped:
            grouped[-1]["body"].append(block)
        else:
            grouped.append({"heading": None, "level": 0, "body": [block]})
    return grouped
