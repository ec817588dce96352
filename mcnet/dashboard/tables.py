"""The dashboard's figures as tables (every number a link to its list) and charts.

A table is the readable form of every chart (and the only form of the queues): rows of cells,
each cell a number and the URL of the list behind it. dashboard/_table.html renders any of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from groups.selectors import REVIEW_DUE_SOON_DAYS

from . import charts, links
from .selectors import (
    Compliance,
    Dashboard,
    FacilityCompliance,
    FacilityRisk,
    Matrix,
    MonthlySeries,
    Risks,
    archive_deadline_cutoff,
)


@dataclass
class Cell:
    value: int | str | None
    url: str = ""
    suffix: str = ""  # e.g. "%"

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, int)


@dataclass
class Row:
    header: str
    cells: list[Cell]
    header_url: str = ""


@dataclass
class Table:
    caption: str
    corner: str  # the header of the row headers' column
    columns: list[str]
    rows: list[Row]
    footer: Row | None = None
    note: str = ""


@dataclass
class Figure:
    """One block of the dashboard: a heading, an optional chart, its table, more links."""

    key: str
    title: str
    table: Table
    chart: charts.Chart | None = None
    more: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    intro: str = ""
    wide: bool = False  # a wide table: the chart above it, not beside it


# --- matrices (facilities by kind and state, users by occupation) ------------------------------


def _matrix_table(
    matrix: Matrix, *, caption: str, corner: str, url: Callable[[str | None, str | None], str]
) -> Table:
    columns = [label for _value, label in matrix.columns] + [_("計")]
    rows = [
        Row(
            row.label,
            [
                Cell(n, url(row.value, col))
                for n, (col, _l) in zip(row.cells, matrix.columns, strict=True)
            ]
            + [Cell(row.total, url(row.value, None))],
        )
        for row in matrix.rows
    ]
    footer = Row(
        _("計"),
        [
            Cell(n, url(None, col))
            for n, (col, _l) in zip(matrix.column_totals, matrix.columns, strict=True)
        ]
        + [Cell(matrix.total, url(None, None))],
    )
    return Table(caption, corner, columns, rows, footer)


def _matrix_chart(matrix: Matrix, label: str) -> charts.Chart:
    return charts.stacked_bars(
        [(row.label, row.cells) for row in matrix.rows],
        [col_label for _value, col_label in matrix.columns],
        label=label,
    )


def facilities_figure(matrix: Matrix) -> Figure:
    def url(kind, state):
        return links.admin_list("facilities.facility", kind__exact=kind, state__exact=state)

    title = _("事業所（施設の種類・状態別）")
    return Figure(
        "facilities",
        title,
        _matrix_table(matrix, caption=title, corner=_("施設の種類"), url=url),
        _matrix_chart(matrix, _("施設の種類ごとの事業所数（状態別の積み上げ横棒グラフ）")),
    )


def users_figure(matrix: Matrix) -> Figure:
    def url(occupation, state):
        return links.admin_list("facilities.user", occupation__exact=occupation, state__exact=state)

    title = _("利用者（職種・状態別）")
    return Figure(
        "users",
        title,
        _matrix_table(matrix, caption=title, corner=_("職種"), url=url),
        _matrix_chart(matrix, _("職種ごとの利用者数（状態別の積み上げ横棒グラフ）")),
    )


# --- monthly series ----------------------------------------------------------------------------


def _month_label(month) -> str:
    return _("%(year)d年%(month)d月") % {"year": month.start.year, "month": month.start.month}


def _short_month(month) -> str:
    return _("%(month)d月") % {"month": month.start.month}


def _period(months) -> str:
    return _("%(start)s〜%(end)s") % {
        "start": _month_label(months[0]),
        "end": _month_label(months[-1]),
    }


def _monthly_figure(
    key: str,
    title: str,
    chart_text: str,
    series: MonthlySeries,
    names: dict[str, str],
    url: Callable,
    intro: str = "",
) -> Figure:
    """A monthly series as a column chart and a table (a row per month, a total row);
    `url(series_key, first_month, last_month)` names the list behind each number."""
    keys, months, period = list(names), series.months, _period(series.months)
    rows = [
        Row(_month_label(month), [Cell(values[k], url(k, month, month)) for k in keys])
        for month, values in series.rows()
    ]
    footer = Row(_("計"), [Cell(series.total(k), url(k, months[0], months[-1])) for k in keys])
    table = Table(f"{title} {period}", _("月"), [names[k] for k in keys], rows, footer)
    chart = charts.grouped_columns(
        [_short_month(m) for m in months],
        [(names[k], series.series[k]) for k in keys],
        label=f"{chart_text} {period}",
    )
    return Figure(key, title, table, chart, intro=intro)


def joined_figure(series: MonthlySeries) -> Figure:
    lists = {
        "facilities": ("facilities.facility", "created_at"),
        "users": ("facilities.user", "date_joined"),
    }

    def url(key, first, last):
        model, field_name = lists[key]
        return links.admin_list(model, **links.between(field_name, first.start, last.end))

    return _monthly_figure(
        "joined",
        _("新しく登録された事業所と利用者（月別）"),
        _("月ごとの新規登録数（事業所・利用者の縦棒グラフ）"),
        series,
        {"facilities": _("事業所"), "users": _("利用者")},
        url,
    )


def groups_figure(d: Dashboard) -> Figure:
    g = d.groups
    rows = [
        (
            _("利用中の患者グループ"),
            g.patient_active,
            {"kind__exact": "patient", "state__exact": "active"},
        ),
        (
            _("アーカイブ予定の患者グループ（利用終了の報告済み）"),
            g.patient_to_be_archived,
            {"kind__exact": "patient", "state__exact": "to_be_archived"},
        ),
        (
            _("利用中の自由グループ"),
            g.free_active,
            {"kind__exact": "free", "state__exact": "active"},
        ),
        (_("アーカイブ済みのグループ"), g.archived, {"state__exact": "archived"}),
    ]
    table = Table(
        _("連携グループの数（現在）"),
        _("区分"),
        [_("グループ数")],
        [
            Row(label, [Cell(n, links.admin_list("groups.group", **params))])
            for label, n, params in rows
        ],
    )
    return Figure("groups", _("連携グループ"), table)


def group_months_figure(series: MonthlySeries) -> Figure:
    lists = {
        "created": ({"kind__in": "patient,free"}, "created_at"),
        "archived": ({"state__exact": "archived"}, "archived_at"),
    }

    def url(key, first, last):
        params, field_name = lists[key]
        return links.admin_list(
            "groups.group", **params, **links.between(field_name, first.start, last.end)
        )

    return _monthly_figure(
        "group_months",
        _("新しいグループとアーカイブ（月別）"),
        _("月ごとの新規グループ数とアーカイブ数（縦棒グラフ）"),
        series,
        {"created": _("新規グループ（患者・自由）"), "archived": _("アーカイブ")},
        url,
    )


def consent_months_figure(series: MonthlySeries) -> Figure:
    def url(key, first, last):
        until = last.param if last != first else None
        return links.dashboard("consents", what=key, month=first.param, until=until)

    return _monthly_figure(
        "consents",
        _("同意書の記録と撤回（月別）"),
        _("月ごとの同意書の記録数と撤回数（縦棒グラフ）"),
        series,
        {"recorded": _("記録された同意書"), "withdrawn": _("撤回")},
        url,
        intro=_("件数のみを示します。患者の氏名などは表示しません（別紙5）。"),
    )


# --- the queues ----------------------------------------------------------------------------------


def work_figure(d: Dashboard) -> Figure:
    w = d.work
    facility_list = "facilities.facility"
    rows = [
        (
            _("審査待ちの利用申込（別紙1・別紙2）"),
            w.applications,
            links.admin_list("enrollment.application", state="submitted"),
        ),
        (
            _("登録待ちの一括登録代行申込（別紙3）"),
            w.rosters,
            links.admin_list("enrollment.rosterrequest", state__exact="submitted"),
        ),
        (
            _("確認待ちの変更・中止届（別紙4）"),
            w.notices,
            links.admin_list("enrollment.changenotice", state__exact="submitted"),
        ),
        (
            _("センターへ報告された未完了の異常・不正アクセス"),
            w.incidents,
            links.admin_list("devices.incidentreport", state__in="reported,acknowledged"),
        ),
        (
            _("MCS管理者がいない事業所（利用中）"),
            w.no_mcs_admin,
            links.admin_list(facility_list, state__exact="active", mcs_admins="none"),
        ),
        (
            _("MCS管理者が複数いる事業所（利用中、別紙3 *1「原則1名」）"),
            w.several_mcs_admins,
            links.admin_list(facility_list, state__exact="active", mcs_admins="several"),
        ),
    ]
    table = Table(
        _("センターの対応待ち"),
        _("対応すること"),
        [_("件数")],
        [Row(label, [Cell(n, url)]) for label, n, url in rows],
    )
    return Figure("work", _("センターの対応待ち"), table)


def _risk_urls(now) -> dict[str, Callable[[int | None], str]]:
    cutoff = links.instant(archive_deadline_cutoff(now))
    devices = reverse("devices:center_overview")
    return {
        "pledge": lambda f: links.dashboard("staff_gaps", gap="pledge", facility=f),
        "education": lambda f: links.dashboard("staff_gaps", gap="education", facility=f),
        "devices": lambda f: devices,
        "archives": lambda f: links.admin_list(
            "groups.group",
            state__exact="to_be_archived",
            end_reported_at__lt=cutoff,
            facility__id__exact=f,
        ),
    }


RISK_COLUMNS = ("pledge", "education", "devices", "archives")


def _risk_row(entry: FacilityRisk, urls, header: str, header_url: str = "") -> Row:
    return Row(
        header,
        [Cell(getattr(entry, k), urls[k](entry.facility_id)) for k in RISK_COLUMNS],
        header_url,
    )


def risks_table(risks: Risks, now, *, caption: str) -> Table:
    urls = _risk_urls(now)
    columns = [
        _("誓約書のない職員"),
        _("今年度の教育未受講の職員"),
        _("確認切れのIT機器"),
        _("アーカイブ遅れのグループ"),
    ]
    rows = [
        _risk_row(e, urls, e.name, links.admin_change("facilities.facility", e.facility_id))
        for e in risks.facilities
    ]
    footer = _risk_row(risks.totals, urls, _("ネットワーク全体"))
    return Table(caption, _("事業所"), columns, rows, footer)


def risks_figure(d: Dashboard) -> Figure:
    risks = d.risks
    caption = _("注意が必要な事業所（上位%(n)d件、全%(total)d件）") % {
        "n": len(risks.facilities),
        "total": risks.facility_count,
    }
    return Figure(
        "risks",
        _("注意が必要な事業所"),
        risks_table(risks, d.now, caption=caption),
        more=[(_("注意が必要な事業所をすべて見る"), links.dashboard("risks"))],
        intro=_(
            "誓約書と教育（第7条）、IT機器のチェックリスト（第12条）、利用終了したグループのアーカイブ（留意事項2）。"
        ),
    )


# --- supporter reviews ---------------------------------------------------------------------------


def _compliance_row(entry: FacilityCompliance, header: str, header_url: str = "") -> Row:
    f = entry.facility_id

    def groups(state=None):
        return links.dashboard("reviews", state=state or "all", facility=f)

    def done(which):
        return links.dashboard("reviews", done=which, facility=f)

    return Row(
        header,
        [
            Cell(entry.groups, groups()),
            Cell(entry.ok, groups("ok")),
            Cell(entry.due, groups("due")),
            Cell(entry.overdue, groups("overdue")),
            Cell(entry.on_time, done("on_time")),
            Cell(entry.late, done("late")),
            Cell(entry.on_time_rate, suffix="%" if entry.on_time_rate is not None else ""),
        ],
        header_url,
    )


def compliance_table(c: Compliance, *, caption: str) -> Table:
    columns = [
        _("利用中の患者グループ"),
        _("期限内"),
        _("期限間近"),
        _("期限切れ"),
        _("期限内に実施した精査"),
        _("期限後に実施した精査"),
        _("期限内の割合"),
    ]
    rows = [
        _compliance_row(
            e,
            e.name or _("（事業所なし）"),
            links.admin_change("facilities.facility", e.facility_id) if e.facility_id else "",
        )
        for e in c.facilities
    ]
    footer = _compliance_row(c.totals, _("ネットワーク全体"))
    return Table(caption, _("事業所"), columns, rows, footer)


def compliance_figure(d: Dashboard) -> Figure:
    c = d.compliance
    caption = _("事業所ごとのサポーター精査（期限切れの多い順に上位%(n)d件、全%(total)d件）") % {
        "n": len(c.facilities),
        "total": c.facility_count,
    }
    series = [_("期限内"), _("期限間近"), _("期限切れ")]
    chart = charts.stacked_bars(
        [(_("ネットワーク全体"), [c.totals.ok, c.totals.due, c.totals.overdue])]
        + [(e.name or _("（事業所なし）"), [e.ok, e.due, e.overdue]) for e in c.facilities],
        series,
        label=_("利用中の患者グループの精査の状況（事業所別の積み上げ横棒グラフ）"),
    )
    return Figure(
        "compliance",
        _("サポーター精査の実施状況（留意事項1）"),
        compliance_table(c, caption=caption),
        chart,
        more=[(_("すべての事業所を見る"), links.dashboard("compliance"))],
        wide=True,
        intro=_(
            "期限は「最後の精査（なければグループ作成）からネットワーク設定の間隔」。"
            "期限間近は期限の%(days)s日前から。実施した精査は過去12か月の分です。"
        )
        % {"days": REVIEW_DUE_SOON_DAYS},
    )


def dashboard_figures(d: Dashboard) -> list[Figure]:
    return [
        work_figure(d),
        risks_figure(d),
        facilities_figure(d.facilities),
        users_figure(d.users),
        joined_figure(d.joined),
        groups_figure(d),
        group_months_figure(d.group_months),
        consent_months_figure(d.consent_months),
        compliance_figure(d),
    ]
