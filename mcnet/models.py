"""Pieces every app shares: the audit trail and the network's own settings."""

from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One write to the network's records: who, what, which object, when, from where.

    Append-only (national guideline: access and operation logs must be reviewable); written by
    services in the same transaction as the change they describe.
    """

    created_at = models.DateTimeField(_("日時"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the trail still names the actor after an account is erased.
    actor_label = models.CharField(_("操作者（記録時）"), max_length=254, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("対象の種類"), max_length=64)
    object_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("対象"), max_length=200, blank=True)
    facility_id = models.BigIntegerField(_("事業所ID"), null=True, blank=True, db_index=True)
    changes = models.JSONField(_("変更内容"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    prev_hash = models.CharField(_("直前のハッシュ"), max_length=64, blank=True)
    hash = models.CharField(_("ハッシュ"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("監査ログは変更できません。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("監査ログは削除できません。"))


# What one request has read already (mcnet.middleware.RequestContextMiddleware opens it for
# the request and closes it after; None outside a request).
request_memo: ContextVar[dict | None] = ContextVar("mcnet_request_memo", default=None)


class NetworkSettings(models.Model):
    """The one editable record of the network (a singleton, pk=1).

    Forms and pages read the network's name and the center's contact from here, so nothing
    about Joetsu is written into a template; the values below are the rules' own.
    """

    CACHE_KEY = "mcnet:network-settings"

    name = models.CharField(_("ネットワーク名"), max_length=100, default="MC ネット")
    operator = models.CharField(_("運営"), max_length=100, default="上越医師会")
    operator_head_title = models.CharField(
        _("申込先（宛名）"), max_length=100, default="上越医師会 会長"
    )
    center_name = models.CharField(
        _("センター名"), max_length=100, default="上越地域在宅医療推進センター"
    )
    center_postal_code = models.CharField(_("センター郵便番号"), max_length=8, default="943-8555")
    center_address = models.CharField(
        _("センター住所"), max_length=200, default="上越市春日野1丁目2-33 上越医師会館内"
    )
    center_phone = models.CharField(_("センター電話番号"), max_length=20, default="025-520-7500")
    center_fax = models.CharField(_("センターFAX番号"), max_length=20, default="025-520-8686")
    center_email = models.EmailField(_("センターメールアドレス"), default="aizawa@ganginet.jp")
    center_hours = models.CharField(
        _("受付時間"),
        max_length=100,
        default="原則として、平日 9:00-16:00（土・日曜・祝日は休業）",
    )
    center_contact_person = models.CharField(_("担当者"), max_length=50, default="相澤", blank=True)
    # 別紙5 names the area the network serves; printed from here, not from the template.
    region_name = models.CharField(
        _("対象地域（帳票に印刷）"), max_length=100, default="上越・妙高地域", blank=True
    )
    # 留意事項 1: supporters are reviewed "periodically"; the network decides how often.
    review_interval_days = models.PositiveIntegerField(_("サポーター精査の間隔（日）"), default=180)
    # Art. 11 (4)(5): log out when leaving the seat; idle sessions end by themselves.
    idle_timeout_minutes = models.PositiveIntegerField(
        _("無操作でログアウトするまでの時間（分）"), default=15
    )
    # 別紙5 (3), 別紙6: personal data is deleted after the purpose ends.
    retention_days = models.PositiveIntegerField(
        _("アーカイブ後の個人情報の保存期間（日）"), default=365 * 5
    )
    archive_deadline_days = models.PositiveIntegerField(
        _("アーカイブ予定からアーカイブまでの期限（日）"), default=14
    )
    invitation_expiry_days = models.PositiveIntegerField(_("招待の有効期間（日）"), default=14)
    device_check_interval_days = models.PositiveIntegerField(
        _("IT機器チェックリストの確認間隔（日）"), default=365
    )
    dormant_days = models.PositiveIntegerField(
        _("休眠アカウントとみなす未ログイン期間（日）"), default=180
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("ネットワーク設定")
        verbose_name_plural = _("ネットワーク設定")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="network_settings_singleton")
        ]

    def __str__(self) -> str:
        return str(self.name)

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)
        memo = request_memo.get()
        if memo is not None:
            memo.pop(self.CACHE_KEY, None)

    @classmethod
    def load(cls) -> "NetworkSettings":
        """The record, from the cache when possible: every page's footer reads it, and within
        a request it is read once (the idle timeout, the footer and the lists ask again)."""
        memo = request_memo.get()
        if memo is not None and cls.CACHE_KEY in memo:
            return memo[cls.CACHE_KEY]
        obj = cache.get(cls.CACHE_KEY)
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
            cache.set(cls.CACHE_KEY, obj, 300)
        if memo is not None:
            memo[cls.CACHE_KEY] = obj
        return obj


class Notification(models.Model):
    """One message to one user: shown in their inbox and sent by e-mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("種類"), max_length=64)
    title = models.CharField(_("件名"), max_length=200)
    body = models.TextField(_("本文"), blank=True)
    url = models.CharField(_("リンク"), max_length=300, blank=True)
    reason = models.CharField(_("通知の理由"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    read_at = models.DateTimeField(_("既読日時"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("メール送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["emailed_at", "created_at"]),
        ]

    def __str__(self) -> str:
        return str(self.title)


class GeneratedDocument(models.Model):
    """One printed form (別紙1–7, the take-out request of 第12条(9)) rendered to PDF by a task.

    The context it prints is stored with it and hashed into `idempotency_key`, so asking twice
    for the same data gives the same document and a task run twice renders once. The file lives
    under MEDIA_ROOT (never a public URL); downloads check the permission of the object it
    belongs to (`content_type`/`object_id`, or each of `items` for a batch).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("待機中")
        RENDERING = "rendering", _("作成中")
        READY = "ready", _("完成")
        FAILED = "failed", _("失敗")

    form_code = models.CharField(_("帳票"), max_length=16, db_index=True)
    # The object the form is printed for (a facility, a consent, a take-out request); null for
    # a blank or sample form. For a batch: the scope (e.g. the facility), items in `items`.
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, null=True, blank=True
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    is_batch = models.BooleanField(_("一括作成"), default=False)
    items = models.JSONField(_("一括作成の対象"), default=list, blank=True)
    title = models.CharField(_("表題"), max_length=200)
    data = models.JSONField(_("印刷する内容"), default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    version = models.CharField(_("版（内容のハッシュ）"), max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("依頼者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    message = models.TextField(_("メッセージ"), blank=True)
    progress_done = models.PositiveIntegerField(_("進捗（済）"), default=0)
    progress_total = models.PositiveIntegerField(_("進捗（全体）"), default=1)
    attempts = models.PositiveSmallIntegerField(_("試行回数"), default=0)
    file = models.FileField(_("PDF"), upload_to="documents/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    published_at = models.DateTimeField(_("キュー投入日時"), null=True, blank=True)
    started_at = models.DateTimeField(_("作成開始日時"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("作成した帳票")
        verbose_name_plural = _("作成した帳票")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["state", "updated_at"]),
        ]

    def __str__(self) -> str:
        return str(self.title)

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.READY, self.State.FAILED)
