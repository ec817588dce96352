"""Charts drawn by the portal itself: the geometry of an SVG, drawn by the tag
chart_svg (mcnet.dashboard.templatetags.dashboard_tags) in dashboard/_chart.html.

No script and no style attribute (CSP: script-src 'self', style-src 'self'): bars are <rect>
elements with SVG presentation attributes (x, y, width, height, fill), which are not CSS.
Every chart has its table next to it, so nothing is told by colour alone.
"""

import math
from dataclasses import dataclass, field

# Okabe–Ito: told apart by people with any common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
TEXT = "#1a1a1a"
GRID = "#bbbbbb"


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    size: int = 13


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class Chart:
    label: str  # the accessible name of the <svg role="img">
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (name, fill)


def _fmt(value: int) -> str:
    return f"{value:,}"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (at least 1): the axis's end."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def stacked_bars(rows: list[tuple[str, list[int]]], series: list[str], *, label: str) -> Chart:
    """One horizontal bar per row, its segments stacked by series; the row's name above the
    bar and its total after it."""
    width, row_height, bar_height, value_room = 480, 36, 16, 60
    chart = Chart(label, width, max(row_height * len(rows), row_height) + 4)
    chart.legend = [(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(series)]
    scale_end = nice_ceiling(max((sum(values) for _name, values in rows), default=0))
    usable = width - value_room
    for index, (name, values) in enumerate(rows):
        top = index * row_height
        chart.labels.append(Label(0, top + 13, name))
        x = 0.0
        for s, value in enumerate(values):
            if value <= 0:
                continue
            w = usable * value / scale_end
            chart.rects.append(
                Rect(
                    round(x, 2),
                    top + 17,
                    round(max(w, 1.5), 2),
                    bar_height,
                    PALETTE[s % len(PALETTE)],
                    f"{name} {series[s]}: {_fmt(value)}",
                )
            )
            x += w
        chart.labels.append(Label(round(x + 6, 2), top + 30, _fmt(sum(values)), size=12))
    return chart


def grouped_columns(
    categories: list[str], series: list[tuple[str, list[int]]], *, label: str
) -> Chart:
    """Vertical columns: one group per category (a month), one column per series."""
    width, height = 520, 230
    left, right, top, bottom = 44, 8, 18, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    chart = Chart(label, width, height)
    chart.legend = [(name, PALETTE[i % len(PALETTE)]) for i, (name, _v) in enumerate(series)]
    peak = max((v for _name, values in series for v in values), default=0)
    scale_end = nice_ceiling(peak)
    # Gridlines at 0, the end of the axis and, when it is a whole number, half of it.
    for tick in sorted({0, scale_end, *([scale_end // 2] if scale_end % 2 == 0 else [])}):
        y = round(top + plot_h * (1 - tick / scale_end), 2)
        chart.lines.append(Line(left, y, width - right, y))
        chart.labels.append(Label(left - 6, y + 4, _fmt(tick), anchor="end", size=11))
    group_w = plot_w / max(len(categories), 1)
    column_w = group_w * 0.8 / max(len(series), 1)
    for c, category in enumerate(categories):
        group_x = left + c * group_w + group_w * 0.1
        chart.labels.append(
            Label(round(left + (c + 0.5) * group_w, 2), height - 8, category, "middle", 11)
        )
        for s, (name, values) in enumerate(series):
            value = values[c]
            h = plot_h * value / scale_end
            x = round(group_x + s * column_w, 2)
            y = round(top + plot_h - h, 2)
            if value > 0:
                chart.rects.append(
                    Rect(
                        x,
                        y,
                        round(column_w - 1, 2),
                        round(max(h, 1.5), 2),
                        PALETTE[s % len(PALETTE)],
                        f"{category} {name}: {_fmt(value)}",
                    )
                )
                chart.labels.append(
                    Label(round(x + column_w / 2, 2), y - 3, _fmt(value), "middle", 9)
                )
    return chart
