"""Dates in the Japanese era, as the network's forms print them (令和8年11月23日, 令和元年).

Forms are signed on paper, so a date not yet known is printed as a blank to fill in by hand:
「令和　年　月　日」 (ideographic spaces keep the width of one character each).
"""

import datetime as dt
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext as _

# (first day, name), newest first. Years are counted from 1 ("元年") on each first day.
ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1868, 10, 23), "明治"),
)
CURRENT_ERA = ERAS[0][1]
BLANK_GAP = "\u3000"  # one ideographic space per figure to be written by hand


def era_of(day: dt.date) -> tuple[str, int]:
    """The era's name and the year within it."""
    for first_day, name in ERAS:
        if day >= first_day:
            return name, day.year - first_day.year + 1
    raise ValueError(f"{day} is before the eras this module knows (明治)")


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError(f"not a date: {value!r}")


def era_year(year: int) -> str:
    """'元' for the first year of an era, the number otherwise."""
    return "元" if year == 1 else str(year)


def wareki(value, *, blank_era: str = CURRENT_ERA) -> str:
    """令和8年11月23日; None or "" gives the blank 「令和　年　月　日」."""
    if value in (None, ""):
        return f"{blank_era}{BLANK_GAP}年{BLANK_GAP}月{BLANK_GAP}日"
    day = _as_date(value)
    name, year = era_of(day)
    return f"{name}{era_year(year)}年{day.month}月{day.day}日"


class DateParseError(ValueError):
    """A date typed that is not one; the message is the Japanese one to show."""


_ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_ERA_FIRST_DAY = {name: first_day for first_day, name in ERAS}
# 昭和17年9月3日, 令和元年5月1日, S17.9.3, S17/9/3, H1-1-8
_WAREKI_RE = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s*(?P<year>元|\d{1,2})\s*"
    r"(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*日?"
    r"|[./-](?P<m2>\d{1,2})[./-](?P<d2>\d{1,2}))$"
)
# 1942-09-03, 1942/9/3, 1942.9.3, 1942年9月3日
_SEIREKI_RE = re.compile(
    r"^(?P<year>\d{4})\s*(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*日?"
    r"|[./-](?P<m2>\d{1,2})[./-](?P<d2>\d{1,2}))$"
)
_DASHES = "‐‑‒–—―−ー－"


def _era_end(name: str) -> dt.date | None:
    """The last day of an era (the day before the next began), None for the current one."""
    for index, (_first_day, era) in enumerate(ERAS):
        if era == name:
            return None if index == 0 else ERAS[index - 1][0] - dt.timedelta(days=1)
    raise KeyError(name)


def parse_date(text: str) -> dt.date:
    """A date typed in 和暦 or 西暦, any width: 昭和17年9月3日, S17.9.3, 令和元年5月1日,
    1942-09-03, 1942/9/3, 1942年9月3日. Raises DateParseError with a Japanese message."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    for dash in _DASHES:
        value = value.replace(dash, "-")
    value = value.upper()
    if match := _WAREKI_RE.match(value):
        era = _ERA_LETTERS.get(match["era"], match["era"])
        era_year_ = 1 if match["year"] == "元" else int(match["year"])
        if era_year_ < 1:
            raise DateParseError(_("%(era)s0年という年はありません。") % {"era": era})
        year = _ERA_FIRST_DAY[era].year + era_year_ - 1
    elif match := _SEIREKI_RE.match(value):
        era = None
        year = int(match["year"])
    else:
        raise DateParseError(
            _("日付は「昭和17年9月3日」「S17.9.3」または「1942-09-03」の形で入力してください。")
        )
    month = int(match["m1"] or match["m2"])
    day_of_month = int(match["d1"] or match["d2"])
    try:
        day = dt.date(year, month, day_of_month)
    except ValueError:
        raise DateParseError(
            _("%(month)s月%(day)s日という日はありません。") % {"month": month, "day": day_of_month}
        ) from None
    if era is not None:
        first_day, last_day = _ERA_FIRST_DAY[era], _era_end(era)
        if day < first_day or (last_day is not None and day > last_day):
            until = _("%(last)sまで") % {"last": wareki(last_day)} if last_day else ""
            raise DateParseError(
                _("%(typed)sという日はありません（%(era)sは%(first)sから%(until)sです）。")
                % {
                    "typed": f"{era}{era_year(era_year_)}年{month}月{day_of_month}日",
                    "era": era,
                    "first": wareki(first_day),
                    "until": until,
                }
            )
    elif day < ERAS[-1][0]:
        raise DateParseError(_("明治より前の日付は入力できません。"))
    return day


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """満年齢 as people say it: one year more on each birthday (a 2/29 birth on 3/1 in
    common years)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
