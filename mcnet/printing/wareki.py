"""Dates in the Japanese era, as the network's forms print them (令和8年11月23日, 令和元年).

Forms are signed on paper, so a date not yet known is printed as a blank to fill in by hand:
「令和　年　月　日」 (ideographic spaces keep the width of one character each).
"""

import datetime as dt

from django.utils import timezone

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
