"""The center's dashboard and the lists behind its numbers (center staff only).

Every page here is the center's: anyone else gets 403 (the URL says nothing secret; what the
pages show is). Views are thin: a selector computes, tables.py lays out, templates render.
"""

from dataclasses import replace

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consents.selectors import patient_request_counts
from facilities.models import fiscal_year_start
from mcnet.audit import AuditAction, audit_record
from mcnet.permissions import center_staff_required

from . import agreements, exports, selectors, tables
from .forms import ConsentListForm, ReportForm, ReviewListForm, StaffGapForm

PAGE_SIZE = 100


def center_page(view):
    """The center's pages here: center staff only (mcnet.permissions), and GET only."""
    return center_staff_required(require_GET(view))


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@center_page
def index(request):
    """The network at a glance (figures from the cache, with their 集計時刻), and what waits
    for the center (counted on every view)."""
    figures = selectors.cached_dashboard()
    return render(
        request,
        "dashboard/index.html",
        {
            "d": figures,
            "figures": tables.dashboard_figures(figures),
            "figures_minutes": selectors.FIGURES_EVERY // 60,
            # 別紙6 ご本人の照会: numbers only — never whose request or what was asked.
            "patient_requests": patient_request_counts(today=timezone.localdate()),
        },
    )


@center_page
def compliance(request):
    """Supporter-review compliance of every facility (留意事項 1), a page of them at a time
    in the same order (a network of 20,000 facilities is not one table on a tablet), with the
    network's totals on every page."""
    with selectors.short_aggregates():
        result = selectors.review_compliance()
    page = _page(request, result.facilities)
    table = tables.compliance_table(
        replace(result, facilities=list(page)),
        caption=_("事業所ごとのサポーター精査（全%(n)d件）") % {"n": result.facility_count},
    )
    return render(
        request,
        "dashboard/compliance.html",
        {"table": table, "compliance": result, "page": page, "query": _query_without_page(request)},
    )


@center_page
def risks(request):
    """Every facility with something to follow up (第7条, 第12条, 留意事項 2), a page at a
    time, with the network's totals on every page."""
    now = timezone.now()
    with selectors.short_aggregates():
        result = selectors.facilities_at_risk(now=now)
    page = _page(request, result.facilities)
    table = tables.risks_table(
        replace(result, facilities=list(page)),
        now,
        caption=_("注意が必要な事業所（全%(n)d件）") % {"n": result.facility_count},
    )
    return render(
        request,
        "dashboard/risks.html",
        {"table": table, "risks": result, "page": page, "query": _query_without_page(request)},
    )


def _list_page(request, template: str, form, rows_for, **context):
    """A list behind a number: the filter form, one page of rows, the facility's name."""
    valid = form.is_valid()
    rows = rows_for(form.cleaned_data) if valid else []
    facility_id = form.cleaned_data.get("facility") if valid else None
    return render(
        request,
        template,
        {
            "form": form,
            "page": _page(request, rows),
            "facility_name": selectors.facility_name(facility_id),
            "query": _query_without_page(request),
            **context,
        },
    )


def _review_rows(data):
    if data["done"]:
        return selectors.review_list(data["done"] == "on_time", facility_id=data["facility"])
    state = None if data["state"] == "all" else data["state"]
    return selectors.review_group_list(state, facility_id=data["facility"])


@center_page
def reviews(request):
    """The patient groups (by id) or the reviews behind a compliance number."""
    form = ReviewListForm(request.GET)
    kind = "reviews" if request.GET.get("done") else "groups"
    return _list_page(request, "dashboard/reviews.html", form, _review_rows, kind=kind)


@center_page
def staff_gaps(request):
    """Staff without a pledge or without this 年度's education (第7条)."""
    return _list_page(
        request,
        "dashboard/staff_gaps.html",
        StaffGapForm(request.GET),
        lambda data: selectors.staff_gap_list(data["gap"], facility_id=data["facility"]),
        year_start=fiscal_year_start(timezone.localdate()),
    )


@center_page
def agreements_outdated(request):
    """Who agreed only to an older version of the rules now in force (第15条)."""
    outdated = agreements.outdated_agreements()
    return render(
        request,
        "dashboard/agreements.html",
        {"o": outdated, "pledges": _page(request, outdated.pledges)},
    )


@center_page
def consents(request):
    """The consents behind a monthly number: ids, dates, facility — no patient detail."""
    return _list_page(
        request,
        "dashboard/consents.html",
        ConsentListForm(request.GET),
        lambda data: selectors.consent_list(data["what"], data["month"], data["until"]),
    )


@center_page
def report(request):
    """Reports for the medical association: pick one, a period and a format; the download is
    recorded in the audit trail."""
    if "report" not in request.GET:
        form = ReportForm(initial=ReportForm.initial_values())
        return render(request, "dashboard/reports.html", {"form": form})
    form = ReportForm(request.GET)
    if not form.is_valid():
        return render(request, "dashboard/reports.html", {"form": form}, status=400)
    data = form.cleaned_data
    period = data["period"]
    audit_record(
        actor=request.user,
        action=AuditAction.DASHBOARD_REPORT,
        object_type="report",
        object_id=data["report"],
        changes={
            "format": data["format"],
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
        },
    )
    return exports.response(exports.build(data["report"], period), data["format"])
