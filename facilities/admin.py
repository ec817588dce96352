"""The center's admin for facilities and users; role and state changes go through the services.

Separation of duties: the center administers accounts but grants nobody (itself included) a
role, a permission or a password. Roles are appointed by the facility (第5条) or by the
enrollment papers; `is_staff`, `is_superuser`, groups and permissions are read-only here
(superusers are made with `manage.py createsuperuser`); a password is never set here — the
person gets allauth's reset link (art. 11 (1)(2): a password is the person's own).

The center sees which facilities have no or several MCS administrators (別紙3 *1), searches
people in kana or kanji of any width, exports facilities and users (xlsx, CSV for Excel), and
sees every restriction and ban with its reason (留意事項 2) — read-only: measures are the
facility's MCS administrator's to take.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from mcnet.admin import AuditedModelAdmin, ReadOnlyAdminMixin
from mcnet.audit import AuditAction, audit_record
from mcnet.forms import KanaField, NormalizedEmailField, PhoneField
from mcnet.text import nfkc, normalize_email

from . import exports, services
from .forms import FacilityEditForm
from .models import (
    FACILITY_EDITABLE_FIELDS,
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    Invitation,
    StaffPledge,
    User,
    UserRestriction,
)
from .search import search_key
from .selectors import incident_reports_of

Role = FacilityRole.Role


class NormalizedSearchMixin:
    """Search by the stored search keys: 「やまだ」, 「ﾔﾏﾀﾞ」 and 「ヤマダ」 find the same people."""

    def normalized_search(self, queryset, key: str, raw: str):
        raise NotImplementedError

    def get_search_results(self, request, queryset, search_term):
        key = search_key(search_term)
        if not key:
            return queryset, False
        return self.normalized_search(queryset, key, search_term), False


class ExportMixin:
    """Admin actions: the selected rows (or all after "select all") as xlsx or CSV."""

    export_name = ""

    def export_table(self, queryset):
        raise NotImplementedError

    def _export(self, request, queryset, fmt: str):
        header, rows = self.export_table(queryset)
        audit_record(
            actor=request.user,
            action=AuditAction.ADMIN_EXPORT,
            object_type=self.model._meta.label_lower,
            changes={"format": fmt, "rows": len(rows)},
        )
        name = f"{self.export_name}-{timezone.localdate():%Y%m%d}"
        if fmt == "csv":
            return exports.csv_response(name, header, rows)
        return exports.xlsx_response(name, str(self.model._meta.verbose_name), header, rows)

    @admin.action(description=_("選択したものをExcel（xlsx）で出力"))
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")

    @admin.action(description=_("選択したものをCSV（Excel用 UTF-8 BOM付き）で出力"))
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")


# --- users ---------------------------------------------------------------------------------------


class UserCreationForm(forms.ModelForm):
    """No password: the new person sets their own from the reset link the center sends."""

    email = NormalizedEmailField(label=_("メールアドレス（MCS ID）"))
    kana = KanaField(label=_("ふりがな"), required=False)

    class Meta:
        model = User
        fields = ("email", "name", "kana", "occupation")


class UserEditForm(forms.ModelForm):
    """The profile only (services.USER_CENTER_EDITABLE_FIELDS); state, login, admin rights,
    groups and permissions are not fields of this form, so a posted value is ignored."""

    email = NormalizedEmailField(label=_("メールアドレス（MCS ID）"))
    kana = KanaField(label=_("ふりがな"), required=False)
    phone = PhoneField(label=_("電話番号"), required=False)

    class Meta:
        model = User
        fields = services.USER_CENTER_EDITABLE_FIELDS


class MembershipInline(admin.TabularInline):
    model = FacilityMembership
    fk_name = "user"
    extra = 0
    fields = ("facility", "is_active", "started_at", "ended_at", "end_reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RestrictionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """留意事項 2: every measure with its reason, visible to the center."""

    model = UserRestriction
    fk_name = "user"
    extra = 0
    fields = ("facility", "level", "reason", "created_by", "created_at", "lifted_at", "lift_reason")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("利用制限・禁止の記録（留意事項2）")


class InForceFilter(admin.SimpleListFilter):
    title = _("措置中")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("措置中")), ("no", _("解除済み"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(User)
class UserAdmin(NormalizedSearchMixin, ExportMixin, AuditedModelAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("kana", "email")
    list_display = ("email", "name", "kana", "occupation", "state", "is_active", "last_login")
    list_filter = ("state", "occupation", "is_active", "is_staff", "memberships__facility__kind")
    search_fields = ("search_kana", "search_name", "email")  # see get_search_results
    search_help_text = _("氏名・ふりがな（ひらがな・カタカナ・半角どれでも）・メールアドレス")
    show_full_result_count = False
    actions = [
        "send_password_reset",
        "export_xlsx",
        "export_csv",
        "make_center_staff",
        "remove_center_staff",
    ]
    export_name = "users"
    fieldsets = (
        (None, {"fields": ("email",)}),
        (
            _("プロフィール"),
            {"fields": ("name", "kana", "gender", "occupation", "phone", "had_mcs_account")},
        ),
        (
            _("状態と権限（変更はポータルの手続きで）"),
            {
                "fields": (
                    "state",
                    "is_active",
                    "center_staff",
                    "is_staff",
                    "is_superuser",
                    "password_state",
                )
            },
        ),
        (_("日時"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "kana", "occupation")}),
    )
    # Measures are the MCS administrator's (留意事項 2), leaving is 別紙4's, admin rights are
    # the command line's: all read-only here.
    readonly_fields = (
        "state",
        "is_active",
        "center_staff",
        "is_staff",
        "is_superuser",
        "password_state",
        "last_login",
        "date_joined",
    )
    inlines = [MembershipInline, RestrictionInline]

    def get_urls(self):
        # No page sets a password in the admin (django.contrib.auth's "<id>/password/").
        return [url for url in super().get_urls() if url.name != "auth_user_password_change"]

    def user_change_password(self, request, id, form_url=""):
        raise PermissionDenied

    @admin.display(description=_("センター職員"), boolean=True)
    def center_staff(self, obj) -> bool:
        return obj.groups.filter(name=services.CENTER_STAFF_GROUP).exists()

    @admin.display(description=_("パスワード"))
    def password_state(self, obj) -> str:
        if obj.has_usable_password():
            return _("設定済み（本人だけが変えられます）")
        return _("未設定（パスワード再設定のリンクを送ってください）")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            services.user_update(actor=request.user, user=obj, **data)
            obj.refresh_from_db()
            return
        created = services.user_create(
            actor=request.user,
            email=form.cleaned_data["email"],
            password=None,  # unusable until the person sets theirs from the reset link
            **{k: v for k, v in form.cleaned_data.items() if k != "email"},
        )
        obj.pk, obj.password, obj._state.adding = created.pk, created.password, False

    def save_related(self, request, form, formsets, change):
        # Nothing many-to-many is edited here (groups and permissions are read-only).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("パスワード再設定のリンクをメールで送る"))
    def send_password_reset(self, request, queryset):
        sent = 0
        for user in queryset:
            try:
                services.password_reset_link_send(actor=request.user, user=user, request=request)
            except ValidationError as exc:
                self.message_user(request, f"{user.email}: {exc.messages[0]}", messages.WARNING)
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                _("%(n)d名にパスワード再設定のリンクを送りました。") % {"n": sent},
                messages.SUCCESS,
            )

    @admin.action(description=_("センター職員にする"), permissions=["appoint_center_staff"])
    def make_center_staff(self, request, queryset):
        self._each(request, queryset, services.center_staff_add, _("センター職員にしました。"))

    @admin.action(description=_("センター職員から外す"), permissions=["appoint_center_staff"])
    def remove_center_staff(self, request, queryset):
        self._each(
            request, queryset, services.center_staff_remove, _("センター職員から外しました。")
        )

    def has_appoint_center_staff_permission(self, request) -> bool:
        # Someone else entitled appoints center staff: a superuser (made on the command line),
        # never center staff themselves.
        return request.user.is_active and request.user.is_superuser

    def _each(self, request, queryset, service, done: str) -> None:
        for user in queryset:
            try:
                service(actor=request.user, user=user)
            except ValidationError as exc:
                self.message_user(request, f"{user.email}: {exc.messages[0]}", messages.WARNING)
            else:
                self.message_user(request, f"{user.email}: {done}", messages.SUCCESS)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # nothing to show before it exists

    def normalized_search(self, queryset, key, raw):
        return queryset.filter(
            Q(search_kana__contains=key)
            | Q(search_name__contains=key)
            | Q(email__contains=normalize_email(raw))
        ).distinct()

    def export_table(self, queryset):
        return exports.user_table(queryset)


# --- facilities ----------------------------------------------------------------------------------


class FacilityForm(FacilityEditForm):
    """The portal's facility form, plus the state (the center's decision, 第4条)."""

    state_note = forms.CharField(
        label=_("状態の変更の備考"),
        required=False,
        max_length=300,
        help_text=_("状態を変えるときの理由など。変更日時とともに履歴に残ります。"),
    )

    class Meta(FacilityEditForm.Meta):
        fields = (*FacilityEditForm.Meta.fields, "state")


class McsAdminCountFilter(admin.SimpleListFilter):
    """別紙3 *1: one MCS administrator per facility in principle; the center finds the others."""

    title = _("MCS管理者")
    parameter_name = "mcs_admins"

    def lookups(self, request, model_admin):
        return [("none", _("いない")), ("one", _("1名")), ("several", _("2名以上"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(mcs_admin_count=0)
        if value == "one":
            return queryset.filter(mcs_admin_count=1)
        if value == "several":
            return queryset.filter(mcs_admin_count__gte=2)
        return queryset


@admin.register(Facility)
class FacilityAdmin(NormalizedSearchMixin, ExportMixin, AuditedModelAdmin):
    form = FacilityForm
    list_display = ("name", "kind", "state", "state_changed_at", "city", "phone", "mcs_admins")
    list_filter = ("kind", "state", McsAdminCountFilter)
    search_fields = ("search_name", "city", "town", "manager_name")  # see get_search_results
    search_help_text = _("事業所名・市区町村・町域・事業所管理者名")
    show_full_result_count = False
    # The history is a read-only field, not an inline: an inline would add a formset that
    # every save of this form must post, for rows nobody may edit.
    # 第5条: the facility appoints its roles on its own pages (or the enrollment papers ask for
    # them); the center sees who holds which, and appoints nobody here — least of all itself.
    readonly_fields = ("state_changed_at", "state_history", "role_holders")
    actions = ["export_xlsx", "export_csv"]
    export_name = "facilities"

    class Media:
        js = ("facilities/postal_lookup.js",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(mcs_admin_count=Count("roles", filter=Q(roles__role=Role.MCS_ADMIN)))
        )

    @admin.display(description=_("状態の変更履歴"))
    def state_history(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        rows = obj.state_changes.select_related("changed_by")[:50]
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {}{}</li>",
                (
                    (
                        date_format(timezone.localtime(c.changed_at), "Y年n月j日 H:i"),
                        c.get_state_display(),
                        f"（{c.note}）" if c.note else "",
                    )
                    for c in rows
                ),
            ),
        )

    @admin.display(description=_("役割（任命は事業所が行います・第5条）"))
    def role_holders(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        rows = obj.roles.select_related("user").order_by("role", "user__kana")
        return (
            format_html(
                "<ul>{}</ul>",
                format_html_join(
                    "",
                    "<li>{}: {} &lt;{}&gt;</li>",
                    ((r.get_role_display(), r.user.name, r.user.email) for r in rows),
                ),
            )
            if rows
            else "—"
        )

    @admin.display(description=_("MCS管理者の人数"), ordering="mcs_admin_count")
    def mcs_admins(self, obj) -> int:
        return obj.mcs_admin_count

    def normalized_search(self, queryset, key, raw):
        text = nfkc(raw)
        return queryset.filter(
            Q(search_name__contains=key)
            | Q(city__contains=text)
            | Q(town__contains=text)
            | Q(manager_name__contains=text)
        )

    def export_table(self, queryset):
        return exports.facility_table(queryset)

    def save_model(self, request, obj, form, change):
        # Every write through the services, each with its audit event; the state's through
        # facility_set_state, which keeps each change with its date.
        data = form.cleaned_data
        note = data.get("state_note", "")
        fields = {name: data[name] for name in FACILITY_EDITABLE_FIELDS if name in data}
        if change:
            services.facility_update(
                actor=request.user,
                facility=obj,
                **{name: value for name, value in fields.items() if name in form.changed_data},
            )
            if "state" in data:
                services.facility_set_state(
                    actor=request.user, facility=obj, state=data["state"], note=note
                )
            obj.refresh_from_db()
            return
        created = services.facility_create(
            actor=request.user, state=data.get("state", obj.state), note=note, **fields
        )
        obj.pk, obj._state.adding = created.pk, False
        obj.refresh_from_db()


# --- what the facilities record, read-only for the center ----------------------------------------


class ReadOnlyAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """The center sees these records; the facility's MCS administrator or manager writes them."""


