"""Dates typed in 和暦 or 西暦, any width, as the patients' dates of birth are written on the
network's forms (別紙7); impossible ones refused with a Japanese message."""

import datetime as dt

import pytest

from mcnet.forms import JapaneseDateField
from mcnet.wareki import DateParseError, age_on, parse_date

SEPT_3_1942 = dt.date(1942, 9, 3)


@pytest.mark.parametrize(
    "typed",
    [
        "昭和17年9月3日",
        "昭和17年09月03日",
        "S17.9.3",
        "S17/9/3",
        "s17-9-3",
        "1942-09-03",
        "1942/9/3",
        "1942年9月3日",
        "昭和１７年９月３日",
        "１９４２－０９－０３",
        "Ｓ１７．９．３",
        " 昭和 17年 9月 3日 ",
    ],
)
def test_the_same_day_typed_in_every_form(typed):
    assert parse_date(typed) == SEPT_3_1942


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        ("H1.1.8", dt.date(1989, 1, 8)),
        ("R1.5.1", dt.date(2019, 5, 1)),
        ("大正15年12月24日", dt.date(1926, 12, 24)),
        ("明治45年7月29日", dt.date(1912, 7, 29)),
        ("2024/2/29", dt.date(2024, 2, 29)),
    ],
)
def test_first_years_and_the_last_days_of_eras(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("昭和65年1月1日", "昭和は昭和元年12月25日から昭和64年1月7日まで"),
        ("昭和64年1月8日", "昭和64年1月8日という日はありません"),
        ("平成31年5月1日", "平成は平成元年1月8日から平成31年4月30日まで"),
        ("令和元年4月30日", "令和は令和元年5月1日から"),
        ("2023年2月30日", "2月30日という日はありません"),
        ("昭和17年2月30日", "2月30日という日はありません"),
        ("2023-13-01", "13月1日という日はありません"),
        ("令和0年1月1日", "令和0年という年はありません"),
        ("1800-01-01", "明治より前の日付"),
        ("きのう", "「昭和17年9月3日」「S17.9.3」または「1942-09-03」の形"),
        ("17.9.3", "の形で入力してください"),
        ("X17.9.3", "の形で入力してください"),
    ],
)
def test_impossible_dates_are_refused_in_japanese(typed, message):
    with pytest.raises(DateParseError) as refused:
        parse_date(typed)
    assert message in str(refused.value)


def test_the_form_field_is_a_text_input_showing_both_forms():
    field = JapaneseDateField(required=False)
    html = field.widget.render("birth_date", SEPT_3_1942)
    assert 'type="text"' in html and 'value="1942-09-03"' in html
    assert "昭和17年9月3日" in html and "1942-09-03" in html  # the placeholder
    assert "和暦" in str(field.help_text) and "西暦" in str(field.help_text)
    assert field.clean("S17.9.3") == SEPT_3_1942
    assert field.clean("") is None
    with pytest.raises(Exception, match="平成31年4月30日まで"):
        field.clean("平成31年5月1日")


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (dt.date(2026, 9, 2), 83),  # the day before the birthday
        (dt.date(2026, 9, 3), 84),  # the birthday
        (dt.date(2026, 12, 31), 84),
        (dt.date(2027, 1, 1), 84),
    ],
)
def test_age_turns_on_the_birthday(on, age):
    assert age_on(SEPT_3_1942, on) == age


def test_a_29_february_birth_ages_on_1_march_in_common_years():
    born = dt.date(2000, 2, 29)
    assert age_on(born, dt.date(2023, 2, 28)) == 22
    assert age_on(born, dt.date(2023, 3, 1)) == 23
    assert age_on(born, dt.date(2024, 2, 29)) == 24
