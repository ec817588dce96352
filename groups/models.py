"""Patient, free and all-users groups (連携グループ), memberships (サポーター), supporter reviews,
the archive (留意事項 1–3, 第8条) and the center's announcements to the all-users group.

Role facts are rows here (Membership with its state, Group.manager); the guardian grants in
GroupUserObjectPermission follow from them and change only in services.py, in the same
transaction.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from consents.models import Patient, person_field
from facilities.models import Facility

# 留意事項 1 (1): 「(患者氏名)○○○○さんのグループ」(例: 山田花子さんのグループ). Data, not UI
# text: the name is the same whatever language the reader uses.
PATIENT_GROUP_NAME = "{name}さんのグループ"


def patient_group_name(patient: Patient) -> str:
    return PATIENT_GROUP_NAME.format(name=patient.name)


# 第9条3項, 別紙5: care ends the moment the consent is withdrawn or found invalid, before the
# group reaches the archive.
CARE_ENDED_REASONS = ("consent_withdrawn", "consent_invalid")

# 留意事項 3: a manager's end-of-care report sent by mistake may be withdrawn for a day, as long
# as the group has not been archived and the end is not a withdrawn consent (第9条3項).
END_REPORT_UNDO_WINDOW = dt.timedelta(days=1)


def patient_group_label(pk, facility_name: str) -> str:
    if facility_name:
        return gettext("患者グループ No.%(pk)s（%(facility)s）") % {
            "pk": pk,
            "facility": facility_name,
        }
    return gettext("患者グループ No.%(pk)s") % {"pk": pk}


def group_label(*, pk, kind: str, name: str, facility_name: str) -> str:
    """Group.label from a row's values (lists and reminders that read no Group instance)."""
    if kind != "patient":
        return str(name)
    return patient_group_label(pk, facility_name)


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
            # index instead of sorting a million groups (make bench).
            models.Index(fields=["state", "kind", "name", "id"], name="group_center_order"),
            # 留意事項 1: the reviews due or overdue, found by their deadline's base (the last
            # review, else the creation) among the working patient groups, not by reading a
            # million groups (reminders_send, reviews_due_soon, the dashboard).
            models.Index(
                Coalesce("last_reviewed_at", "created_at"),
                condition=Q(kind="patient", state="active"),
                name="group_review_base",
            ),
            # The center's dashboard counts the due and overdue reviews per facility off this
            # one index (an index-only scan of the groups past the due line), and the groups
            # waiting for the archive and archived per month off the two below (make bench).
            models.Index(
                Coalesce("last_reviewed_at", "created_at"),
                F("facility"),
                # The raw columns too: PostgreSQL reads an expression index alone (an
                # index-only scan) only when the columns under the expression are in it.
                include=["last_reviewed_at", "created_at"],
                condition=Q(kind="patient", state="active"),
                name="group_review_base_facility",
            ),
            models.Index(
                fields=["end_reported_at", "facility"],
                condition=Q(state="to_be_archived"),
                name="group_archive_waiting",
            ),
            models.Index(
                fields=["archived_at"], condition=Q(state="archived"), name="group_archived_on"
            ),
        ]

    def __str__(self) -> str:
        # The admin, the audit trail and every page that is not a member's show this: a patient
        # group's name is its patient's (別紙5 (2)).
        return self.label

    @property
    def label(self) -> str:
        """A neutral label: 「患者グループ No.123（ABCクリニック）」 for a patient group, the name
        of any other group (a free group holds no patient, 留意事項 1 (2))."""
        return group_label(
            pk=self.pk,
            kind=self.kind,
            name=self.name,
            facility_name=self.facility.name if self.facility_id else "",
        )

    @property
    def is_patient_group(self) -> bool:
        return self.kind == self.Kind.PATIENT

    @property
    def is_closed(self) -> bool:
        """Care has ended (permissions.closed_patient_group_q): members have no access any more."""
        return self.kind == self.Kind.PATIENT and (
            self.state == self.State.ARCHIVED or self.end_reason in CARE_ENDED_REASONS
        )

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
    # The facility through which the member was invited (留意事項4: leaving it ends the
    # membership, even for someone who still works at another facility).
    via_facility = models.ForeignKey(
        "facilities.Facility",
        verbose_name=_("招待時の所属事業所"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

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
    # 第8条(1), 留意事項4: the manager also looked over the group's MCS timeline (posts about
    # this patient only, within an appropriate scope). Reviews before this was asked: False.
    timeline_checked = models.BooleanField(_("タイムラインを確認した"), default=False)

    class Meta:
        verbose_name = _("サポーター精査")
        verbose_name_plural = _("サポーター精査")
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.group_id} {self.reviewed_at:%Y-%m-%d}"


class PostDeletion(models.Model):
    """第8条(1): the patient-group manager deleted a post in MCS that must not be there
    (留意事項4: another patient's information, content beyond an appropriate scope, a post
    meant for another group). Only the fact is kept: the post itself stays out of the portal,
    and the note must hold no patient detail (the center counts these per facility)."""

    class Category(models.TextChoices):
        OTHER_PATIENT = "other_patient", _("別の患者の情報")
        INAPPROPRIATE = "inappropriate", _("不適切な内容")
        WRONG_GROUP = "wrong_group", _("グループの間違い")
        OTHER = "other", _("その他")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="post_deletions")
    deleted_on = models.DateField(_("MCSで削除した日"))
    category = models.CharField(_("削除の理由"), max_length=16, choices=Category.choices)
    note = models.CharField(_("メモ"), max_length=200, blank=True)
    recorded_by = person_field(_("記録した人"))
    recorded_at = models.DateTimeField(_("記録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("MCSの投稿の削除")
        verbose_name_plural = _("MCSの投稿の削除")
        ordering = ["-deleted_on", "-pk"]
        indexes = [models.Index(fields=["group", "-deleted_on"])]

    def __str__(self) -> str:
        return f"{self.group_id} {self.deleted_on:%Y-%m-%d} {self.category}"


# --- what MCS holds, attested (MCS has no API and no export of its members) ------------------


class Discrepancy(models.Model):
    """What an attestation found different in MCS: a task on its author's list until they
    record how it was put right."""

    discrepancy = models.BooleanField(_("相違あり"), default=False, db_index=True)
    resolved_at = models.DateTimeField(_("解消日時"), null=True, blank=True)
    resolved_by = person_field(_("解消を記録した人"))
    resolution = models.CharField(_("解消の内容"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.discrepancy and self.resolved_at is None


class StaffAttestation(models.Model):
    """The facility's MCS administrator compared the portal's staff list with MCS's, staff by
    staff (第6条(3)(4)). Since 2026-02 an MCS account is deleted only by its own user; an
    administrator can only 「スタッフ解除」, so the two drift apart unless someone looks."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="staff_attestations"
    )
    attested_by = person_field(_("照合した人"))
    attested_at = models.DateTimeField(_("照合日時"), default=timezone.now)

    class Meta:
        verbose_name = _("職員登録の照合")
        verbose_name_plural = _("職員登録の照合")
        ordering = ["-attested_at", "-pk"]
        indexes = [models.Index(fields=["facility", "-attested_at"])]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.attested_at:%Y-%m-%d}"


class StaffAttestationLine(Discrepancy):
    """One staff member as MCS shows them, beside what the portal holds."""

    class Status(models.TextChoices):
        IN_MCS = "in_mcs", _("MCSに登録あり")
        RELEASED = "released", _("解除済み")
        ACCOUNT_REMAINS = "account_remains", _("アカウントが残っている")
        NOT_IN_MCS = "not_in_mcs", _("MCSに登録なし")

    attestation = models.ForeignKey(
        StaffAttestation, on_delete=models.CASCADE, related_name="lines"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # What the portal said when it was attested: in post (True) or left (False).
    in_portal = models.BooleanField(_("ポータルで在籍中"))
    status = models.CharField(_("MCSでの状態"), max_length=16, choices=Status.choices)

    class Meta:
        verbose_name = _("職員登録の照合（職員ごと）")
        verbose_name_plural = _("職員登録の照合（職員ごと）")
        ordering = ["attestation", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["attestation", "user"], name="staff_attestation_one_line_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attestation_id} {self.user_id} {self.status}"


class GroupAttestation(Discrepancy):
    """The patient group's manager compared the MCS group's members with the portal's."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="attestations")
    attested_by = person_field(_("照合した人"))
    attested_at = models.DateTimeField(_("照合日時"), default=timezone.now)
    # Portal members missing from the MCS group (ids), and how many are in MCS only (no names:
    # they are not in the portal).
    missing_in_mcs = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("MCSのグループにいないメンバー"),
        blank=True,
        related_name="+",
    )
    extra_in_mcs = models.PositiveIntegerField(_("MCSにだけいるメンバーの人数"), default=0)

    class Meta:
        verbose_name = _("グループメンバーの照合")
        verbose_name_plural = _("グループメンバーの照合")
        ordering = ["-attested_at", "-pk"]
        indexes = [models.Index(fields=["group", "-attested_at"])]

    def __str__(self) -> str:
        return f"{self.group_id} {self.attested_at:%Y-%m-%d}"


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
    # 利用開始までの流れ 7①: also sent by mail, once, after a preview and a confirmation.
    mailed_at = models.DateTimeField(_("メール送信日時"), null=True, blank=True)
    mailed_by = person_field(_("メールを送信した人"))
    mailed_count = models.PositiveIntegerField(_("メールの宛先数"), default=0)

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


class TeamNotice(models.Model):
    """「あなたの支援チーム」: the notice telling the patient and family which facilities and
    professions are in their team (別紙5 (2): only the facilities involved see the patient's
    information; under a blanket consent the patient is told when the participants change).

    `team` is what was printed, as facility ids and occupation codes only (no names): the
    group page compares it with today's team to say that a new notice is due."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="team_notices")
    team = models.JSONField(_("印刷したチーム（事業所IDと職種）"), default=list)
    printed_at = models.DateTimeField(_("印刷日時"), default=timezone.now)
    printed_by = person_field(_("印刷した人"))

    class Meta:
        verbose_name = _("支援チームのお知らせ")
        verbose_name_plural = _("支援チームのお知らせ")
        ordering = ["-printed_at", "-pk"]
        indexes = [models.Index(fields=["group", "-printed_at"])]

    def __str__(self) -> str:
        return f"支援チームのお知らせ #{self.pk}"
