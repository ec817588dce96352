"""Menu entries of the center's dashboard and the audit viewer."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from facilities.models import FacilityRole

register = template.Library()


@register.simple_tag
def reads_audit_trail(user) -> bool:
    """Whether the menu shows the audit viewer (center staff and MCS administrators)."""
    # The same answer as auditlog's audit_scope (its grants follow these role rows), from the
    # roles already read for this request instead of another query on every page.
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_center_staff or user.holds_role(FacilityRole.Role.MCS_ADMIN)


# The dashboard's tables and charts are drawn here rather than by a template per cell or bar:
# the dashboard has some 500 numbers and 300 SVG elements, a full list 20,000 rows (make bench:
# an include per cell was most of the page's render). The markup is the templates' own,
# escaped by format_html as autoescape would.

_NO_NUMBER = mark_safe('<td class="num">—</td>')


def _cell(cell) -> str:
    if cell.value is None:
        return _NO_NUMBER
    value = intcomma(cell.value)
    if cell.url:
        return format_html(
            '<td class="num"><a href="{}" class="count">{}</a></td>', cell.url, value
        )
    return format_html('<td class="num">{}{}</td>', value, cell.suffix)


@register.simple_tag
def figure_cells(cells) -> str:
    """The `<td>`s of a row of mcnet.dashboard.tables: each number a link to its list, "—"
    for none."""
    return mark_safe("".join(_cell(cell) for cell in cells))  # noqa: S308 (each part escaped)


@register.simple_tag
def chart_svg(chart) -> str:
    """The `<svg>` of a mcnet.dashboard.charts.Chart: presentation attributes only (no style
    attribute, no script: CSP). Numbers as written, never localized (SVG reads "12.5")."""
    return format_html(
        '<svg class="chart-svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-label="{label}" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        "{lines}{rects}{labels}</svg>",
        w=str(chart.width),
        h=str(chart.height),
        label=chart.label,
        lines=format_html_join(
            "",
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbbbbb" stroke-width="1"/>',
            ((str(n.x1), str(n.y1), str(n.x2), str(n.y2)) for n in chart.lines),
        ),
        rects=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
            (
                (str(r.x), str(r.y), str(r.width), str(r.height), r.fill, r.title)
                for r in chart.rects
            ),
        ),
        labels=format_html_join(
            "",
            '<text x="{}" y="{}" font-size="{}" text-anchor="{}" fill="#1a1a1a">{}</text>',
            ((str(t.x), str(t.y), str(t.size), t.anchor, t.text) for t in chart.labels),
        ),
    )
