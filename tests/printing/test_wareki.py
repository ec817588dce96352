"""Dates on the forms in the Japanese era (DOMAIN.md: 令和 年 月 日)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from mcnet.wareki import era_of, wareki


@pytest.mark.parametrize(
    "day, printed",
    [
        (dt.date(2026, 11, 23), "令和8年11月23日"),
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2019, 12, 31), "令和元年12月31日"),
        (dt.date(2020, 1, 1), "令和2年1月1日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(1940, 3, 5), "昭和15年3月5日"),
        (dt.date(1926, 12, 24), "大正15年12月24日"),
        (dt.date(2021, 9, 1), "令和3年9月1日"),
    ],
)
def test_dates_print_in_their_era(day, printed):
    assert wareki(day) == printed


def test_blank_date_is_left_to_fill_in_by_hand():
    assert wareki(None) == "令和\u3000年\u3000月\u3000日"
    assert wareki("") == "令和\u3000年\u3000月\u3000日"


def test_datetimes_are_dated_in_japan():
    # 15:30 UTC on 23 November is already the 24th in Japan.
    moment = dt.datetime(2026, 11, 23, 15, 30, tzinfo=ZoneInfo("UTC"))
    assert wareki(moment) == "令和8年11月24日"


def test_iso_strings_are_accepted():
    assert wareki("2026-11-23") == "令和8年11月23日"


def test_era_of_gives_name_and_year():
    assert era_of(dt.date(2026, 1, 1)) == ("令和", 8)
    with pytest.raises(ValueError):
        era_of(dt.date(1800, 1, 1))
