"""Pages of the enrollment app: thin — parse, call one service or selector, render.

Public (no account): the application (別紙1/2), its e-mail confirmation, and the applicant's
own page reached by the link they were mailed. Signed in: 別紙3 and 別紙4 for the facilities
the user may sign for; everything else 404.
"""

from pathlib import PurePath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from facilities.postal import lookup as postal_lookup
from mcnet.actions import form_action, post_action
from mcnet.forms import picked
from mcnet.middleware import client_ip
from mcnet.uploads import FORM_OVERHEAD_BYTES, private_file_response, request_body_limit

from . import permissions, selectors, services
from .forms import (
    ADD_ROWS,
    MAX_FORM_ROWS,
    ApplicationForm,
    ChangeFormSet,
    ChangeHeaderForm,
    RosterFormSet,
    RosterHeaderForm,
    RosterUploadForm,
    ScanForm,
    StopForm,
    rows_count,
)
from .models import RosterRequest
from .rows import CHANGE_COLUMNS, ROSTER_COLUMNS, check_roster_rows
from .spreadsheets import (
    MAX_FILE_BYTES,
    XLSX_CONTENT_TYPE,
    SpreadsheetError,
    TooManyRows,
    blank_roster_workbook,
)
from .spreadsheets import read_roster_file as _read_roster_file

# The public form: a few honest tries per hour and address are plenty (a clinic applies once).
APPLY_LIMIT = 10
APPLY_PERIOD = 60 * 60


def _rate_limited(request, scope: str, limit: int, period: int) -> bool:
    key = f"enrollment:rate:{scope}:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, period)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, period)
        count = 1
    return count > limit


# --- 別紙1 / 別紙2: public -------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def apply(request):
    form = ApplicationForm(request.POST or None)
    if request.method == "POST":
        if _rate_limited(request, "apply", APPLY_LIMIT, APPLY_PERIOD):
            return render(request, "enrollment/apply_limited.html", status=429)
        if form.is_bot:
            return redirect("enrollment:apply_sent")  # say nothing to a bot
        if form.is_valid():
            services.application_create(data={**form.cleaned_data, "pledge_affirmed": True})
            return redirect("enrollment:apply_sent")
    return render(request, "enrollment/apply.html", {"form": form})


# The address lookup of the public form: Japan Post's public data, no account needed; limited
# like the form itself, since each keystroke of seven digits may ask once.
POSTAL_LOOKUP_LIMIT = 300


@require_http_methods(["GET"])
def postal_code_lookup(request):
    """JSON for postal_lookup.js on the application form (facilities.postal: local data)."""
    if _rate_limited(request, "postal", POSTAL_LOOKUP_LIMIT, APPLY_PERIOD):
        return JsonResponse({"found": False}, status=429)
    found = postal_lookup(request.GET.get("code", ""))
    if found is None:
        return JsonResponse({"found": False}, status=404)
    return JsonResponse({"found": True, **found})


@require_http_methods(["GET"])
def apply_sent(request):
    return render(request, "enrollment/apply_sent.html", {"days": selectors.CONFIRM_MAX_AGE_DAYS})


@never_cache
@require_http_methods(["GET", "POST"])
def apply_confirm(request, token):
    """The link in the confirmation mail: one button sends the application to the center."""
    try:
        application = selectors.application_for_confirm_token(token)
    except selectors.ConfirmLinkExpired:
        return render(request, "enrollment/apply_expired.html", status=410)
    if application.state != application.State.UNCONFIRMED:
        return redirect(selectors.application_status_path(application))
    if request.method == "POST":
        services.application_confirm_email(application=application)
        messages.success(request, _("メールアドレスを確認し、申込をセンターへ提出しました。"))
        return redirect(selectors.application_status_path(application))
    return render(request, "enrollment/apply_confirm.html", {"application": application})


