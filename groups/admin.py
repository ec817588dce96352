"""The center's admin for groups and announcements.

Groups are shown by a neutral label (a patient group's name is its patient's: 「患者グループ
No.123（ABCクリニック）」), kind, state, facility, member count and review status only — the
admin never loads the patient or the name (no patient field, no consent, 別紙5 (2)) — and are
read-only:
groups change through their managers and MCS administrators, in the services. Patients and
consents are not registered in the admin at all.
"""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from mcnet.admin import AuditedModelAdmin, ReadOnlyAdminMixin

from . import services
from .models import Announcement, Group, Membership
from .selectors import review_status

GROUP_FIELDS = (
    "label",
    "kind",
    "state",
    "facility",
    "manager",
    "created_at",
    "last_reviewed_at",
    "end_reason",
    "end_reported_at",
    "archived_at",
)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = (
        "label",
        "kind",
        "state",
        "facility",
        "member_count",
        "review_state",
        "archived_at",
    )
    list_filter = ("kind", "state", "end_reason")
    # By number only: searching by name would tell who is a patient (別紙5 (2)).
    search_fields = ("=id",)
    show_full_result_count = False
    # Newest first, by the primary key's index: sorting a million groups by name for every
    # page view took 0.8 s (make bench); a column header still sorts by name.
    ordering = ("-pk",)
    fields = GROUP_FIELDS
    readonly_fields = GROUP_FIELDS

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("facility", "manager")
            # `label`: the name of a free group, a neutral label for a patient group.
            .only(
                *(f for f in GROUP_FIELDS if f != "label"),
                "name",
                "facility__name",
                "manager__name",
                "manager__email",
            )
            # A correlated subquery, not a JOIN + GROUP BY over every group: PostgreSQL counts
            # only the rows of the page shown (make bench).
            .annotate(
                _member_count=Coalesce(
                    Subquery(
                        Membership.objects.filter(
                            group=OuterRef("pk"), state=Membership.State.ACCEPTED
                        )
                        .order_by()
                        .values("group")
                        .annotate(n=Count("pk"))
                        .values("n")
                    ),
                    0,
                )
            )
        )

    @admin.display(description=_("グループ"), ordering="pk")
    def label(self, obj):
        return obj.label

    @admin.display(description=_("メンバー数"), ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count

    @admin.display(description=_("サポーター精査"))
    def review_state(self, obj):
        status = review_status(obj)
        if status is None:
            return "—"
        return f"{status.label}（{status.due_at:%Y-%m-%d}）"


@admin.register(Announcement)
class AnnouncementAdmin(AuditedModelAdmin):
    """The center posts to the all-users group (基本設定 7 ①) or to MCS administrators only."""

    list_display = ("title", "audience", "publish_at", "created_by")
    list_filter = ("audience",)
    search_fields = ("title", "body")
    date_hierarchy = "publish_at"
    fields = ("title", "body", "audience", "publish_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.announcement_create(
            actor=request.user,
            title=obj.title,
            body=obj.body,
            audience=obj.audience,
            publish_at=obj.publish_at,
        )
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
        return None
