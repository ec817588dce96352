"""Pieces every app shares: the audit trail and the network's own settings."""

import re
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import nfkc


class EventColumns(models.Model):
    """Who, what, which object, when, from where: what every audit record says, chained
    (AuditEvent) or waiting for its seal (AuditPending). Append-only."""

    created_at = models.DateTimeField(_("日時"), default=timezone.now)
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
    action = models.CharField(_("操作"), max_length=64)
    object_type = models.CharField(_("対象の種類"), max_length=64)
    object_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("対象"), max_length=200, blank=True)
    facility_id = models.BigIntegerField(_("事業所ID"), null=True, blank=True)
    changes = models.JSONField(_("変更内容"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)

    class Meta:
        abstract = True
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")

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


class AuditEvent(EventColumns):
    """One write to the network's records: who, what, which object, when, from where.

    Append-only (national guideline: access and operation logs must be reviewable); written by
    services in the same transaction as the change they describe.
    """

    created_at = models.DateTimeField(_("日時"), default=timezone.now, db_index=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    facility_id = models.BigIntegerField(_("事業所ID"), null=True, blank=True, db_index=True)
    prev_hash = models.CharField(_("直前のハッシュ"), max_length=64, blank=True)
    hash = models.CharField(_("ハッシュ"), max_length=64, blank=True)

    class Meta(EventColumns.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]


class AuditPending(EventColumns):
    """An opening of a patient's page (the access log, 第11条) waiting to be sealed into the
    audit chain: appended without the chain's lock, so readers never queue behind each other.

    The same columns as AuditEvent without the links; ids and codes only (object_repr is the
    object's str(), 「患者 #id」 for a patient: never a name). Rows leave only by being sealed
    (mcnet.audit.access_log_seal), moved into AuditEvent in the same transaction. Until then
    they are in the trail (AuditTrail) but not yet tamper-evident.
    """

    class Meta(EventColumns.Meta):
        pass


class AuditTrail(EventColumns):
    """The trail as its readers see it: every sealed AuditEvent and every AuditPending record
    (a database view, mcnet migration 0015), so an opening of a patient's page is in the
    audit log and the patient's disclosure from the moment it is written, not from its seal.

    Sealed events keep their id; pending records show theirs negated (ids stay unique, and
    the seal moves a record from one side to the other in one transaction: one statement
    never sees it twice or not at all). Read-only."""

    # A view: deleting an account must not try to update it (the tables keep their SET_NULL).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    sealed = models.BooleanField()  # False: an AuditPending record, not yet in the chain

    class Meta(EventColumns.Meta):
        managed = False
        db_table = "mcnet_audittrail"
        ordering = ["-created_at", "-id"]

    def save(self, *args, **kwargs):
        raise ValidationError(_("監査ログは変更できません。"))


# What one request has read already (mcnet.middleware.RequestContextMiddleware opens it for
# the request and closes it after; None outside a request).
request_memo: ContextVar[dict | None] = ContextVar("mcnet_request_memo", default=None)

_MAIL_DOMAIN = re.compile(r"@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")


def mail_domains(value: str) -> list[str]:
    """「@medical-care.net @embrace.co.jp」 → the domains, whatever width or separator typed."""
    return [d for d in re.split(r"[\s,、]+", nfkc(value).lower()) if d]


def validate_mail_domains(value: str) -> None:
    bad = [d for d in mail_domains(value) if not _MAIL_DOMAIN.fullmatch(d)]
    if bad:
        raise ValidationError(
            _("「@medical-care.net」のように @ から書いてください: %(bad)s")
            % {"bad": " ".join(bad)}
        )


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
    # MCS has no API and no export of its members: every interval, each facility's MCS
    # administrator and each patient group's manager attest that MCS matches the portal.
    attestation_interval_days = models.PositiveIntegerField(
        _("MCSとの照合の間隔（日）"),
        default=91,
        help_text=_(
            "各事業所のMCS管理者が職員の登録を、患者グループ管理者がグループのメンバーを、"
            "MCSの画面と照合して確認する間隔です（四半期なら91日）。過ぎると通知します。"
        ),
    )
    # Art. 11 (4)(5): log out when leaving the seat; idle sessions end by themselves.
    idle_timeout_minutes = models.PositiveIntegerField(
        _("無操作でログアウトするまでの時間（分）"), default=15
    )
    # 別紙5 (3), 別紙6: personal data is deleted after the purpose ends.
    retention_days = models.PositiveIntegerField(
        _("利用終了後の個人情報の保存期間（日）"),
        default=365 * 5,
        help_text=_(
            "患者の利用が終わってから個人情報を削除するまでの日数です（別紙5 (3)、別紙6）。"
            "患者グループがすべてアーカイブされた日、または同意が撤回・誤登録とされ利用中の"
            "グループがない患者はその日から数えます。過ぎると、毎日の処理が氏名・ふりがな・"
            "生年月日・住所・電話番号、同意書の画像、帳票、通知の文面を削除します。"
        ),
    )
    # 別紙6: a patient registered but never consented is kept only for a while.
    unconsented_grace_days = models.PositiveIntegerField(
        _("同意書のない患者の保存期間（日）"),
        default=90,
        help_text=_(
            "患者を登録してから同意書（別紙7）が記録されないまま、この日数が過ぎると、その"
            "患者の個人情報を削除します（別紙6）。削除の14日前に、登録した人へ一度だけ通知"
            "します。"
        ),
    )
    archive_deadline_days = models.PositiveIntegerField(
        _("アーカイブ予定からアーカイブまでの期限（日）"),
        default=14,
        help_text=_(
            "同意の撤回や利用終了の報告から、MCS管理者がグループをアーカイブするまでの期限"
            "です（留意事項2「速やかに」）。過ぎるとMCS管理者に通知します。"
        ),
    )
    invitation_expiry_days = models.PositiveIntegerField(_("招待の有効期間（日）"), default=14)
    # 別紙6 ご本人の照会, 個人情報保護法 §33–35: answered 「遅滞なく」; overdue ones remind.
    patient_request_due_days = models.PositiveIntegerField(
        _("ご本人からの開示等の請求に回答する期限（受付からの日数）"),
        default=14,
        help_text=_(
            "患者・家族・代理人からの開示・訂正・利用停止・消去の請求に回答するまでの日数です。"
            "過ぎると、対応する事業所のMCS管理者とグループ管理者に通知します。"
        ),
    )
    device_check_interval_days = models.PositiveIntegerField(
        _("IT機器チェックリストの確認間隔（日）"), default=365
    )
    # 第4条2: the portal's staff changes gather in the facility's 別紙4; if the facility has not
    # submitted it this many days after its first line, it goes to the center by itself.
    change_notice_auto_submit_days = models.PositiveIntegerField(
        _("変更届（別紙4）を自動で提出するまでの日数"),
        default=14,
        help_text=_(
            "ポータルで行った職員の追加・削除・管理者の変更は、その事業所の変更届（別紙4）の"
            "行になります。最初の行からこの日数が過ぎても事業所が提出しなければ、自動で"
            "センターへ提出します（第4条2）。"
        ),
    )
    # 留意事項4, 第7条(2), 第12条(10): a leaver's checklist open longer than this shows to the
    # center.
    leaver_checklist_due_days = models.PositiveIntegerField(
        _("退職者チェックリストの期限（日）"),
        default=14,
        help_text=_(
            "職員の利用中止から、MCS管理者が退職者チェックリスト（貸与端末の返却、MCSでの"
            "スタッフ解除、退職後の守秘義務の伝達）を終えるまでの日数です。過ぎるとセンター"
            "の一覧に表示します。"
        ),
    )
    dormant_days = models.PositiveIntegerField(
        _("休眠アカウントとみなす未ログイン期間（日）"), default=180
    )
    # 個人情報保護法 §26, 規則8条1項: a leak of patients' data is reported 「速やかに」 (速報); the
    # network decides what "promptly" means for its facilities.
    leak_preliminary_report_days = models.PositiveIntegerField(
        _("漏えい等の速報の期限（知った日から何日以内）"),
        default=3,
        help_text=_(
            "個人データの漏えい等（のおそれ）を知った日から、個人情報保護委員会への速報を"
            "求める日数です（規則8条1項「速やかに」）。確報は30日以内（不正の目的によるものは"
            "60日以内）で、法令で決まっています。"
        ),
    )
    # 利用開始までの流れ 7②: MCS's maker mails maintenance news and new-message notices from
    # these domains; users are told to accept them (the welcome mail, the first-login page).
    mcs_mail_domains = models.CharField(
        _("受信設定を案内するMCSのメールドメイン"),
        max_length=200,
        default="@medical-care.net @embrace.co.jp",
        validators=[validate_mail_domains],
        help_text=_(
            "迷惑メール設定で受信を許可してもらうドメインです。空白で区切り、"
            "「@medical-care.net」のように @ から書きます。招待メールと最初のログインの画面に"
            "表示します。"
        ),
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

    @property
    def mcs_mail_domain_list(self) -> list[str]:
        return mail_domains(self.mcs_mail_domains)


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
    # A sender's claim on the mail while it sends it (mcnet/outbox.py).
    mail_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

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


class FormSubmission(models.Model):
    """One posted form, by the one-time token its page carried (mcnet/submissions.py): the
    same form posted again (a double click, a reload, the network resending) is answered
    with the first one's result instead of being done twice."""

    token = models.CharField(max_length=32, unique=True)
    user_id = models.BigIntegerField(null=True, blank=True)  # no FK: kept a day, then purged
    path = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=2000, blank=True)  # where the first was sent

    class Meta:
        verbose_name = _("フォームの送信")
        verbose_name_plural = _("フォームの送信")

    def __str__(self) -> str:
        return self.token


class KeptForm(models.Model):
    """A form posted after its sender's session had ended (art. 11's idle timeout), kept
    until the same person signs in again on the same browser (mcnet/keptforms.py).

    The fields are encrypted with a key that exists only in that browser's cookie: this row
    alone reveals nothing of what was typed (a patient's name, for one).
    """

    user_id = models.BigIntegerField()  # no FK: kept minutes, then purged
    path = models.CharField(max_length=300)
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("復元待ちの入力")
        verbose_name_plural = _("復元待ちの入力")

    def __str__(self) -> str:
        return f"{self.user_id} {self.path}"


class PageGeneration(models.Model):
    """A number per user that grows whenever something a cached page of theirs shows changes
    (mcnet/pagecache.py). Bumped by database triggers in the same transaction as the change
    (groups/migrations/0009_page_generation_triggers.py), so no service can forget it; read
    with the signed-in user in the request's first query (facilities.selectors.signed_in_user).
    No row: generation 0.

    Two rows belong to no user (ids no account has): NETWORK, bumped by a change every user
    may see (an announcement), and CENTER, by one only the center's staff see on their home
    (mcnet.dashboard migration 0003). signed_in_user adds them to the user's own, the center's
    for center staff only: a sum of generations that only grow grows with each of them."""

    NETWORK = 0
    CENTER = -1

    user_id = models.BigIntegerField(primary_key=True)
    generation = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("ページの世代")
        verbose_name_plural = _("ページの世代")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.generation}"
