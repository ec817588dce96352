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
        ("procedures_confirmed_on", _("MCSの操作で定められた手順を守る（第12条(5)）")),
        ("screen_lock_confirmed_on", _("端末にロックをかける（第11条(6)）")),
        ("line_stop_considered_on", _("緊急回線停止サービスの利用を検討（第12条(7)）")),
        ("mdm_considered_on", _("MDM（端末管理）サービスの利用を検討（第12条(8)）")),
        (
            "trusted_network_confirmed_on",
            _(
                "信頼のおける通信回線（携帯電話の回線・施設内の無線LAN）だけを使い、"
                "街中の無線LANスポットを使わない（第12条(12)）"
            ),
        ),
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
    procedures_confirmed_on = models.DateField(
        _("定められた手順 確認日（第12条(5)）"), null=True, blank=True
    )
    line_stop_considered_on = models.DateField(
        _("緊急回線停止サービス検討 確認日（第12条(7)）"), null=True, blank=True
    )
    trusted_network_confirmed_on = models.DateField(
        _("信頼のおける通信回線 確認日（第12条(12)）"), null=True, blank=True
    )
    mdm_considered_on = models.DateField(_("MDM検討 確認日"), null=True, blank=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.IN_USE, db_index=True
    )
    state_changed_at = models.DateTimeField(_("状態の変更日時"), default=timezone.now)
    erase_method = models.CharField(
        _("データ消去の方法"), max_length=32, choices=EraseMethod.choices, blank=True
    )
    erased_on = models.DateField(_("データ消去日"), null=True, blank=True)
    # 第12条(13): who erased the disk or destroyed it (a person or the contractor).
    erased_by = models.CharField(_("消去・破壊を行った人（業者）"), max_length=100, blank=True)
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
        # 留意事項4, 第12条(10): the requester left the facility; the approval ends with them.
        ENDED = "ended", _("終了（退職・利用中止）")

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
    # 留意事項4: the requester left while the information was out; it is to be returned.
    return_requested_at = models.DateTimeField(_("返却を求めた日時"), null=True, blank=True)

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
        """Approved, its period begun and not returned yet: the information is out of the
        office (「持ち出し中」 only from the start date, 第12条(9))."""
        return self.state == self.State.APPROVED and self.period_start <= timezone.localdate()

    @property
    def is_scheduled(self) -> bool:
        """Approved, but its period has not begun."""
        return self.state == self.State.APPROVED and self.period_start > timezone.localdate()

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


