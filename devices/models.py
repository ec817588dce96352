"""Devices, take-out and BYOD approvals, loss and incident reports (art. 12, 留意事項 4).

Who may see and do what is decided by the facility's object permissions (guardian grants that
follow the role rows of facilities): `facilities.manage_devices` is the MCS administrator's
(art. 6 (2)). These tables only hold the facts; the workflows live in services.py.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility

USER = settings.AUTH_USER_MODEL


class Device(models.Model):
    """An IT device used for the network at one facility (art. 6 (2), art. 12)."""

    class Kind(models.TextChoices):
        PC = "pc", _("パソコン")
        SMARTPHONE = "smartphone", _("スマートフォン")
        TABLET = "tablet", _("タブレット")

    class Ownership(models.TextChoices):
        FACILITY = "facility", _("事業所所有")
        PERSONAL = "personal", _("個人所有（BYOD）")

    class State(models.TextChoices):
        IN_USE = "in_use", _("使用中")
        LOST = "lost", _("紛失・盗難")
        RETURNED = "returned", _("返却済み")
        DISPOSED = "disposed", _("廃棄済み")

    class EraseMethod(models.TextChoices):
        # Art. 12 (13): erase software when sold or returned, physical destruction when discarded.
        ERASE_SOFTWARE = "erase_software", _("消去ソフトで完全に消去")
        PHYSICAL_DESTRUCTION = "physical_destruction", _("ハードディスクを物理的に破壊")

    # The checklist of art. 12 (and 11 (6)): field name -> label, in the order of the rules.
    CHECKLIST = (
        (
            "boot_password_confirmed_on",
            _("起動時パスワード（英数混合8文字以上）を設定（第12条(1)）"),
        ),
        (
            "no_unapproved_software_confirmed_on",
            _("定められた以外のアプリ（ファイル交換ソフト等）がない（第12条(2)）"),
        ),
        ("antivirus_confirmed_on", _("ウイルス対策を実施（第12条(3)）")),
        (
            "browser_no_saved_password_confirmed_on",
            _("ブラウザにIDやパスワードを記憶させない（第12条(4)）"),
        ),
        ("screen_lock_confirmed_on", _("端末にロックをかける（第11条(6)）")),
        ("mdm_considered_on", _("MDM（端末管理）サービスの利用を検討（第12条(8)）")),
    )

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.PROTECT, related_name="devices"
    )
    kind = models.CharField(_("種類"), max_length=16, choices=Kind.choices)
    ownership = models.CharField(
        _("所有"), max_length=16, choices=Ownership.choices, default=Ownership.FACILITY
    )
    label = models.CharField(_("名称・管理番号"), max_length=100)
    assigned_user = models.ForeignKey(
        USER,
        verbose_name=_("使用者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_devices",
    )
    boot_password_confirmed_on = models.DateField(
        _("起動時パスワード 確認日"), null=True, blank=True
    )
    no_unapproved_software_confirmed_on = models.DateField(
        _("不要なアプリなし 確認日"), null=True, blank=True
    )
    antivirus_confirmed_on = models.DateField(_("ウイルス対策 確認日"), null=True, blank=True)
    browser_no_saved_password_confirmed_on = models.DateField(
        _("ブラウザにパスワードを記憶させない 確認日"), null=True, blank=True
    )
    screen_lock_confirmed_on = models.DateField(_("端末ロック 確認日"), null=True, blank=True)
    mdm_considered_on = models.DateField(_("MDM検討 確認日"), null=True, blank=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.IN_USE, db_index=True
    )
    state_changed_at = models.DateTimeField(_("状態の変更日時"), default=timezone.now)
    erase_method = models.CharField(
        _("データ消去の方法"), max_length=32, choices=EraseMethod.choices, blank=True
    )
    erased_on = models.DateField(_("データ消去日"), null=True, blank=True)
    note = models.TextField(_("備考"), blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("IT機器")
        verbose_name_plural = _("IT機器")
        ordering = ["facility", "label", "pk"]
        indexes = [models.Index(fields=["facility", "state"])]
        constraints = [
            # Art. 12 (13): a disposed device records how its data was destroyed.
            models.CheckConstraint(
                condition=~Q(state="disposed") | ~Q(erase_method=""),
                name="device_disposed_has_erase_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}（{self.get_kind_display()}）"

    @property
    def is_byod(self) -> bool:
        return self.ownership == self.Ownership.PERSONAL

    def checklist(self) -> list[tuple[str, str, dt.date | None]]:
        """(field, label, last confirmed) for each item, in the rules' order."""
        return [(name, label, getattr(self, name)) for name, label in self.CHECKLIST]

    def checklist_oldest(self) -> dt.date | None:
        """The oldest confirmation; None when one item was never confirmed."""
        dates = [getattr(self, name) for name, _label in self.CHECKLIST]
        return None if any(d is None for d in dates) else min(dates)

    def check_overdue(self, cutoff: dt.date) -> bool:
        """True when a device in use has an item not confirmed since `cutoff`."""
        if self.state != self.State.IN_USE:
            return False
        oldest = self.checklist_oldest()
        return oldest is None or oldest < cutoff


