"""The center's admin for the devices app: escalated incident reports only, read-only.

Device registers, take-outs and loss reports are the facilities' own (their MCS administrators
keep them); the center sees counts on its overview page, never the details (別紙5).
"""

from django.contrib import admin

from mcnet.admin import AuditedModelAdmin

from .models import IncidentEvent, IncidentReport


def _is_center(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (user.is_superuser or user.is_center_staff)


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ("created_at", "actor", "action", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IncidentReport)
class EscalatedIncidentAdmin(AuditedModelAdmin):
    """留意事項 4: reports a facility's MCS administrator handed to the center."""

    list_display = ("created_at", "facility", "kind", "state", "escalated_at")
    list_filter = ("kind", "state")
    search_fields = ("facility__name",)
    date_hierarchy = "escalated_at"
    inlines = (IncidentEventInline,)
    fields = (
        "facility",
        "reporter",
        "kind",
        "occurred_at",
        "description",
        "state",
        "created_at",
        "escalated_at",
        "escalated_by",
        "outcome",
        "closed_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(escalated_at__isnull=False)
            .select_related("facility", "reporter", "escalated_by")
        )

    def has_module_permission(self, request):
        return _is_center(request)

    def has_view_permission(self, request, obj=None):
        return _is_center(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
