"""Pages of the devices app. Thin: a selector finds what the user may see (404 otherwise), a
service does the write and enforces the rules; a refusal is shown as a 403 page that says why."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from facilities.models import UserRestriction
from mcnet.actions import form_action
from mcnet.confirm import confirm_page
from mcnet.forms import add_refusal, query_choice, query_text
from mcnet.models import NetworkSettings
from mcnet.pagination import requested_page
from mcnet.permissions import center_staff_required

from . import forms, permissions, selectors, services
from .models import Device, TakeoutRequest


def _refused(request, error: PermissionDenied):
    """403 with the reason in words (e.g. "you cannot approve your own request")."""
    message = str(error) or _("この操作を行う権限がありません。")
    return render(request, "devices/refused.html", {"message": message}, status=403)


def _service_errors_to_messages(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _require_member_facilities(request):
    facilities = selectors.member_facilities(request.user)
    if not facilities.exists():
        raise PermissionDenied(
            _(
                "所属している事業所がないため、届出はできません。事業所のMCS管理者に連絡してください。"
            )
        )
    return facilities


# --- the hub ------------------------------------------------------------------------------------
@login_required
def index(request):
    """The user's own requests and reports, and what to file; the administrator's queues."""
    user = request.user
    context = {
        "is_member": selectors.member_facilities(user).exists(),
        "my_devices": selectors.devices_assigned_to(user),
        "my_takeouts": selectors.takeout_list(user, mine=True)[:10],
        "my_loss_reports": selectors.loss_reports_visible_to(user).filter(reporter=user)[:10],
        "my_incidents": selectors.incidents_visible_to(user).filter(reporter=user)[:10],
        "section": selectors.home_section(user) or {},
    }
    return render(request, "devices/index.html", context)


# --- the device register (MCS administrator) ---------------------------------------------------
def _managed_or_404(user):
    facilities = selectors.managed_facilities(user)
    if not facilities.exists():
        raise Http404
    return facilities


DEVICES_PER_PAGE = 100


@login_required
def device_list(request):
    facilities = _managed_or_404(request.user)
    facility_id = request.GET.get("facility") or None
    if facility_id and not str(facility_id).isdigit():
        facility_id = None
    filters = {
        "facility_id": int(facility_id) if facility_id else None,
        "state": query_choice(request, "state", Device.State.values),
        "kind": query_choice(request, "kind", Device.Kind.values),
        "ownership": query_choice(request, "ownership", Device.Ownership.values),
        "overdue": request.GET.get("overdue") == "1",
        "query": query_text(request),
    }
    page = requested_page(request, selectors.device_list(request.user, **filters), DEVICES_PER_PAGE)
    cutoff = selectors.check_cutoff()
    rows = [{"device": d, "overdue": d.check_overdue(cutoff)} for d in page]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "devices/device_list.html",
        {
            "rows": rows,
            "page": page,
            "pager_query": params.urlencode(),
            "facilities": facilities,
            "filters": filters,
            "states": Device.State.choices,
            "kinds": Device.Kind.choices,
            "ownerships": Device.Ownership.choices,
            "cutoff": cutoff,
        },
    )


def _device_form(request, instance=None):
    facilities = selectors.managed_facilities(request.user)
    facility_ids = (
        [instance.facility_id] if instance else list(facilities.values_list("pk", flat=True))
    )
    return forms.DeviceForm(
        request.POST or None,
        instance=instance,
        facilities=facilities,
        members=selectors.facility_members(facility_ids),
    )


def _device_fields(data) -> dict:
    return {k: v for k, v in data.items() if k != "facility"}


@login_required
def device_create(request):
    _managed_or_404(request.user)
    form = _device_form(request)
    done = form_action(
        request,
        form,
        lambda data: services.device_register(
            actor=request.user, facility=data["facility"], **_device_fields(data)
        ),
        success=_("機器を登録しました。"),
        then=lambda device: redirect("devices:device_detail", pk=device.pk),
        denied=lambda error: _refused(request, error),
    )
    return done or render(request, "devices/device_form.html", {"form": form, "device": None})


@login_required
def device_detail(request, pk):
    device = selectors.device_for_manager(request.user, pk)
    return _render_device_detail(request, device)


def _render_device_detail(request, device, confirm_form=None, status=200):
    cutoff = selectors.check_cutoff()
    checklist = [
        {"name": name, "label": label, "date": date, "stale": date is None or date < cutoff}
        for name, label, date in device.checklist()
    ]
    return render(
        request,
        "devices/device_detail.html",
        {
            "device": device,
            "checklist": checklist,
            "overdue": device.check_overdue(cutoff),
            "cutoff": cutoff,
            "confirm_form": confirm_form
            or forms.ChecklistConfirmForm(initial={"items": [n for n, _l in Device.CHECKLIST]}),
            "takeouts": device.takeouts.select_related("requester").order_by("-created_at")[:10],
            "loss_reports": device.loss_reports.order_by("-created_at")[:10],
        },
        status=status,
    )


@login_required
def device_edit(request, pk):
    device = selectors.device_for_manager(request.user, pk)
    form = _device_form(request, instance=device)
    done = form_action(
        request,
        form,
        lambda data: services.device_update(
            actor=request.user, device=device, **_device_fields(data)
        ),
        success=_("機器の登録内容を更新しました。"),
        then=redirect("devices:device_detail", pk=device.pk),
        denied=lambda error: _refused(request, error),
    )
    if done:
        return done
    # A ModelForm writes the posted values into the instance while validating: reload it.
    return render(
        request,
        "devices/device_form.html",
        {"form": form, "device": selectors.device_for_manager(request.user, pk)},
    )


@login_required
@require_POST
def device_confirm(request, pk):
    device = selectors.device_for_manager(request.user, pk)
    form = forms.ChecklistConfirmForm(request.POST)
    if not form.is_valid():
        return _render_device_detail(request, device, confirm_form=form, status=400)
    try:
        services.device_checklist_confirm(
            actor=request.user, device=device, items=form.cleaned_data["items"]
        )
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        messages.success(request, _("チェックリストの確認日を記録しました。"))
    return redirect("devices:device_detail", pk=device.pk)


@login_required
def device_state(request, pk):
    device = selectors.device_for_manager(request.user, pk)
    form = forms.DeviceStateForm(request.POST or None, initial={"state": device.state})
    done = form_action(
        request,
        form,
        lambda data: services.device_state_change(actor=request.user, device=device, **data),
        success=_("機器の状態を変更しました。"),
        then=redirect("devices:device_detail", pk=device.pk),
        denied=lambda error: _refused(request, error),
    )
    return done or render(request, "devices/device_state.html", {"form": form, "device": device})


# --- take-out and BYOD requests (art. 12 (9)(10)) ----------------------------------------------
TAKEOUT_FILTERS = (
    ("", _("すべて")),
    ("pending", _("承認待ち")),
    ("active", _("持ち出し中")),
    ("overdue", _("期間超過")),
    ("returned", _("返却済み")),
    ("rejected", _("却下")),
)


@login_required
def takeout_list(request):
    status = query_choice(request, "status", dict(TAKEOUT_FILTERS))
    requests = list(selectors.takeout_list(request.user, status=status))
    return render(
        request,
        "devices/takeout_list.html",
        {
            "requests": requests,
            "status": status,
            "filters": TAKEOUT_FILTERS,
            "manages": selectors.managed_facilities(request.user).exists(),
        },
    )


@login_required
def takeout_create(request):
    try:
        facilities = _require_member_facilities(request)
    except PermissionDenied as error:
        return _refused(request, error)
    form = forms.TakeoutRequestForm(
        request.POST or None,
        facilities=facilities,
        devices=selectors.devices_assigned_to(request.user),
        initial={"kind": request.GET.get("kind", TakeoutRequest.Kind.TAKEOUT)},
    )
    done = form_action(
        request,
        form,
        lambda data: services.takeout_file(actor=request.user, **data),
        success=_("届け出ました。MCS管理者が承認するまで持ち出さないでください。"),
        then=lambda request_obj: redirect("devices:takeout_detail", pk=request_obj.pk),
        denied=lambda error: _refused(request, error),
    )
    return done or render(request, "devices/takeout_form.html", {"form": form})


def _render_takeout_detail(request, request_obj, decision_form=None, status=200):
    can_decide = (
        request_obj.state == TakeoutRequest.State.PENDING
        and permissions.can_decide_takeout(request.user, request_obj)
    )
    deciders = permissions.takeout_deciders(request_obj)
    return render(
        request,
        "devices/takeout_detail.html",
        {
            "req": request_obj,
            "can_decide": can_decide,
            "is_requester": request.user.pk == request_obj.requester_id,
            "deciders": deciders,
            "overdue": request_obj.is_overdue(),
            "decision_form": decision_form or forms.DecisionForm(),
        },
        status=status,
    )


@login_required
def takeout_detail(request, pk):
    return _render_takeout_detail(request, selectors.takeout_for_viewer(request.user, pk))


@login_required
@require_POST
def takeout_decide(request, pk):
    request_obj = selectors.takeout_for_viewer(request.user, pk)
    form = forms.DecisionForm(request.POST)
    try:
        services.check_can_decide(actor=request.user, request_obj=request_obj)
        if not form.is_valid():
            return _render_takeout_detail(request, request_obj, decision_form=form, status=400)
        approve = form.cleaned_data["decision"] == "approve"
        services.takeout_decide(
            actor=request.user,
            request_obj=request_obj,
            approve=approve,
            comment=form.cleaned_data["comment"],
        )
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        messages.success(request, _("承認しました。") if approve else _("却下しました。"))
    return redirect("devices:takeout_detail", pk=request_obj.pk)


@login_required
@require_POST
def takeout_return(request, pk):
    request_obj = selectors.takeout_for_viewer(request.user, pk)
    try:
        services.takeout_mark_returned(actor=request.user, request_obj=request_obj)
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        messages.success(request, _("返却を報告しました。"))
    return redirect("devices:takeout_detail", pk=request_obj.pk)


@login_required
@require_http_methods(["GET", "POST"])
def takeout_withdraw(request, pk):
    request_obj = selectors.takeout_for_viewer(request.user, pk)
    if request.method == "GET":
        if request.user.pk != request_obj.requester_id:
            raise Http404
        if request_obj.state != TakeoutRequest.State.PENDING:
            return redirect("devices:takeout_detail", pk=request_obj.pk)
        return confirm_page(
            request,
            title=_("届出の取り下げ"),
            lead=_("この%(kind)sを取り下げますか。") % {"kind": request_obj.get_kind_display()},
            consequences=[
                _("MCS管理者はこの届出を承認・却下できなくなります（第12条(9)(10)）。"),
                _("持ち出すときは、あらためて届け出ます。"),
            ],
            button=_("届出を取り下げる"),
            back_url=reverse("devices:takeout_detail", args=[request_obj.pk]),
        )
    try:
        services.takeout_withdraw(actor=request.user, request_obj=request_obj)
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        messages.success(request, _("届出を取り下げました。"))
    return redirect("devices:takeout_detail", pk=request_obj.pk)


# --- loss and theft (art. 12 (11)) --------------------------------------------------------------
def _reports_page(request, template: str, key: str, reports_of):
    """Loss or incident reports the user may see (the open ones only when asked)."""
    open_only = request.GET.get("open") == "1"
    return render(
        request,
        template,
        {
            key: list(reports_of(request.user, open_only=open_only)),
            "open_only": open_only,
            "manages": selectors.managed_facilities(request.user).exists(),
        },
    )


def _report_form(request, *, form_class, file, template: str, detail: str, after=None, **kwargs):
    """A member reports to their facility's MCS administrator (第12条(11), 留意事項4): the
    form, the filing service, then the report's page; `after(report)` adds what is said once
    the report is filed."""
    try:
        facilities = _require_member_facilities(request)
    except PermissionDenied as error:
        return _refused(request, error)
    form = form_class(request.POST or None, facilities=facilities, **kwargs)

    def filed(report):
        if after is not None:
            after(report)
        return redirect(detail, pk=report.pk)

    done = form_action(
        request,
        form,
        lambda data: file(actor=request.user, **data),
        success=_("MCS管理者に報告しました。MCS管理者の指示に従ってください。"),
        then=filed,
        denied=lambda error: _refused(request, error),
    )
    return done or render(request, template, {"form": form})


@login_required
def loss_list(request):
    return _reports_page(request, "devices/loss_list.html", "reports", selectors.loss_report_list)


@login_required
def loss_create(request):
    def remind_password(report):
        if not report.password_changed:
            messages.warning(
                request,
                _("まだパスワードを変更していません。今すぐ変更してください（第12条(11)）。"),
            )

    return _report_form(
        request,
        form_class=forms.LossReportForm,
        file=services.loss_report_file,
        template="devices/loss_form.html",
        detail="devices:loss_detail",
        after=remind_password,
        devices=selectors.devices_assigned_to(request.user),
    )


def _render_loss_detail(request, report, ack_form=None, close_form=None, status=200):
    manages = permissions.is_device_manager(request.user, report.facility_id)
    devices = Device.objects.none()
    if manages:
        devices = selectors.devices_managed_by(request.user).filter(
            facility_id=report.facility_id, state=Device.State.IN_USE
        )
    return render(
        request,
        "devices/loss_detail.html",
        {
            "report": report,
            "manages": manages,
            "is_reporter": request.user.pk == report.reporter_id,
            "ack_form": ack_form or forms.LossAcknowledgeForm(devices=devices),
            "close_form": close_form or forms.OutcomeForm(),
        },
        status=status,
    )


@login_required
def loss_detail(request, pk):
    return _render_loss_detail(request, selectors.loss_report_for_viewer(request.user, pk))


@login_required
@require_POST
def loss_acknowledge(request, pk):
    report = selectors.loss_report_for_viewer(request.user, pk)
    devices = selectors.devices_managed_by(request.user).filter(facility_id=report.facility_id)
    form = forms.LossAcknowledgeForm(request.POST, devices=devices)
    try:
        if not permissions.is_device_manager(request.user, report.facility_id):
            raise PermissionDenied(_("確認できるのは、この事業所のMCS管理者です。"))
        if not form.is_valid():
            return _render_loss_detail(request, report, ack_form=form, status=400)
        services.loss_report_acknowledge(
            actor=request.user,
            report=report,
            comment=form.cleaned_data["comment"],
            device=form.cleaned_data.get("device"),
        )
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        messages.success(request, _("報告を確認しました。報告者に通知しました。"))
    return redirect("devices:loss_detail", pk=report.pk)


@login_required
@require_POST
def loss_close(request, pk):
    report = selectors.loss_report_for_viewer(request.user, pk)
    form = forms.OutcomeForm(request.POST)
    try:
        if not permissions.is_device_manager(request.user, report.facility_id):
            raise PermissionDenied(_("完了にできるのは、この事業所のMCS管理者です。"))
        if not form.is_valid():
            return _render_loss_detail(request, report, close_form=form, status=400)
        services.loss_report_close(
            actor=request.user, report=report, outcome=form.cleaned_data["outcome"]
        )
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        messages.success(request, _("対応を完了にしました。"))
    return redirect("devices:loss_detail", pk=report.pk)


# --- incidents (留意事項 4) ---------------------------------------------------------------------
@login_required
def incident_list(request):
    return _reports_page(
        request, "devices/incident_list.html", "incidents", selectors.incident_list
    )


@login_required
def incident_create(request):
    return _report_form(
        request,
        form_class=forms.IncidentReportForm,
        file=services.incident_file,
        template="devices/incident_form.html",
        detail="devices:incident_detail",
    )


def _render_incident_detail(request, incident, *, status=200, **bound):
    manages = permissions.is_device_manager(request.user, incident.facility_id)
    return render(
        request,
        "devices/incident_detail.html",
        {
            "incident": incident,
            "events": list(selectors.incident_timeline(incident)),
            "restrictions": _restrictions_of(incident),
            "manages": manages,
            "can_note": permissions.may_act_on_incident(request.user, incident, "note"),
            "note_form": bound.get("note_form") or forms.NoteForm(),
            "escalate_form": bound.get("escalate_form") or forms.EscalateForm(),
            "close_form": bound.get("close_form") or forms.OutcomeForm(),
        },
        status=status,
    )


@login_required
def incident_detail(request, pk):
    return _render_incident_detail(request, selectors.incident_for_viewer(request.user, pk))


# name -> (form, its key on the detail page, service, the form field the service takes, message)
INCIDENT_ACTIONS = {
    "acknowledge": (
        None,
        "",
        services.incident_acknowledge,
        None,
        gettext_lazy("報告を確認しました。報告者に通知しました。"),
    ),
    "note": (
        forms.NoteForm,
        "note_form",
        services.incident_note_add,
        "note",
        gettext_lazy("対応を記録しました。"),
    ),
    "escalate": (
        forms.EscalateForm,
        "escalate_form",
        services.incident_escalate,
        "note",
        gettext_lazy("センターへ報告しました。"),
    ),
    "close": (
        forms.OutcomeForm,
        "close_form",
        services.incident_close,
        "outcome",
        gettext_lazy("対応を完了にしました。"),
    ),
}


def _incident_action(action: str):
    """One POST step of an incident: find it (404), check the form, call the service."""
    form_class, form_key, service, field, success = INCIDENT_ACTIONS[action]

    @login_required
    @require_POST
    def view(request, pk):
        incident = selectors.incident_for_viewer(request.user, pk)
        form = form_class(request.POST) if form_class else None
        try:
            if form is not None and not form.is_valid():
                if not permissions.may_act_on_incident(request.user, incident, action):
                    raise PermissionDenied(
                        _("この報告に対応できるのは、この事業所のMCS管理者です。")
                    )
                return _render_incident_detail(request, incident, status=400, **{form_key: form})
            extra = {field: form.cleaned_data[field]} if field else {}
            service(actor=request.user, incident=incident, **extra)
        except PermissionDenied as error:
            return _refused(request, error)
        except ValidationError as error:
            _service_errors_to_messages(request, error)
        else:
            messages.success(request, success)
        return redirect("devices:incident_detail", pk=incident.pk)

    view.__name__ = f"incident_{action}"
    return view


incident_acknowledge = _incident_action("acknowledge")
incident_note = _incident_action("note")
incident_escalate = _incident_action("escalate")
incident_close = _incident_action("close")


def _restrictions_of(incident):
    return list(incident.restrictions.select_related("user", "facility").order_by("pk"))


@login_required
def incident_restrict(request, pk):
    """留意事項 2: the MCS administrator restricts or bans a user because of this report."""
    incident = selectors.incident_for_viewer(request.user, pk)
    if not permissions.is_device_manager(request.user, incident.facility_id):
        return _refused(
            request, PermissionDenied(_("利用制限ができるのは、この事業所のMCS管理者です。"))
        )
    form = forms.RestrictForm(
        request.POST or None,
        users=selectors.restrictable_users(incident).exclude(pk=request.user.pk),
        levels=UserRestriction.Level.choices,
        initial={"reason": _("報告「%(report)s」による措置") % {"report": incident}},
    )
    done = form_action(
        request,
        form,
        lambda data: services.incident_user_restrict(actor=request.user, incident=incident, **data),
        success=_("利用を制限し、この報告に記録しました。"),
        then=redirect("devices:incident_detail", pk=incident.pk),
        denied=lambda error: _refused(request, error),
    )
    return done or render(
        request, "devices/incident_restrict.html", {"form": form, "incident": incident}
    )


# --- the center ---------------------------------------------------------------------------------
@center_staff_required
def center_overview(request):
    """Escalated incidents and counts per facility; no device details (別紙5)."""
    incidents = list(selectors.escalated_incidents()[:200])
    return render(
        request,
        "devices/center_overview.html",
        {"counts": selectors.center_facility_counts(), "incidents": incidents},
    )


# --- 個人データの漏えい等: the legal clock (個人情報保護法 §26, 規則8条) ------------------------------


def _leak_mark(request, report, back: str):
    """The facility's MCS administrator marks a report as a (possible) leak of patients'
    personal data, naming the affected groups."""
    if not permissions.is_device_manager(request.user, report.facility_id):
        raise Http404
    existing = getattr(report, "privacy_leak", None)
    if existing is not None:
        return redirect("devices:leak_detail", pk=existing.pk)
    groups = selectors.leak_group_choices(request.user, report.facility_id)
    form = forms.LeakMarkForm(
        request.POST if request.method == "POST" else None,
        groups=groups,
        facility_id=report.facility_id,
    )
    done = form_action(
        request,
        form,
        lambda data: services.leak_mark(actor=request.user, report=report, **data),
        success=lambda leak: (
            _(
                "漏えい等（のおそれ）として記録しました。速報は %(preliminary)s まで、確報は "
                "%(final)s までです。関係する他の事業所のMCS管理者に知らせました。"
            )
            % {
                "preliminary": leak.preliminary_due.strftime("%Y-%m-%d"),
                "final": leak.final_due.strftime("%Y-%m-%d"),
            }
        ),
        then=lambda leak: redirect("devices:leak_detail", pk=leak.pk),
        denied=lambda error: _refused(request, error),
    )
    return done or render(
        request, "devices/leak_mark.html", {"form": form, "report": report, "back": back}
    )


@login_required
def leak_mark_incident(request, pk):
    incident = selectors.incident_for_viewer(request.user, pk)
    return _leak_mark(request, incident, "devices:incident_detail")


@login_required
def leak_mark_loss(request, pk):
    report = selectors.loss_report_for_viewer(request.user, pk)
    return _leak_mark(request, report, "devices:loss_detail")


def _render_leak(request, leak, *, status=200, **bound):
    initial = {field: getattr(leak, field) for field in services.LEAK_REPORT_FIELDS}
    return render(
        request,
        "devices/leak_detail.html",
        {
            "leak": leak,
            "report": leak.report,
            "groups": [
                selectors.leak_group_label(group, leak.facility_id)
                for group in leak.affected_groups.select_related("facility").order_by("pk")
            ],
            "report_form": bound.get("report_form") or forms.LeakReportForm(initial=initial),
            "record_form": bound.get("record_form") or forms.LeakRecordReportForm(),
            "notified_form": bound.get("notified_form") or forms.LeakPersonsNotifiedForm(),
        },
        status=status,
    )


@login_required
def leak_detail(request, pk):
    return _render_leak(request, selectors.leak_for_manager(request.user, pk))


def _leak_step(request, pk, form_class, key: str, act, success: str):
    leak = selectors.leak_for_manager(request.user, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _render_leak(request, leak, status=400, **{key: form})
    try:
        act(leak, form.cleaned_data)
    except ValidationError as error:
        add_refusal(form, error)
        return _render_leak(request, leak, status=400, **{key: form})
    messages.success(request, success)
    return redirect("devices:leak_detail", pk=leak.pk)


@login_required
@require_POST
def leak_report(request, pk):
    return _leak_step(
        request,
        pk,
        forms.LeakReportForm,
        "report_form",
        lambda leak, data: services.leak_report_update(actor=request.user, leak=leak, **data),
        _("報告書の下書きを保存しました。"),
    )


@login_required
@require_POST
def leak_record(request, pk):
    return _leak_step(
        request,
        pk,
        forms.LeakRecordReportForm,
        "record_form",
        lambda leak, data: services.leak_report_record(
            actor=request.user, leak=leak, stage=data["stage"], reported_on=data["reported_on"]
        ),
        _("報告した日を記録しました。"),
    )


@login_required
@require_POST
def leak_notified(request, pk):
    return _leak_step(
        request,
        pk,
        forms.LeakPersonsNotifiedForm,
        "notified_form",
        lambda leak, data: services.leak_persons_notified_record(
            actor=request.user, leak=leak, notified_on=data["notified_on"], how=data["how"]
        ),
        _("本人への通知を記録しました。"),
    )


@center_staff_required
def leak_center(request):
    """Every open clock and its due dates: the facility and dates only, no patient detail."""
    return render(
        request, "devices/leak_center.html", {"leaks": list(selectors.leaks_open_for_center())}
    )


# --- leavers (留意事項4, 第7条(2), 第12条(10)) -----------------------------------------------------
@login_required
def leaver_list(request):
    """The MCS administrator's leavers: open checklists first, then the last closed ones."""
    if not selectors.managed_facilities(request.user).exists():
        raise Http404
    checklists = selectors.leaver_checklists_for(request.user)
    return render(
        request,
        "devices/leaver_list.html",
        {
            "open": checklists.filter(closed_at__isnull=True),
            "closed": checklists.filter(closed_at__isnull=False).order_by("-closed_at")[:50],
        },
    )