CHECKLIST_FIELDS = tuple(name for name, _label in Device.CHECKLIST)


def check_overdue_q(cutoff: dt.date) -> Q:
    """Devices in use with an item never confirmed or confirmed before `cutoff` (one query)."""
    stale = Q()
    for name, _label in Device.CHECKLIST:
        stale |= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__lt": cutoff})
    return Q(state=Device.State.IN_USE) & stale


class TakeoutRequest(models.Model):
    """持ち出し届 (art. 12 (9)); a BYOD request is the same form (art. 12 (10))."""

    class Kind(models.TextChoices):
        TAKEOUT = "takeout", _("情報・情報機器の持ち出し")
        BYOD = "byod", _("個人所有端末の業務利用（BYOD）")

    class State(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        APPROVED = "approved", _("承認済み")
        REJECTED = "rejected", _("却下")
        RETURNED = "returned", _("返却済み")
        WITHDRAWN = "withdrawn", _("取り下げ")

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.PROTECT, related_name="takeouts"
    )
    requester = models.ForeignKey(
        USER, verbose_name=_("届出者"), on_delete=models.PROTECT, related_name="takeout_requests"
    )
    kind = models.CharField(_("届出の種類"), max_length=16, choices=Kind.choices)
    information = models.TextField(_("持ち出す情報の内容"))
    medium = models.CharField(_("格納する媒体"), max_length=200)
    purpose = models.TextField(_("持ち出す目的"))
    period_start = models.DateField(_("期間（開始）"))
    period_end = models.DateField(_("期間（終了）"))
    device = models.ForeignKey(
        Device,
        verbose_name=_("登録済みの機器"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="takeouts",
    )
    personal_device = models.CharField(_("使用する個人所有端末"), max_length=200, blank=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("届出日時"), auto_now_add=True)
    decided_by = models.ForeignKey(
        USER,
        verbose_name=_("承認者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("承認・却下日時"), null=True, blank=True)
    decision_comment = models.TextField(_("コメント"), blank=True)
    returned_at = models.DateTimeField(_("返却日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("持ち出し・BYOD届")
        verbose_name_plural = _("持ち出し・BYOD届")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "period_end"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="takeout_period_in_order",
            ),
            # Art. 12 (10): a BYOD request names the personal device.
            models.CheckConstraint(
                condition=~Q(kind="byod") | ~Q(personal_device="") | Q(device__isnull=False),
                name="takeout_byod_names_device",
            ),
            # Nobody approves their own request (art. 12 (9): approval by the MCS administrator).
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requester")),
                name="takeout_not_self_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.requester} {self.period_start}〜{self.period_end}"

    @property
    def is_active(self) -> bool:
        """Approved and not returned yet: the information is out of the office."""
        return self.state == self.State.APPROVED

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.state == self.State.APPROVED and self.period_end < today


class LossReport(models.Model):
    """紛失・盗難の報告 (art. 12 (11), 留意事項 4)."""

    class Kind(models.TextChoices):
        LOST = "lost", _("紛失")
        STOLEN = "stolen", _("盗難")

    class Carrier(models.TextChoices):
        REQUESTED = "requested", _("依頼した")
        NOT_YET = "not_yet", _("まだ依頼していない")
        NOT_APPLICABLE = "not_applicable", _("該当しない（携帯電話会社の契約がない機器）")

    class State(models.TextChoices):
        REPORTED = "reported", _("報告済み（未確認）")
        ACKNOWLEDGED = "acknowledged", _("MCS管理者が確認")
        CLOSED = "closed", _("完了")

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.PROTECT, related_name="loss_reports"
    )
    reporter = models.ForeignKey(
        USER, verbose_name=_("報告者"), on_delete=models.PROTECT, related_name="loss_reports"
    )
    kind = models.CharField(_("紛失・盗難"), max_length=16, choices=Kind.choices)
    device = models.ForeignKey(
        Device,
        verbose_name=_("登録済みの機器"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="loss_reports",
    )
    device_description = models.CharField(_("機器"), max_length=200)
    occurred_at = models.DateTimeField(_("紛失・盗難に気づいた日時"))
    place = models.CharField(_("場所"), max_length=200)
    contents = models.TextField(_("機器に入っていた情報"))
    password_changed = models.BooleanField(_("パスワードを変更済み"))
    carrier_contacted = models.CharField(
        _("携帯電話会社へのリモートロック・データ消去の依頼"),
        max_length=16,
        choices=Carrier.choices,
    )
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.REPORTED, db_index=True
    )
    created_at = models.DateTimeField(_("報告日時"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        USER,
        verbose_name=_("確認者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    admin_comment = models.TextField(_("MCS管理者からの指示"), blank=True)
    outcome = models.TextField(_("対応結果"), blank=True)
    closed_by = models.ForeignKey(
        USER,
        verbose_name=_("完了者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("紛失・盗難報告")
        verbose_name_plural = _("紛失・盗難報告")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(outcome=""), name="loss_closed_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.device_description}（{self.reporter}）"


class IncidentReport(models.Model):
    """システム異常・不正アクセスの報告 (留意事項 4), with its timeline (IncidentEvent)."""

    class Kind(models.TextChoices):
        ANOMALY = "anomaly", _("システムの異常")
        UNAUTHORIZED_ACCESS = "unauthorized_access", _("不正アクセス（の疑い）")

    class State(models.TextChoices):
        REPORTED = "reported", _("報告済み（未確認）")
        ACKNOWLEDGED = "acknowledged", _("対応中")
        CLOSED = "closed", _("完了")

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.PROTECT, related_name="incidents"
    )
    reporter = models.ForeignKey(
        USER, verbose_name=_("報告者"), on_delete=models.PROTECT, related_name="incident_reports"
    )
    kind = models.CharField(_("種類"), max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("発見した日時"))
    description = models.TextField(_("内容"))
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.REPORTED, db_index=True
    )
    created_at = models.DateTimeField(_("報告日時"), auto_now_add=True)
    # 留意事項 4: the MCS administrator may hand it to the center.
    escalated_at = models.DateTimeField(
        _("センターへの報告日時"), null=True, blank=True, db_index=True
    )
    escalated_by = models.ForeignKey(
        USER,
        verbose_name=_("センターへ報告した人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.TextField(_("対応結果"), blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    # 留意事項 2: a restriction or ban of a user links to the report that caused it.
    restrictions = models.ManyToManyField(
        "facilities.UserRestriction",
        verbose_name=_("この報告による利用制限"),
        related_name="incident_reports",
        blank=True,
    )

    class Meta:
        verbose_name = _("異常・不正アクセス報告")
        verbose_name_plural = _("異常・不正アクセス報告")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(outcome=""), name="incident_closed_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.facility}・{self.created_at:%Y-%m-%d}）"

    @property
    def is_escalated(self) -> bool:
        return self.escalated_at is not None


class IncidentEvent(models.Model):
    """One step in an incident's timeline: who did what, when (append-only)."""

    class Action(models.TextChoices):
        REPORTED = "reported", _("報告")
        ACKNOWLEDGED = "acknowledged", _("確認")
        NOTE = "note", _("記録")
        ESCALATED = "escalated", _("センターへ報告")
        RESTRICTED = "restricted", _("利用制限・禁止")
        CLOSED = "closed", _("完了")

    incident = models.ForeignKey(IncidentReport, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        USER, verbose_name=_("操作者"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    note = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("対応記録")
        verbose_name_plural = _("対応記録")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"
