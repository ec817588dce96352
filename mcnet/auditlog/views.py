"""The audit viewer: search the trail, page through it, export it (CSV, xlsx)."""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from mcnet import spreadsheets
from mcnet.audit import AuditAction, audit_record
from mcnet.pagination import page_number, uncounted_page

from .forms import AuditSearchForm
from .selectors import AuditFilters, audit_scope, events_in_scope, present, search

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows per file; narrow the search for more
EXPORT_CHUNK = 2_000


def _scope_or_deny(request):
    scope = audit_scope(request.user)
    if scope is None:
        raise PermissionDenied
    return scope


def _filters(form: AuditSearchForm) -> AuditFilters | None:
    if not form.is_bound:
        return AuditFilters()
    return form.filters() if form.is_valid() else None


@login_required
@require_GET
def index(request):
    scope = _scope_or_deny(request)
    params = request.GET.copy()
    params.pop("page", None)
    form = AuditSearchForm(params or None)
    filters = _filters(form)
    rows, has_next, number = [], False, page_number(request.GET.get("page"))
    if filters is not None:
        page = uncounted_page(search(events_in_scope(scope), filters), number, PAGE_SIZE)
        rows, has_next = present(page.object_list, scope), page.has_next
    return render(
        request,
        "auditlog/index.html",
        {
            "form": form,
            "rows": rows,
            "scope": scope,
            "page_number": number,
            "has_next": has_next,
            "has_previous": number > 1,
            "query": params.urlencode(),
        },
    )


HEADER = (
    gettext_lazy("日時"),
    gettext_lazy("操作者"),
    gettext_lazy("操作"),
    gettext_lazy("対象の種類"),
    gettext_lazy("対象ID"),
    gettext_lazy("対象"),
    gettext_lazy("事業所ID"),
    gettext_lazy("事業所"),
    gettext_lazy("変更内容"),
    gettext_lazy("IPアドレス"),
)


def _export_rows(events, scope) -> Iterator[list]:
    batch = []
    for event in events[:EXPORT_LIMIT].iterator(chunk_size=EXPORT_CHUNK):
        batch.append(event)
        if len(batch) == EXPORT_CHUNK:
            yield from _as_lines(present(batch, scope))
            batch = []
    yield from _as_lines(present(batch, scope))


def _as_lines(rows) -> Iterator[list]:
    for row in rows:
        yield [
            timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            row.actor,
            row.action,
            row.object_type,
            row.object_id,
            row.object_label,
            row.facility_id if row.facility_id is not None else "",
            row.facility_name,
            row.changes,
            row.ip_address,
        ]


@login_required
@require_GET
def export(request):
    """The search's events as CSV (UTF-8 with BOM) or xlsx; the export itself is audited."""
    scope = _scope_or_deny(request)
    form = AuditSearchForm(request.GET)
    filters = _filters(form)
    if filters is None:
        return render(
            request,
            "auditlog/index.html",
            {"form": form, "rows": [], "scope": scope, "page_number": 1},
            status=400,
        )
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    audit_record(
        actor=request.user,
        action=AuditAction.AUDIT_EXPORT,
        object_type="mcnet.auditevent",
        changes={
            "format": fmt,
            "filters": {k: str(v) for k, v in vars(filters).items() if v},
            "scope": "center" if scope.everything else sorted(scope.facility_ids),
        },
    )
    events = search(events_in_scope(scope), filters)
    name = f"mcnet-audit-{timezone.localdate():%Y%m%d}"
    header = [str(title) for title in HEADER]
    rows = _export_rows(events, scope)
    if fmt == "csv":
        return spreadsheets.csv_response(name, header, rows)
    return spreadsheets.xlsx_response(name, _("監査ログ"), header, rows)