class PrivacyLeak(models.Model):
    """個人データの漏えい等（のおそれ）: an incident or loss report marked as a (possible) leak of
    patients' personal data, which starts the legal clock (個人情報保護法 §26; 規則7条1号: any
    leak of 要配慮個人情報, even of one person, is reportable; 規則8条: 速報 promptly, 確報
    within 30 days, 60 for a leak by an improper purpose).

    The report's items (規則8条1項 1–9) are drafted here and printed; they describe the event,
    never a patient by name (the affected patients are the named groups, by id)."""

    class State(models.TextChoices):
        OPEN = "open", _("対応中")
        CLOSED = "closed", _("確報済み")

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.PROTECT, related_name="privacy_leaks"
    )
    incident = models.OneToOneField(
        IncidentReport,
        verbose_name=_("異常・不正アクセス報告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="privacy_leak",
    )
    loss_report = models.OneToOneField(
        LossReport,
        verbose_name=_("紛失・盗難報告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="privacy_leak",
    )
    affected_groups = models.ManyToManyField(
        "groups.Group", verbose_name=_("影響を受けた患者グループ"), related_name="+"
    )
    # 規則8条: the clock runs from when the facility learned of it (知った時).
    known_at = models.DateTimeField(_("漏えい等を知った日時"))
    improper_purpose = models.BooleanField(_("不正の目的によるもの（のおそれ）"), default=False)
    preliminary_due = models.DateField(_("速報の期限"))
    final_due = models.DateField(_("確報の期限"))
    preliminary_reported_on = models.DateField(_("速報した日"), null=True, blank=True)
    final_reported_on = models.DateField(_("確報した日"), null=True, blank=True)
    # §26②: the affected persons are told.
    persons_notified_on = models.DateField(_("本人へ通知した日"), null=True, blank=True)
    persons_notified_how = models.CharField(_("本人への通知の方法"), max_length=200, blank=True)
    # 規則8条1項 1–9: the items of the report.
    overview = models.TextField(_("概要"), blank=True)
    data_items = models.TextField(
        _("漏えい等が発生し、又は発生したおそれがある個人データの項目"), blank=True
    )
    person_count = models.PositiveIntegerField(_("本人の数"), null=True, blank=True)
    cause = models.TextField(_("原因"), blank=True)
    secondary_harm = models.TextField(_("二次被害又はそのおそれの有無及びその内容"), blank=True)
    response_to_persons = models.TextField(_("本人への対応の実施状況"), blank=True)
    publication = models.TextField(_("公表の実施状況"), blank=True)
    prevention = models.TextField(_("再発防止のための措置"), blank=True)
    other = models.TextField(_("その他参考となる事項"), blank=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.OPEN, db_index=True
    )
    marked_by = models.ForeignKey(
        USER, verbose_name=_("記録した人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(_("記録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("個人データの漏えい等")
        verbose_name_plural = _("個人データの漏えい等")
        ordering = ["final_due", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False, loss_report__isnull=True)
                | Q(incident__isnull=True, loss_report__isnull=False),
                name="privacy_leak_one_report",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(final_reported_on__isnull=False),
                name="privacy_leak_closed_has_final_report",
            ),
        ]

    def __str__(self) -> str:
        return f"漏えい等 #{self.pk}"

    @property
    def report(self):
        return self.incident or self.loss_report


class LeaverChecklist(models.Model):
    """What the facility's MCS administrator does when a staff member leaves it.

    留意事項4: a leaver returns the devices lent to them and does what the staff pledge asks;
    第7条(2): the duty of confidentiality outlives the employment; 第6条(3)(4): the MCS
    administrator manages IDs and removes users from MCS. MCS has no API, so 「スタッフ解除」 in
    MCS is done there by hand and confirmed here. Opened by the deactivation (the
    facilities.staff_left signal), closed when its three items are confirmed.
    """

    ITEMS = ("devices", "mcs_released", "duty_reminded")

    facility = models.ForeignKey(
        Facility,
        verbose_name=_("事業所"),
        on_delete=models.CASCADE,
        related_name="leaver_checklists",
    )
    user = models.ForeignKey(
        USER, verbose_name=_("退職者"), on_delete=models.CASCADE, related_name="+"
    )
    left_at = models.DateTimeField(_("利用中止日時"), default=timezone.now)
    reason = models.CharField(_("理由"), max_length=300, blank=True)
    left_network = models.BooleanField(_("ネットワークのどの事業所にも在籍しない"), default=False)
    devices_returned_at = models.DateTimeField(_("貸与端末の返却を確認"), null=True, blank=True)
    devices_returned_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mcs_released_at = models.DateTimeField(_("MCSでのスタッフ解除を確認"), null=True, blank=True)
    mcs_released_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duty_reminded_at = models.DateTimeField(_("退職後の守秘義務を伝えた"), null=True, blank=True)
    duty_reminded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("退職者チェックリスト")
        verbose_name_plural = _("退職者チェックリスト")
        ordering = ["closed_at", "-left_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "user"],
                condition=Q(closed_at__isnull=True),
                name="leaver_checklist_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility}"

    def item_done(self, item: str):
        return getattr(self, {"devices": "devices_returned_at"}.get(item, f"{item}_at"))

    def is_overdue(self, due_days: int, now=None) -> bool:
        now = now or timezone.now()
        return self.closed_at is None and self.left_at < now - dt.timedelta(days=due_days)
