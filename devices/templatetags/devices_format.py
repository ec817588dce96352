"""Template filters for the devices pages."""

import datetime as dt

from django import template

register = template.Library()

# (first day, era name): the printed forms use the Japanese era (令和8年11月23日).
ERAS = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
)


@register.filter
def wareki(value) -> str:
    """令和8年11月23日 (令和元年 for the first year); blank fields as 「令和　年　月　日」."""
    if not value:
        return "令和　　年　　月　　日"
    if isinstance(value, dt.datetime):
        value = value.date()
    for start, name in ERAS:
        if value >= start:
            year = value.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年{value.month}月{value.day}日"
    return f"{value.year}年{value.month}月{value.day}日"
