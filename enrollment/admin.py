"""The center's side of enrollment (第4条): review applications, register 別紙3, confirm 別紙4.

The papers are read-only here: the center decides (accept, return, reject, register,
confirm) through the services, each of which audits its step and tells the people concerned.
Only center staff see these pages.
"""

from pathlib import PurePath

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from mcnet.admin import AuditedModelAdmin, CenterOnlyMixin, ReadOnlyAdminMixin, is_center_admin
from mcnet.audit import AuditAction, audit_record
from mcnet.uploads import private_file_response

from . import services
from .forms import DecisionForm
from .models import (
    Application,
    ApplicationEvent,
    ChangeNotice,
    ChangeRow,
    RosterRequest,
    RosterRow,
)
from .spreadsheets import XLSX_CONTENT_TYPE, roster_workbook


class CenterOnlyAdmin(CenterOnlyMixin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """Read-only papers that the center decides on through `decisions` (verb -> step)."""

    # verb: (button label, service(actor, obj, reason), reason required, from which states)
    decisions: dict = {}

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not is_center_admin(request):
            return {}
        for verb, (label, *_rest) in self.decisions.items():
            actions[verb] = (self._action_for(verb), verb, label)
        return actions

    def _action_for(self, verb):
        def action(modeladmin, request, queryset):
            return modeladmin.decide(request, queryset, verb)

        action.__name__ = verb
        return action

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/decide/<str:verb>/",
                self.admin_site.admin_view(self.decide_one),
                name="{}_{}_decide".format(*info),
            ),
            path(
                "<int:pk>/scan/",
                self.admin_site.admin_view(self.scan_view),
                name="{}_{}_scan".format(*info),
            ),
            *super().get_urls(),
        ]

    def decide_one(self, request, pk, verb):
        if verb not in self.decisions or not self.has_view_permission(request):
            raise Http404
        queryset = self.get_queryset(request).filter(pk=pk)
        if not queryset.exists():
            raise Http404
        response = self.decide(request, queryset, verb, one=True)
        if response is None:
            return redirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])
            )
        return response

    def decide(self, request, queryset, verb, one=False):
        """The intermediate page: the reason, then the step for each selected paper."""
        label, step, reason_required, states = self.decisions[verb]
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"].strip()
            if reason_required and not reason:
                form.add_error(
                    "reason", _("理由を入力してください（申込者・事業所に伝わります）。")
                )
            else:
                done = 0
                for obj in queryset:
                    try:
                        step(request.user, obj, reason)
                        done += 1
                    except ValidationError as exc:
                        self.message_user(
                            request, f"{obj}: {' '.join(exc.messages)}", messages.ERROR
                        )
                if done:
                    self.message_user(
                        request,
                        _("%(n)d件を「%(label)s」にしました。") % {"n": done, "label": label},
                        messages.SUCCESS,
                    )
                return None
        return TemplateResponse(
            request,
            "admin/enrollment/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": label,
                "label": label,
                "verb": verb,
                "objects": queryset,
                "form": form,
                "one": one,
                "reason_required": reason_required,
                "states": states,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def scan_view(self, request, pk):
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, obj) or not getattr(obj, "scan", None):
            raise Http404
        suffix = PurePath(obj.scan.name).suffix
        return private_file_response(
            obj.scan, download_name=f"{self.opts.model_name}-{obj.pk}-scan{suffix}"
        )

    @admin.display(description=_("操作"))
    def decision_links(self, obj):
        links = [
            (
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_decide",
                    args=[obj.pk, verb],
                ),
                label,
            )
            for verb, (label, _step, _required, states) in self.decisions.items()
            if obj.state in states
        ]
        if not links:
            return "—"
        return format_html_join(" / ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("署名済みの写し"))
    def scan_link(self, obj):
        if not obj.scan:
            return _("未受領")
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_scan", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("写しを開く"))


class StateFilter(admin.SimpleListFilter):
    """The queue by state (an unconfirmed application has not reached the center)."""

    title = _("状態")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(s, Application.State(s).label) for s in Application.CENTER_STATES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(state=self.value())
        return queryset


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The rows of a paper, as the sender wrote them: the center reads, never edits."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        return is_center_admin(request)


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "kind", "message", "mailed_at")


@admin.register(Application)
class ApplicationAdmin(CenterOnlyAdmin):
    list_display = (
        "facility_name",
        "kind",
        "manager_name",
        "state",
        "submitted_at",
        "has_scan",
        "decided_at",
        "decision_links",
    )
    list_filter = (StateFilter, "kind")
    search_fields = ("facility_name", "manager_name", "manager_email")
    date_hierarchy = "submitted_at"
    inlines = [ApplicationEventInline]
    fieldsets = (
        (
            _("別紙1 利用申込書"),
            {
                "fields": (
                    "facility_name",
                    "postal_code",
                    "address_display",
                    "phone",
                    "kind",
                    "manager_name",
                    "manager_email",
                )
            },
        ),
        (_("別紙2 連携守秘誓約書"), {"fields": ("pledge_affirmed", "pledge_version")}),
        (
            _("審査"),
            {
                "fields": (
                    "state",
                    "submitted_at",
                    "scan_link",
                    "scan_uploaded_at",
                    "decided_at",
                    "decided_by",
                    "decision_reason",
                    "facility",
                    "decision_links",
                )
            },
        ),
    )
    decisions = {
        "accept": (
            _("承認する（事業所を登録し、事業所管理者を招待）"),
            lambda actor, obj, reason: services.application_accept(
                actor=actor, application=obj, reason=reason
            ),
            False,
            (Application.State.SUBMITTED,),
        ),
        "return": (
            _("差し戻す（修正を依頼）"),
            lambda actor, obj, reason: services.application_return(
                actor=actor, application=obj, reason=reason
            ),
            True,
            (Application.State.SUBMITTED,),
        ),
        "reject": (
            _("却下する"),
            lambda actor, obj, reason: services.application_reject(
                actor=actor, application=obj, reason=reason
            ),
            True,
            (Application.State.SUBMITTED, Application.State.RETURNED),
        ),
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(state__in=Application.CENTER_STATES)
            .select_related("decided_by", "facility")
        )

    def get_readonly_fields(self, request, obj=None):
        return [f for _title, options in self.fieldsets for f in options["fields"]]

    @admin.display(description=_("事業所住所"))
    def address_display(self, obj):
        return f"〒{obj.postal_code} {obj.address}"

    @admin.display(description=_("写し"), boolean=True)
    def has_scan(self, obj):
        return bool(obj.scan)