@admin.register(UserRestriction)
class UserRestrictionAdmin(ReadOnlyAdmin):
    list_display = ("user", "facility", "level", "created_at", "created_by", "lifted_at")
    list_filter = ("level", InForceFilter, "facility")
    search_fields = ("user__email", "user__search_name", "user__search_kana", "reason")
    list_select_related = ("user", "facility", "created_by")
    fields = (
        "user",
        "facility",
        "level",
        "reason",
        "created_by",
        "created_at",
        "lifted_at",
        "lifted_by",
        "lift_reason",
        "incident_reports_list",
    )
    readonly_fields = fields
    date_hierarchy = "created_at"

    @admin.display(description=_("関連する報告"))
    def incident_reports_list(self, obj) -> str:
        return "、".join(str(r) for r in incident_reports_of(obj)) or "—"


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "facility", "state", "created_at", "expires_at", "created_by")
    list_filter = ("state", "is_mcs_admin")
    search_fields = ("email", "name")
    list_select_related = ("facility", "created_by")
    exclude = ("key",)  # part of the link: not even the center sees it


@admin.register(StaffPledge)
class StaffPledgeAdmin(ReadOnlyAdmin):
    list_display = ("user", "facility", "signed_on", "waived", "recorded_at")
    list_filter = ("waived",)
    search_fields = ("user__email", "user__search_name", "facility__name")
    list_select_related = ("user", "facility")


@admin.register(EducationSession)
class EducationSessionAdmin(ReadOnlyAdmin):
    list_display = ("held_on", "topic", "facility")
    search_fields = ("topic", "facility__name")
    list_select_related = ("facility",)
    date_hierarchy = "held_on"
