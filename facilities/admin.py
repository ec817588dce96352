"""The center's admin for facilities and users; role changes go through the services."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from mcnet.admin import AuditedModelAdmin
from mcnet.forms import NormalizedEmailField, PhoneField, PostalCodeField

from . import services
from .models import Facility, FacilityMembership, FacilityRole, User


class UserCreationForm(BaseUserCreationForm):
    email = NormalizedEmailField(label=_("メールアドレス（MCS ID）"))

    class Meta:
        model = User
        fields = ("email", "name", "kana", "occupation")


class UserEditForm(UserChangeForm):
    email = NormalizedEmailField(label=_("メールアドレス（MCS ID）"))
    phone = PhoneField(label=_("電話番号"), required=False)

    class Meta:
        model = User
        fields = (
            "email",
            "name",
            "kana",
            "gender",
            "occupation",
            "phone",
            "had_mcs_account",
            "state",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
        )


class MembershipInline(admin.TabularInline):
    model = FacilityMembership
    fk_name = "user"
    extra = 0
    fields = ("facility", "is_active", "started_at", "ended_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("kana", "email")
    list_display = ("email", "name", "kana", "occupation", "state", "is_active", "last_login")
    list_filter = ("state", "occupation", "is_active", "is_staff")
    search_fields = ("email", "name", "kana")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("プロフィール"),
            {"fields": ("name", "kana", "gender", "occupation", "phone", "had_mcs_account")},
        ),
        (_("状態と権限"), {"fields": ("state", "is_active", "is_staff", "is_superuser", "groups")}),
        (_("日時"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "kana", "occupation", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    inlines = [MembershipInline]


class FacilityForm(forms.ModelForm):
    postal_code = PostalCodeField(label=_("郵便番号"), required=False)
    phone = PhoneField(label=_("電話番号"), required=False)
    fax = PhoneField(label=_("FAX番号"), required=False)
    manager_email = NormalizedEmailField(label=_("事業所管理者メールアドレス"), required=False)

    class Meta:
        model = Facility
        fields = (
            "name",
            "kind",
            "postal_code",
            "prefecture",
            "city",
            "town",
            "address_line",
            "phone",
            "fax",
            "manager_name",
            "manager_email",
            "state",
            "state_changed_at",
        )


class RoleInline(admin.TabularInline):
    """Roles are appointed and relieved through the services, which keep the grants in step."""

    model = FacilityRole
    fk_name = "facility"
    extra = 0
    fields = ("user", "role", "appointed_at")
    readonly_fields = ("appointed_at",)
    autocomplete_fields = ("user",)


@admin.register(Facility)
class FacilityAdmin(AuditedModelAdmin):
    form = FacilityForm
    list_display = ("name", "kind", "state", "city", "phone")
    list_filter = ("kind", "state")
    search_fields = ("name", "city", "town", "manager_name")
    show_full_result_count = False
    inlines = [RoleInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not FacilityRole:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these; the services below do the actual writes.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for role_form in formset.forms:
            deleted = role_form in formset.deleted_forms
            if not (role_form.has_changed() or deleted):
                continue
            if role_form.instance.pk:  # an edited or deleted row: relieve what it was
                old = FacilityRole.objects.get(pk=role_form.instance.pk)
                services.role_relieve(
                    actor=request.user, user=old.user, facility=old.facility, role=old.role
                )
            if not deleted and role_form.cleaned_data:
                services.role_appoint(
                    actor=request.user,
                    user=role_form.cleaned_data["user"],
                    facility=form.instance,
                    role=role_form.cleaned_data["role"],
                )
        return None
