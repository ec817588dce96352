"""Patient, free and all-users groups (連携グループ), memberships (サポーター), supporter reviews,
the archive (留意事項 1–3, 第8条) and the center's announcements to the all-users group.

Role facts are rows here (Membership with its state, Group.manager); the guardian grants in
GroupUserObjectPermission follow from them and change only in services.py, in the same
transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from consents.models import Patient, person_field
from facilities.models import Facility

# 留意事項 1 (1): 「(患者氏名)○○○○さんのグループ」(例: 山田花子さんのグループ). Data, not UI
# text: the name is the same whatever language the reader uses.
PATIENT_GROUP_NAME = "{name}さんのグループ"


def patient_group_name(patient: Patient) -> str:
    return PATIENT_GROUP_NAME.format(name=patient.name)


class Group(models.Model):
    """A 連携グループ. Exactly one patient for a patient group, none otherwise (留意事項 1).

    The all-users group is one row of kind ALL_USERS with no membership rows: every active
    user belongs to it by definition (基本設定 7 ①), so its membership is the account's state
    itself. Copying that fact into rows would need every account change in the facilities
    app to call us, and a missed call would silently drop someone from the center's
    announcements.
    """

    class Kind(models.TextChoices):
        PATIENT = "patient", _("患者グループ")
        FREE = "free", _("自由グループ")
        ALL_USERS = "all_users", _("全ユーザーグループ")

    class State(models.TextChoices):
        ACTIVE = "active", _("利用中")
        TO_BE_ARCHIVED = "to_be_archived", _("アーカイブ予定")
        ARCHIVED = "archived", _("アーカイブ済み")

    class EndReason(models.TextChoices):
        """Why a patient stopped using the network (留意事項 2, 3)."""

        DEATH = "death", _("死亡")
        MOVED = "moved", _("転居・転出")
        CARE_ENDED = "care_ended", _("サービス終了")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("同意の撤回")
        CONSENT_INVALID = "consent_invalid", _("同意書の誤登録")
        OTHER = "other", _("その他")

    kind = models.CharField(_("種類"), max_length=16, choices=Kind.choices, db_index=True)
    name = models.CharField(_("グループ名"), max_length=200)
    description = models.TextField(_("説明"), blank=True)
    patient = models.ForeignKey(
        Patient,
        verbose_name=_("患者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="groups",
    )
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("管理する事業所"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    manager = person_field(_("グループ管理者"))
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    created_by = person_field(_("作成者"))
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    # 留意事項 1: the last supporter review (a copy of the newest SupporterReview, for lists).
    last_reviewed_at = models.DateTimeField(_("最終精査日時"), null=True, blank=True)
    # 留意事項 3: the manager reports that the patient stopped using the network.
    end_reason = models.CharField(
        _("終了の理由"), max_length=32, choices=EndReason.choices, blank=True
    )
    end_note = models.TextField(_("終了についての記録"), blank=True)
    end_reported_at = models.DateTimeField(_("終了の報告日時"), null=True, blank=True)
    end_reported_by = person_field(_("終了を報告した人"))
    # 留意事項 2: the MCS administrator moves it to the archive.
    archived_at = models.DateTimeField(_("アーカイブ日時"), null=True, blank=True, db_index=True)
    archived_by = person_field(_("アーカイブした人"))

    class Meta:
        verbose_name = _("連携グループ")
        verbose_name_plural = _("連携グループ")
        ordering = ["name", "pk"]
        permissions = [
            ("access_group", _("グループの患者情報とメンバーを見られる（サポーター）")),
            ("manage_group", _("グループを管理できる（患者グループ管理者, 第8条）")),
        ]
        constraints = [
            # 留意事項 1: one patient per patient group, no patient in any other kind.
            models.CheckConstraint(
                condition=Q(kind="patient", patient__isnull=False)
                | (~Q(kind="patient") & Q(patient__isnull=True)),
                name="group_patient_only_in_patient_groups",
            ),
            # 留意事項 1: never two working groups for one patient (a partial unique index).
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(patient__isnull=False) & ~Q(state="archived"),
                name="group_one_working_group_per_patient",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="all_users"), name="group_one_all_users_group"
            ),
            models.CheckConstraint(
                condition=~Q(state="archived") | Q(archived_at__isnull=False),
                name="group_archive_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["facility", "state"]),
            # The center's overview lists every group in this order: a page is read off the
            # index instead of sorting a million groups (issue 9, make bench).
            models.Index(fields=["state", "kind", "name", "id"], name="group_center_order"),
            # 留意事項 1: the reviews due or overdue, found by their deadline's base (the last
            # review, else the creation) among the working patient groups, not by reading a
            # million groups (reminders_send, reviews_due_soon, the dashboard).
            models.Index(
                Coalesce("last_reviewed_at", "created_at"),
                condition=Q(kind="patient", state="active"),
                name="group_review_base",
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def is_patient_group(self) -> bool:
        return self.kind == self.Kind.PATIENT

    @property
    def is_working(self) -> bool:
        """Still in the working lists: not archived (a group to be archived is still shown)."""
        return self.state != self.State.ARCHIVED

    @property
    def is_open(self) -> bool:
        """Accepts changes (invitations, reviews, handovers): active only."""
        return self.state == self.State.ACTIVE


class Membership(models.Model):
    """サポーター: one user's place in one group. Rows are never deleted; a change of state is
    the history (who invited, who removed whom and why)."""

    class State(models.TextChoices):
        INVITED = "invited", _("招待中")
        ACCEPTED = "accepted", _("参加中")
        DECLINED = "declined", _("辞退")
        CANCELLED = "cancelled", _("招待取消")
        REMOVED = "removed", _("解除")
        LEFT = "left", _("退出")

    OPEN_STATES = (State.INVITED, State.ACCEPTED)

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    state = models.CharField(_("状態"), max_length=16, choices=State.choices)
    invited_by = person_field(_("招待した人"))
    invited_at = models.DateTimeField(_("招待日時"), default=timezone.now)
    responded_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    ended_by = person_field(_("解除した人"))
    end_reason = models.CharField(_("解除の理由"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("メンバー")
        verbose_name_plural = _("メンバー")
        ordering = ["group", "invited_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(state__in=["invited", "accepted"]),
                name="membership_one_open_per_user",
            )
        ]
        indexes = [
            models.Index(fields=["user", "state"]),
            models.Index(fields=["group", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.group_id}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class SupporterReview(models.Model):
    """精査 (留意事項 1): who reviewed which group's supporters when, and whom they removed."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("精査した人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("精査日時"), default=timezone.now)
    removed = models.ManyToManyField(
        Membership, verbose_name=_("解除したメンバー"), blank=True, related_name="+"
    )
    note = models.TextField(_("メモ"), blank=True)

    class Meta:
        verbose_name = _("サポーター精査")
        verbose_name_plural = _("サポーター精査")
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.group_id} {self.reviewed_at:%Y-%m-%d}"