def _status_page(request, application, token, *, scan_form=None, edit_form=None, status=200):
    if edit_form is None and application.state == application.State.RETURNED:
        edit_form = ApplicationForm(instance=application)
    return render(
        request,
        "enrollment/application_status.html",
        {
            "application": application,
            "token": token,
            "events": application.events.all(),
            "scan_form": scan_form or ScanForm(),
            "edit_form": edit_form,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET"])
def application_status(request, token):
    application = selectors.application_for_token(token)
    return _status_page(request, application, token)


@never_cache
@require_POST
def application_scan(request, token):
    application = selectors.application_for_token(token)
    form = ScanForm(request.POST, request.FILES)
    done = form_action(
        request,
        form,
        lambda data: services.application_attach_scan(application=application, scan=data["scan"]),
        success=_("署名・押印した写しをセンターへ送りました。"),
        then=redirect("enrollment:application_status", token=token),
    )
    return done or _status_page(request, application, token, scan_form=form, status=400)


@never_cache
@require_POST
def application_resubmit(request, token):
    application = selectors.application_for_token(token)
    form = ApplicationForm(request.POST, instance=application)
    if form.is_valid() and not form.is_bot:
        try:
            application = services.application_resubmit(
                application=application, data={**form.cleaned_data, "pledge_affirmed": True}
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if application.state == application.State.UNCONFIRMED:
                return redirect("enrollment:apply_sent")
            messages.success(request, _("修正した申込をセンターへ提出しました。"))
            return redirect("enrollment:application_status", token=token)
    application.refresh_from_db()  # the form wrote its values onto the instance
    return _status_page(request, application, token, edit_form=form, status=400)


# --- signed in: the facility's papers ------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def index(request):
    facilities = list(permissions.filing_facilities(request.user))
    return render(
        request,
        "enrollment/index.html",
        {
            "facilities": [
                {"facility": f, "can_stop": permissions.can_stop(request.user, f)}
                for f in facilities
            ],
            "rosters": selectors.roster_requests_for(request.user)[:50],
            "notices": selectors.notices_for(request.user)[:50],
        },
    )


def _attach_row_errors(formset, check, columns) -> None:
    """Show each error next to its input too (the summary above lists them all)."""
    keys = {str(label): key for key, label in columns.items()}
    for error in check.errors:
        if error.row is None or not 1 <= error.row <= len(formset.forms):
            continue
        form = formset.forms[error.row - 1]
        key = keys.get(error.column)
        if key and key in form.fields:
            form.errors.setdefault(key, form.error_class()).append(error.message)


def _formset_rows(formset) -> list[dict]:
    return [
        {"row": index, **form.cleaned_data}
        for index, form in enumerate(formset.forms, start=1)
        if form.is_valid()
    ]


def _with_more_rows(data, prefix: str, extra: int):
    data = data.copy()
    total = f"{prefix}-TOTAL_FORMS"
    try:
        current = int(data.get(total) or 0)
    except ValueError:  # a tampered management form: the formset itself reports it
        return data
    data[total] = str(min(max(current, 0) + extra, MAX_FORM_ROWS))
    return data


def _rows_added(request) -> None:
    messages.info(
        request, _("行を%(n)d行追加しました（まだ提出されていません）。") % {"n": ADD_ROWS}
    )


def _roster_page(request, facility, *, formset, header, upload=None, check=None, status=200):
    return render(
        request,
        "enrollment/roster_form.html",
        {
            "facility": facility,
            "formset": formset,
            "header": header,
            "upload_form": upload or RosterUploadForm(),
            "check": check,
            "add_rows": ADD_ROWS,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def roster_new(request, facility_id):
    """別紙3 on a web form with rows; "add rows" posts back without JavaScript."""
    facility = selectors.facility_for_filing(request.user, facility_id)
    if request.method == "GET":
        count = rows_count(request.GET.get("rows"))
        formset = RosterFormSet(initial=[{}] * count)
        header = RosterHeaderForm(initial={"representative_name": facility.manager_name})
        return _roster_page(request, facility, formset=formset, header=header)

    data = request.POST
    if "add_rows" in data:
        data = _with_more_rows(data, "form", ADD_ROWS)
        _rows_added(request)
    formset = RosterFormSet(data)
    header = RosterHeaderForm(data)
    if "add_rows" in data or not formset.is_valid():
        return _roster_page(request, facility, formset=formset, header=header)
    rows = _formset_rows(formset)
    check = check_roster_rows(rows)
    _attach_row_errors(formset, check, ROSTER_COLUMNS)
    if not header.is_valid() or not check.is_valid:
        return _roster_page(
            request, facility, formset=formset, header=header, check=check, status=400
        )
    source = data.get("source")
    try:
        roster_request = services.roster_submit(
            actor=request.user,
            facility=facility,
            rows=rows,
            source=source if source in RosterRequest.Source.values else "web",
            representative_name=header.cleaned_data["representative_name"],
            admin_count_confirmed=header.cleaned_data["admin_count_confirmed"],
        )
    except services.RowsInvalid as exc:  # another submission took an address meanwhile
        _attach_row_errors(formset, exc.check, ROSTER_COLUMNS)
        return _roster_page(
            request, facility, formset=formset, header=header, check=exc.check, status=400
        )
    except ValidationError as exc:
        header.add_error("admin_count_confirmed", exc)
        return _roster_page(
            request, facility, formset=formset, header=header, check=check, status=400
        )
    messages.success(
        request,
        _("一括登録代行申込（別紙3）をセンターへ提出しました。登録が済むとお知らせします。"),
    )
    return redirect("enrollment:roster_detail", pk=roster_request.pk)


@login_required
@require_POST
@request_body_limit(MAX_FILE_BYTES + FORM_OVERHEAD_BYTES)
def roster_upload(request, facility_id):
    """The 別紙3 spreadsheet, read back onto the form to check; nothing is saved here."""
    facility = selectors.facility_for_filing(request.user, facility_id)
    upload = RosterUploadForm(request.POST, request.FILES)
    header = RosterHeaderForm(initial={"representative_name": facility.manager_name})
    if not upload.is_valid():
        formset = RosterFormSet(initial=[{}] * rows_count(None))
        return _roster_page(
            request, facility, formset=formset, header=header, upload=upload, status=400
        )
    try:
        # Never more rows read than the form shows (a zip bomb stops here, in milliseconds).
        sheet = _read_roster_file(upload.cleaned_data["file"].read(), max_rows=MAX_FORM_ROWS)
        too_many = len(sheet.rows) > MAX_FORM_ROWS
    except TooManyRows:
        too_many = True
    except SpreadsheetError as exc:
        upload.add_error("file", str(exc))
        formset = RosterFormSet(initial=[{}] * rows_count(None))
        return _roster_page(
            request, facility, formset=formset, header=header, upload=upload, status=400
        )
    if too_many:
        upload.add_error(
            "file",
            _(
                "画面で確認できるのは %(max)d 行までです。ファイルを分けるか、"
                "センターにご相談ください。"
            )
            % {"max": MAX_FORM_ROWS},
        )
        formset = RosterFormSet(initial=[{}] * rows_count(None))
        return _roster_page(
            request, facility, formset=formset, header=header, upload=upload, status=400
        )
    check = check_roster_rows(sheet.rows)
    # The form shows the rows as read and normalized; the row numbers stay those of the file.
    by_number = {r.row: r.values for r in check.rows}
    last = max(by_number, default=0)
    initial = [by_number.get(n, {}) for n in range(1, min(last, MAX_FORM_ROWS) + 1)]
    formset = RosterFormSet(initial=initial or [{}])
    _attach_row_errors(formset, check, ROSTER_COLUMNS)
    messages.info(
        request,
        _(
            "ファイルの内容を下の表に読み込みました（まだ提出されていません）。"
            "内容を確認し、誤りを直してから「センターへ提出する」を押してください。"
        ),
    )
    return _roster_page(
        request, facility, formset=formset, header=header, check=check, upload=upload
    )


@login_required
@require_http_methods(["GET"])
def roster_template(request, facility_id):
    facility = selectors.facility_for_filing(request.user, facility_id)
    response = HttpResponse(blank_roster_workbook(facility), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="besshi3.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET"])
def roster_detail(request, pk):
    roster_request = selectors.roster_request_for(request.user, pk)
    return render(
        request,
        "enrollment/roster_detail.html",
        {"roster": roster_request, "rows": roster_request.rows.all()},
    )


# --- 別紙4 ---------------------------------------------------------------------------------------


def _notice_page(request, facility, *, formset, header, check=None, status=200):
    return render(
        request,
        "enrollment/notice_form.html",
        {
            "facility": facility,
            "formset": formset,
            "header": header,
            "check": check,
            "add_rows": ADD_ROWS,
            "can_stop": permissions.can_stop(request.user, facility),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_new(request, facility_id):
    """別紙4: additions and deletions of the facility's users."""
    facility = selectors.facility_for_filing(request.user, facility_id)
    if request.method == "GET":
        formset = ChangeFormSet(initial=[{}] * rows_count(request.GET.get("rows"), 4))
        header = ChangeHeaderForm(initial={"signer_name": facility.manager_name})
        return _notice_page(request, facility, formset=formset, header=header)
    data = request.POST
    if "add_rows" in data:
        data = _with_more_rows(data, "form", ADD_ROWS)
        _rows_added(request)
    formset = ChangeFormSet(data)
    header = ChangeHeaderForm(data, request.FILES)
    if "add_rows" in data or not formset.is_valid() or not header.is_valid():
        return _notice_page(request, facility, formset=formset, header=header)
    rows = _formset_rows(formset)
    try:
        notice = services.notice_submit(
            actor=request.user,
            facility=facility,
            rows=rows,
            signer_name=header.cleaned_data["signer_name"],
            scan=header.cleaned_data["scan"],
        )
    except services.RowsInvalid as exc:
        _attach_row_errors(formset, exc.check, CHANGE_COLUMNS)
        return _notice_page(
            request, facility, formset=formset, header=header, check=exc.check, status=400
        )
    messages.success(request, _("利用登録変更届（別紙4）をセンターへ提出しました。"))
    return redirect("enrollment:notice_detail", pk=notice.pk)


@login_required
@require_http_methods(["GET", "POST"])
def notice_stop(request, facility_id):
    """別紙4: the facility stops using the network altogether (the manager signs)."""
    facility = selectors.facility_for_stop(request.user, facility_id)
    form = StopForm(
        request.POST or None,
        request.FILES or None,
        initial={"signer_name": facility.manager_name},
    )
    done = form_action(
        request,
        form,
        lambda data: services.notice_stop_submit(
            actor=request.user, facility=facility, **picked(data, "reason", "signer_name", "scan")
        ),
        success=_("利用中止届（別紙4）をセンターへ提出しました。"),
        then=lambda notice: redirect("enrollment:notice_detail", pk=notice.pk),
    )
    if done:
        return done
    status = 400 if request.method == "POST" else 200
    return render(
        request, "enrollment/notice_stop.html", {"facility": facility, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET"])
def notice_detail(request, pk):
    notice = selectors.notice_for(request.user, pk)
    return render(
        request,
        "enrollment/notice_detail.html",
        {
            "notice": notice,
            "rows": notice.rows.all(),
            "can_submit": permissions.can_submit_notice(request.user, notice),
        },
    )


@login_required
@require_POST
def notice_draft_submit(request, pk):
    """第4条2: the facility sends the portal's changes (its open 別紙4) in one action."""
    notice = selectors.notice_to_submit_for(request.user, pk)
    return post_action(
        request,
        lambda: services.notice_draft_submit(actor=request.user, notice=notice),
        success=_("利用登録変更届（別紙4）をセンターへ提出しました。"),
        then=redirect("enrollment:notice_detail", pk=notice.pk),
    )


@login_required
@require_http_methods(["GET"])
def notice_scan(request, pk):
    notice = selectors.notice_scan_for(request.user, pk)
    suffix = PurePath(notice.scan.name).suffix
    return private_file_response(notice.scan, download_name=f"besshi4-{notice.pk}-scan{suffix}")
