"""Applications (別紙1/2), bulk registration (別紙3) and change notices (別紙4).

第4条: a facility joins by 別紙1 + 別紙2, registers its staff by 別紙3, and reports later
changes or stops by 別紙4. Each paper has a date, the signer, a state, and a signed scan.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Gender, Invitation, Occupation

# 別紙1's fields, as the application stores them and the facility receives them.
APPLICATION_FIELDS = (
    "facility_name",
    "postal_code",
    "prefecture",
    "city",
    "town",
    "address_line",
    "phone",
    "kind",
    "manager_name",
    "manager_email",
)
# Which wording of 別紙2 the applicant affirmed (the rules in force since 2021-09-01).
PLEDGE_VERSION = "2021-09-01"


def _new_nonce() -> str:
    return secrets.token_urlsafe(32)


def _scan_path(instance, filename: str) -> str:
    # Named by the upload checker after the content type (scan.pdf/jpg/png); never public.
    folder = secrets.token_hex(8)  # a re-upload never overwrites, and names are not guessable
    return f"enrollment/{instance._meta.model_name}/{instance.pk or 'new'}/{folder}/{filename}"


class CenterDecision(models.Model):
    """What the center decided on a paper, when, by whom, and what it told the sender."""

    decided_at = models.DateTimeField(_("処理日時"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("処理したセンター職員"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.TextField(_("理由・センターからの連絡"), blank=True)

    class Meta:
        abstract = True


class FacilityPaper(CenterDecision):
    """A paper a facility files (別紙3, 別紙4): who of its staff sent it."""

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出者"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True


class Application(CenterDecision):
    """利用申込書 (別紙1) with the confidentiality pledge (別紙2), filed by an anonymous applicant.

    The applicant has no account: they reach their application through a signed link built
    from `access_nonce` (selectors.application_for_token), which only they received by e-mail.
    """

    class State(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("メールアドレス確認待ち")
        SUBMITTED = "submitted", _("提出済み（センター審査待ち）")
        RETURNED = "returned", _("差し戻し（修正待ち）")
        ACCEPTED = "accepted", _("承認")
        REJECTED = "rejected", _("却下")

    # What the center's queue shows; an unconfirmed application has not reached the center.
    CENTER_STATES = (State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.REJECTED)

    # 別紙1
    facility_name = models.CharField(_("事業所名"), max_length=200)
    postal_code = models.CharField(_("郵便番号"), max_length=8)
    prefecture = models.CharField(_("都道府県"), max_length=10)
    city = models.CharField(_("市区町村"), max_length=50)
    town = models.CharField(_("町域"), max_length=100, blank=True)
    address_line = models.CharField(_("番地・建物名"), max_length=200)
    phone = models.CharField(_("事業所電話番号"), max_length=20)
    kind = models.CharField(_("施設の種類"), max_length=32, choices=Facility.Kind.choices)
    manager_name = models.CharField(_("事業所管理者氏名"), max_length=100)
    manager_email = models.EmailField(_("事業所管理者メールアドレス"))
    # 別紙2: the manager affirmed articles 1-5 of the pledge in this wording.
    pledge_affirmed = models.BooleanField(_("連携守秘誓約書（別紙2）に同意"), default=False)
    pledge_version = models.CharField(_("誓約書の版"), max_length=20, default=PLEDGE_VERSION)
    # 第15条: the version of 別紙2 the manager affirmed (the one in force when sent).
    pledge_rule_version = models.ForeignKey(
        "rulebook.RuleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("同意した別紙2の版"),
    )

    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.UNCONFIRMED, db_index=True
    )
    access_nonce = models.CharField(max_length=64, unique=True, default=_new_nonce, editable=False)
    created_at = models.DateTimeField(_("入力日時"), auto_now_add=True)
    email_confirmed_at = models.DateTimeField(_("メール確認日時"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    scan = models.FileField(
        _("署名・押印した申込書の写し"), upload_to=_scan_path, blank=True, max_length=200
    )
    scan_uploaded_at = models.DateTimeField(_("写しの受領日時"), null=True, blank=True)
    facility = models.OneToOneField(
        Facility,
        verbose_name=_("登録した事業所"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
    )

    class Meta:
        verbose_name = _("利用申込（別紙1・別紙2）")
        verbose_name_plural = _("利用申込（別紙1・別紙2）")
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="submitted") | models.Q(pledge_affirmed=True),
                name="application_submitted_with_pledge",
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility_name}（{self.get_state_display()}）"

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.town}{self.address_line}"

    @property
    def applied_on(self):
        """申込日: the day the application reached the center."""
        return timezone.localtime(self.submitted_at).date() if self.submitted_at else None


class ApplicationEvent(models.Model):
    """One step of an application, shown to the applicant and mailed to them once.

    Also the outbox of the applicant's e-mails (they have no account, so no inbox):
    `mailed_at` is set by the task that sends it, which makes a redelivery harmless.
    """

    class Kind(models.TextChoices):
        CONFIRM_EMAIL = "confirm_email", _("メールアドレスの確認依頼")
        SUBMITTED = "submitted", _("センターへ提出")
        RESUBMITTED = "resubmitted", _("修正して再提出")
        SCAN_UPLOADED = "scan_uploaded", _("署名・押印した写しを受領")
        RETURNED = "returned", _("差し戻し")
        ACCEPTED = "accepted", _("承認")
        REJECTED = "rejected", _("却下")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("種類"), max_length=32, choices=Kind.choices)
    message = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    mailed_at = models.DateTimeField(_("メール送信日時"), null=True, blank=True)
    # A sender's claim on the mail while it sends it (mcnet/outbox.py).
    mail_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("申込の経過")
        verbose_name_plural = _("申込の経過")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.get_kind_display()}"


class RosterRequest(FacilityPaper):
    """一括登録代行申込書 (別紙3): the facility lists every participant for the center."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("提出済み（センター登録待ち）")
        RETURNED = "returned", _("差し戻し")
        REGISTERED = "registered", _("登録完了")

    class Source(models.TextChoices):
        WEB = "web", _("画面で入力")
        UPLOAD = "upload", _("ファイルを取り込み")
        COMMAND = "command", _("コマンドで取り込み")

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.CASCADE, related_name="roster_requests"
    )
    representative_name = models.CharField(_("代表者名"), max_length=100, blank=True)
    applied_on = models.DateField(_("申し込み日"), default=timezone.localdate)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    source = models.CharField(_("入力方法"), max_length=16, choices=Source.choices)
    # 別紙3 *1: one MCS administrator per facility "in principle"; otherwise the facility said
    # it is intended (the warning it confirmed is kept for the center).
    admin_count_warning = models.CharField(_("MCS管理者の人数の注意"), max_length=200, blank=True)
    admin_count_confirmed = models.BooleanField(_("MCS管理者の人数を確認済み"), default=False)
    # 別紙3: the staff listed agree to the 運用規程; the version in force when it was filed.
    rules_version = models.ForeignKey(
        "rulebook.RuleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("同意した運用規程の版"),
    )
    created_at = models.DateTimeField(_("提出日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("一括登録代行申込（別紙3）")
        verbose_name_plural = _("一括登録代行申込（別紙3）")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.facility}（{self.applied_on}・{self.get_state_display()}）"


class RosterRow(models.Model):
    """One participant of a 別紙3 request: name, gender, occupation, MCS ID, *1, *2."""

    request = models.ForeignKey(RosterRequest, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("行"))
    name = models.CharField(_("名前"), max_length=100)
    gender = models.CharField(
        _("性別"), max_length=16, choices=Gender.choices, default=Gender.UNSPECIFIED
    )
    occupation = models.CharField(_("職種"), max_length=32, choices=Occupation.choices)
    email = models.EmailField(_("MCS ID（メールアドレス）"))
    is_mcs_admin = models.BooleanField(_("MCS管理者（*1）"), default=False)
    had_mcs_account = models.BooleanField(_("MCS登録済み（*2）"), default=False)
    # Set when the center registers the row: the invitation sent (the account is made when
    # the person accepts it) and, for someone already in the network, their one account.
    invitation = models.ForeignKey(
        Invitation,
        verbose_name=_("招待"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("既存の利用者"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("一括登録の行")
        verbose_name_plural = _("一括登録の行")
        ordering = ["request", "row_number"]
        constraints = [
            # 別紙3: one person, one address — never twice in one request.
            models.UniqueConstraint(fields=["request", "email"], name="roster_row_email_once"),
            models.UniqueConstraint(fields=["request", "row_number"], name="roster_row_number"),
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.name} <{self.email}>"


class ChangeNotice(FacilityPaper):
    """利用登録変更・中止届書 (別紙4): additions and deletions, or the facility stops altogether.

    A change made in the portal itself (an invitation accepted, a deactivation, an MCS
    administrator appointed or relieved) becomes a line of the facility's open notice (a draft):
    第4条2 asks the facility to notify the center of every change, and 別紙4 reads 「変更を行い
    ましたので…通知いたします」. The facility submits the draft, or it goes by itself after the
    network's number of days; the center confirms it like any other."""

    class Kind(models.TextChoices):
        CHANGE = "change", _("利用者の変更（追加登録・削除）")
        STOP = "stop", _("事業所としての利用中止")

    class State(models.TextChoices):
        DRAFT = "draft", _("作成中（事業所の提出待ち）")
        SUBMITTED = "submitted", _("提出済み（センター確認待ち）")
        RETURNED = "returned", _("差し戻し")
        CONFIRMED = "confirmed", _("確認・処理済み")

    facility = models.ForeignKey(
        Facility, verbose_name=_("事業所"), on_delete=models.CASCADE, related_name="change_notices"
    )
    kind = models.CharField(_("届出の種類"), max_length=16, choices=Kind.choices)
    notice_date = models.DateField(_("届出日"), default=timezone.localdate)
    signer_name = models.CharField(_("事業所管理者氏名"), max_length=100, blank=True)
    reason = models.TextField(_("中止の理由"), blank=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    scan = models.FileField(
        _("署名・押印した届書の写し"), upload_to=_scan_path, blank=True, max_length=200
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    # Submitted by the periodic job once the draft's first line was the network's number of
    # days old (NetworkSettings.change_notice_auto_submit_days), not by a person.
    auto_submitted = models.BooleanField(_("期限による自動提出"), default=False)

    class Meta:
        verbose_name = _("利用登録変更・中止届（別紙4）")
        verbose_name_plural = _("利用登録変更・中止届（別紙4）")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The portal's changes gather in one open notice per facility.
            models.UniqueConstraint(
                fields=["facility"],
                condition=models.Q(state="draft"),
                name="change_notice_one_draft_per_facility",
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility}：{self.get_kind_display()}（{self.notice_date}）"


class ChangeRow(models.Model):
    """One line of 別紙4: ふりがな, name, occupation, e-mail, admin flag, 追加 or 削除."""

    class Action(models.TextChoices):
        ADD = "add", _("追加")
        DELETE = "delete", _("削除")
        # 別紙4's 管理者 column changed for someone who stays (第4条2 「申請内容に変更」).
        CHANGE = "change", _("変更（管理者）")

    notice = models.ForeignKey(ChangeNotice, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("No"))
    action = models.CharField(_("追加・削除"), max_length=8, choices=Action.choices)
    kana = models.CharField(_("ふりがな"), max_length=100, blank=True)
    name = models.CharField(_("氏名"), max_length=100, blank=True)
    occupation = models.CharField(_("職種"), max_length=32, choices=Occupation.choices, blank=True)
    email = models.EmailField(_("メールアドレス"))
    is_mcs_admin = models.BooleanField(_("管理者"), default=False)
    invitation = models.ForeignKey(
        Invitation,
        verbose_name=_("招待"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("対象の利用者"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set when the change was already made in the portal (the line records it for the center,
    # who confirms it without doing it again); empty for a change the facility asks the center
    # to make.
    done_at = models.DateTimeField(_("ポータルで実施した日時"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("実施した人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("備考"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("変更届の行")
        verbose_name_plural = _("変更届の行")
        ordering = ["notice", "row_number"]
        constraints = [
            # A requested line names a person once; the portal's record may name them twice
            # (joined and left within the period).
            models.UniqueConstraint(
                fields=["notice", "email"],
                condition=models.Q(done_at__isnull=True),
                name="change_row_email_once",
            ),
            models.UniqueConstraint(fields=["notice", "row_number"], name="change_row_number"),
        ]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.get_action_display()} {self.name} <{self.email}>"