class RosterRowInline(ReadOnlyInline):
    model = RosterRow
    fields = (
        "row_number",
        "name",
        "gender",
        "occupation",
        "email",
        "is_mcs_admin",
        "had_mcs_account",
        "invitation",
        "user",
    )


@admin.register(RosterRequest)
class RosterRequestAdmin(CenterOnlyAdmin):
    list_display = (
        "facility",
        "applied_on",
        "row_count",
        "state",
        "admin_count_warning",
        "created_at",
        "decision_links",
    )
    list_filter = ("state", "source")
    search_fields = ("facility__name", "rows__email", "rows__name")
    inlines = [RosterRowInline]
    readonly_fields = (
        "facility",
        "representative_name",
        "applied_on",
        "state",
        "source",
        "submitted_by",
        "admin_count_warning",
        "admin_count_confirmed",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_reason",
        "decision_links",
    )
    decisions = {
        "register": (
            _("登録済みにする（招待を送り、事業所に完了を通知）"),
            lambda actor, obj, reason: services.roster_register(actor=actor, roster_request=obj),
            False,
            (RosterRequest.State.SUBMITTED,),
        ),
        "return": (
            _("差し戻す"),
            lambda actor, obj, reason: services.roster_return(
                actor=actor, roster_request=obj, reason=reason
            ),
            True,
            (RosterRequest.State.SUBMITTED,),
        ),
    }

    def get_queryset(self, request):
        from django.db.models import Count

        return (
            super()
            .get_queryset(request)
            .select_related("facility", "submitted_by")
            .annotate(row_count=Count("rows", distinct=True))
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if is_center_admin(request):
            actions["export_xlsx"] = (
                RosterRequestAdmin.export_xlsx,
                "export_xlsx",
                RosterRequestAdmin.export_xlsx.short_description,
            )
        return actions

    @admin.display(description=_("人数"))
    def row_count(self, obj):
        return obj.row_count

    def export_xlsx(self, request, queryset):
        """The accepted rows in 別紙3's columns, for the MCS vendor's registration."""
        queryset = (
            queryset.exclude(state=RosterRequest.State.RETURNED)
            .select_related("facility")
            .prefetch_related("rows")
            .order_by("facility__name", "pk")
        )
        audit_record(
            actor=request.user,
            action=AuditAction.ENROLLMENT_ROSTER_EXPORT,
            object_type="enrollment.rosterrequest",
            object_id=",".join(str(pk) for pk in queryset.values_list("pk", flat=True))[:64],
            changes={"requests": list(queryset.values_list("pk", flat=True))},
        )
        response = HttpResponse(roster_workbook(queryset), content_type=XLSX_CONTENT_TYPE)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="mcs-registration-{stamp}.xlsx"'
        response["Cache-Control"] = "private, no-store"
        return response

    export_xlsx.short_description = _("選んだ申込の行をMCS登録用のxlsxに出力")


class ChangeRowInline(ReadOnlyInline):
    model = ChangeRow
    fields = (
        "row_number",
        "action",
        "kana",
        "name",
        "occupation",
        "email",
        "is_mcs_admin",
        "invitation",
        "user",
        "done_at",
        "done_by",
        "note",
    )


@admin.register(ChangeNotice)
class ChangeNoticeAdmin(CenterOnlyAdmin):
    list_display = (
        "facility",
        "kind",
        "notice_date",
        "state",
        "auto_submitted",
        "created_at",
        "decision_links",
    )
    list_filter = ("state", "kind")
    search_fields = ("facility__name", "rows__email", "rows__name")
    inlines = [ChangeRowInline]
    readonly_fields = (
        "facility",
        "kind",
        "notice_date",
        "signer_name",
        "reason",
        "state",
        "submitted_by",
        "submitted_at",
        "auto_submitted",
        "scan_link",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_reason",
        "decision_links",
    )
    exclude = ("scan",)
    decisions = {
        "confirm": (
            _("確認して処理する（依頼の追加は招待、削除は利用中止。ポータルで実施済みの行は記録）"),
            lambda actor, obj, reason: services.notice_confirm(actor=actor, notice=obj),
            False,
            (ChangeNotice.State.SUBMITTED,),
        ),
        "return": (
            _("差し戻す"),
            lambda actor, obj, reason: services.notice_return(
                actor=actor, notice=obj, reason=reason
            ),
            True,
            (ChangeNotice.State.SUBMITTED,),
        ),
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("facility", "submitted_by")
