"""The center's admin for the devices app: escalated incident reports only, read-only.

Device registers, take-outs and loss reports are the facilities' own (their MCS administrators
keep them); the center sees counts on its overview page, never the details (別紙5).
"""

from django.contrib import admin

from mcnet.admin import AuditedModelAdmin, CenterOnlyMixin, ReadOnlyAdminMixin

from .models import IncidentEvent, IncidentReport


class IncidentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = IncidentEvent
    fields = ("created_at", "actor", "action", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(IncidentReport)
class EscalatedIncidentAdmin(CenterOnlyMixin, ReadOnlyAdminMixin, AuditedModelAdmin):
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