def _render_leaver(request, checklist, status=200):
    return render(
        request,
        "devices/leaver_detail.html",
        {
            "checklist": checklist,
            "devices": selectors.leaver_devices_to_return(checklist),
            "takeouts": selectors.leaver_takeouts_to_return(checklist),
            "byod_ended": selectors.leaver_byod_ended(checklist),
            "items": [
                ("devices", _("貸与端末・持ち出した情報の返却"), checklist.devices_returned_at),
                ("mcs_released", _("MCSでの「スタッフ解除」"), checklist.mcs_released_at),
                ("duty_reminded", _("退職後の守秘義務を伝えた"), checklist.duty_reminded_at),
            ],
        },
        status=status,
    )


@login_required
def leaver_detail(request, pk):
    return _render_leaver(request, selectors.leaver_checklist_for(request.user, pk))


@login_required
@require_POST
def leaver_confirm(request, pk):
    checklist = selectors.leaver_checklist_for(request.user, pk)
    try:
        checklist = services.leaver_item_confirm(
            actor=request.user, checklist=checklist, item=request.POST.get("item", "")
        )
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        _service_errors_to_messages(request, error)
    else:
        if checklist.closed_at:
            messages.success(request, _("すべての項目を確認し、チェックリストを完了しました。"))
        else:
            messages.success(request, _("確認を記録しました。"))
    return redirect("devices:leaver_detail", pk=checklist.pk)


@center_staff_required
def leaver_center(request):
    """The center: leavers whose checklist is open past the network's number of days."""
    return render(
        request,
        "devices/leaver_center.html",
        {
            "overdue": selectors.leavers_overdue()[:500],
            "due_days": NetworkSettings.load().leaver_checklist_due_days,
        },
    )