class Announcement(models.Model):
    """お知らせ: the center writes to the all-users group (基本設定 7 ①), or to MCS
    administrators only. Shown from `publish_at` on."""

    class Audience(models.TextChoices):
        ALL_USERS = "all_users", _("全ユーザー")
        MCS_ADMINS = "mcs_admins", _("MCS管理者のみ")

    title = models.CharField(_("件名"), max_length=200)
    body = models.TextField(_("本文"))
    audience = models.CharField(
        _("宛先"), max_length=16, choices=Audience.choices, default=Audience.ALL_USERS
    )
    publish_at = models.DateTimeField(_("公開日時"), default=timezone.now, db_index=True)
    created_by = person_field(_("作成者"))
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("お知らせ")
        verbose_name_plural = _("お知らせ")
        ordering = ["-publish_at", "-pk"]

    def __str__(self) -> str:
        return str(self.title)


class AnnouncementRead(models.Model):
    """That one user has read one announcement (the home page shows only unread ones)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcement_reads"
    )
    read_at = models.DateTimeField(_("既読日時"), default=timezone.now)

    class Meta:
        verbose_name = _("お知らせの既読")
        verbose_name_plural = _("お知らせの既読")
        constraints = [
            models.UniqueConstraint(fields=["announcement", "user"], name="announcement_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.announcement_id}"


# Direct foreign-key object permissions (guardian docs, "Performance tuning"), as in facilities.
class GroupUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Group, on_delete=models.CASCADE)


class GroupGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Group, on_delete=models.CASCADE)
