"""The center's admin: every save and delete through it leaves an audit event."""

from django.contrib import admin
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from .audit import AuditAction, audit_record
from .models import AuditEvent, NetworkSettings
from .pagination import EstimatedCountPaginator


def is_center_admin(request) -> bool:
    """The center's staff signed in to the admin (or a superuser): who reads the center-only
    records there."""
    user = request.user
    return user.is_active and user.is_staff and (user.is_superuser or user.is_center_staff)


class ReadOnlyAdminMixin:
    """Records the admin shows and never writes: nobody adds, changes or deletes them there
    (the trail is append-only; the facilities, or the center's decision buttons, write them
    through their services). For a ModelAdmin and an inline alike; put it first."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CenterOnlyMixin:
    """Shown in the admin to the center only (is_center_admin)."""

    def has_module_permission(self, request):
        return is_center_admin(request)

    def has_view_permission(self, request, obj=None):
        return is_center_admin(request)


class AuditedModelAdmin(admin.ModelAdmin):
    """Base for every model the center edits in the admin."""

    # Change lists of a million rows: the table's size estimate, not a COUNT(*) per view.
    paginator = EstimatedCountPaginator

    def save_model(self, request, obj, form, change):
        diff = {
            name: [str(form.initial.get(name, "")), str(form.cleaned_data.get(name))]
            for name in form.changed_data
            if "password" not in name
        }
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=AuditAction.ADMIN_CHANGE if change else AuditAction.ADMIN_ADD,
            target=obj,
            changes=diff,
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action=AuditAction.ADMIN_DELETE, target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action=AuditAction.ADMIN_DELETE, target=obj)
        super().delete_queryset(request, queryset)


@admin.register(NetworkSettings)
class NetworkSettingsAdmin(AuditedModelAdmin):
    def has_add_permission(self, request):
        return not NetworkSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the trail is append-only, even for the center."""

    list_display = (
        "created_at",
        "actor_label",
        "action",
        "object_type",
        "object_repr",
        "ip_address",
    )
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_repr", "object_id", "action")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_view_permission(self, request, obj=None):
        return is_center_admin(request)


def _site_header():
    return _("%(network)s 管理画面") % {"network": NetworkSettings.load().name}


# The admin header names the network from its settings (nothing about Joetsu in templates).
admin.site.site_header = lazy(_site_header, str)()
admin.site.site_title = lazy(lambda: str(NetworkSettings.load().name), str)()
