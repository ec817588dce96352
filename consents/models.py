"""Patients (対象者) and their consents (別紙7, art. 9).

Only what a group needs is kept about a patient (基本設定 3 ①: 必須項目のみ). Nobody sees a
patient through a model method: access goes through consents.permissions / selectors, which
read the grants of the patient's groups and of the registering facility.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Gender
from mcnet.text import nfkc, normalize_kana
from mcnet.wareki import age_on


def person_field(label):
    """Who did something (registered, recorded, withdrew...): kept as a link that survives the
    person's account being erased (the audit trail names them in text)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=label,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class Patient(models.Model):
    """対象者: registered by a patient-group manager at their own facility (第8条)."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("登録した事業所"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("氏名"), max_length=100)
    kana = models.CharField(_("ふりがな"), max_length=100, db_index=True)
    birth_date = models.DateField(_("生年月日"), null=True, blank=True)
    sex = models.CharField(_("性別"), max_length=16, choices=Gender.choices, blank=True)
    address = models.CharField(_("住所"), max_length=300, blank=True)
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    registered_by = person_field(_("登録者"))
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    # 別紙5 (3), 別紙6: after the retention period the personal data is erased, the row stays
    # (counts and the audit trail keep pointing at it).
    erased_at = models.DateTimeField(_("個人情報の削除日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("患者")
        verbose_name_plural = _("患者")
        ordering = ["kana", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="patient_name_required"),
            models.CheckConstraint(
                condition=~Q(kana="") | Q(erased_at__isnull=False), name="patient_kana_required"
            ),
        ]

    # Never the name: str() ends up in audit rows and admin labels, which outlive the
    # patient's personal data (retention, 別紙6). Stored as it is, never translated.
    LABEL = "患者 #"

    def __str__(self) -> str:
        return f"{self.LABEL}{self.pk}"

    def save(self, *args, **kwargs):
        self.name = nfkc(self.name)
        self.kana = normalize_kana(self.kana)
        super().save(*args, **kwargs)

    @property
    def age(self) -> int | None:
        """満年齢 today, shown next to the date of birth."""
        if self.birth_date is None:
            return None
        return age_on(self.birth_date, timezone.localdate())

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


def consent_scan_path(instance, filename: str) -> str:
    # No names in paths: a directory listing reveals nothing about the patient.
    return f"consents/{instance.patient_id}/{uuid.uuid4().hex}-{filename}"


# 別紙7: which wording of the consent the patient signed. The text in force since the rules
# took effect (附則: 令和3年9月1日); a new wording gets a new version string here, and each
# signed paper keeps the one it was printed with.
CONSENT_TEXT_VERSION = "2021-09-01"


def text_version_field():
    return models.CharField(
        _("署名した同意書の版"), max_length=32, default=CONSENT_TEXT_VERSION, editable=False
    )


def active_consent_q(prefix: str = "") -> Q:
    """A valid consent (第9条2項): recorded, neither withdrawn (第9条3項) nor entered in error.
    `prefix` reaches it through a relation (`"consents__"` on Patient). The one home of the
    rule: `Consent.objects.active()`, `patient.consents.active()` and every filter use it."""
    return Q(**{f"{prefix}status": Consent.Status.ACTIVE})


class ConsentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active_consent_q())


class Consent(models.Model):
    """同意書 (別紙7): valid until the patient or family withdraws it (第9条3項).

    Status codes follow FHIR Consent.status where they fit; a withdrawal or an error is a new
    state with who/when/how, never a deletion.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("有効")
        INACTIVE = "inactive", _("撤回済み")
        ENTERED_IN_ERROR = "entered-in-error", _("誤登録")

    class Signer(models.TextChoices):
        PATIENT = "patient", _("本人")
        FAMILY = "family", _("家族")
        AGENT = "agent", _("代理人")

    class WithdrawalMethod(models.TextChoices):
        IN_PERSON = "in_person", _("対面で")
        PHONE = "phone", _("電話で")
        WRITING = "writing", _("書面で")
        OTHER = "other", _("その他")

    patient = models.ForeignKey(
        Patient, verbose_name=_("患者"), on_delete=models.PROTECT, related_name="consents"
    )
    status = models.CharField(
        _("状態"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    signed_on = models.DateField(_("同意日"))
    signer_kind = models.CharField(
        _("署名した人"), max_length=16, choices=Signer.choices, default=Signer.PATIENT
    )
    # 別紙7: 「ご家族又は代理人の方が記入する欄」— a proxy signature names the relationship.
    signer_name = models.CharField(_("署名者の氏名（家族・代理人）"), max_length=100, blank=True)
    signer_relationship = models.CharField(_("続柄"), max_length=50, blank=True)
    # 別紙7 ＜説明した人＞: facility, phone, name (default: whoever records it).
    explainer_facility = models.ForeignKey(
        Facility,
        verbose_name=_("説明した人の事業所"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    explainer_phone = models.CharField(_("説明した人の電話番号"), max_length=20, blank=True)
    explainer_name = models.CharField(_("説明した人の氏名"), max_length=100)
    covered_facilities = models.ManyToManyField(
        Facility, verbose_name=_("同意の対象となる事業所"), related_name="+", blank=True
    )
    # 留意事項 4 (3): anonymized academic use is a separate, optional consent. This is the
    # choice as ticked on the signed 別紙7; whether it still holds is AcademicUseConsent's.
    academic_use = models.BooleanField(_("匿名化した情報の学術利用にも同意"), default=False)
    text_version = text_version_field()
    # 第15条: the version of the 別紙7 wording in force on the day it was signed.
    rule_version = models.ForeignKey(
        "rulebook.RuleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("同意した別紙7の版"),
    )
    scan = models.FileField(_("署名済み同意書の画像"), upload_to=consent_scan_path, blank=True)
    paper_kept_at_facility = models.BooleanField(_("紙の同意書を事業所で保管"), default=False)
    recorded_by = person_field(_("記録者"))
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)
    # Withdrawal (別紙5: any time, without disadvantage).
    withdrawn_on = models.DateField(_("撤回日"), null=True, blank=True)
    withdrawal_reported_by = models.CharField(_("撤回を申し出た人"), max_length=100, blank=True)
    withdrawal_method = models.CharField(
        _("申し出の方法"), max_length=16, choices=WithdrawalMethod.choices, blank=True
    )
    withdrawal_note = models.TextField(_("撤回についての記録"), blank=True)
    withdrawal_recorded_by = person_field(_("撤回の記録者"))
    withdrawal_recorded_at = models.DateTimeField(_("撤回の記録日時"), null=True, blank=True)
    error_reason = models.TextField(_("誤登録の理由"), blank=True)
    error_marked_by = person_field(_("誤登録とした人"))
    error_marked_at = models.DateTimeField(_("誤登録とした日時"), null=True, blank=True)
    erased_at = models.DateTimeField(_("個人情報の削除日時"), null=True, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("同意書")
        verbose_name_plural = _("同意書")
        ordering = ["-signed_on", "-pk"]
        constraints = [
            # One valid consent per patient at a time: a new one follows a withdrawal.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="consent_one_active_per_patient",
            ),
            # The signed paper is either scanned here or kept at the facility (別紙7 事業所控え).
            models.CheckConstraint(
                condition=~Q(scan="") | Q(paper_kept_at_facility=True) | Q(erased_at__isnull=False),
                name="consent_scan_or_paper_kept",
            ),
            models.CheckConstraint(
                condition=Q(signer_kind="patient")
                | ~Q(signer_relationship="")
                | Q(erased_at__isnull=False),
                name="consent_proxy_names_relationship",
            ),
            models.CheckConstraint(
                condition=~Q(status="inactive") | Q(withdrawn_on__isnull=False),
                name="consent_withdrawal_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"同意書 #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


def addendum_scan_path(instance, filename: str) -> str:
    return f"consents/{instance.consent.patient_id}/{uuid.uuid4().hex}-{filename}"


class ConsentAddendum(models.Model):
    """追加同意書: the patient agrees that more facilities join their care (別紙7,
    留意事項 医療介護情報の取り扱い (3)). Prepared first, printed as its own page, and counts
    only once recorded as signed (scan, or the paper kept at the facility): until then nobody
    from the added facilities can be invited."""

    class State(models.TextChoices):
        PENDING = "pending", _("署名待ち")
        SIGNED = "signed", _("署名済み")
        CANCELLED = "cancelled", _("取り消し")

    consent = models.ForeignKey(
        Consent, verbose_name=_("同意書"), on_delete=models.PROTECT, related_name="addenda"
    )
    facilities = models.ManyToManyField(
        Facility, verbose_name=_("追加する事業所"), related_name="+"
    )
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    text_version = text_version_field()
    prepared_by = person_field(_("作成者"))
    prepared_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    signed_on = models.DateField(_("署名日"), null=True, blank=True)
    scan = models.FileField(_("署名済み追加同意書の画像"), upload_to=addendum_scan_path, blank=True)
    paper_kept_at_facility = models.BooleanField(_("原本を事業所で保管"), default=False)
    recorded_by = person_field(_("署名の記録者"))
    recorded_at = models.DateTimeField(_("署名の記録日時"), null=True, blank=True)
    cancelled_by = person_field(_("取り消した人"))
    cancelled_at = models.DateTimeField(_("取り消し日時"), null=True, blank=True)
    erased_at = models.DateTimeField(_("個人情報の削除日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("追加同意書")
        verbose_name_plural = _("追加同意書")
        ordering = ["-prepared_at", "-pk"]
        constraints = [
            # Signed means the signed paper is here: a scan, or the original kept.
            models.CheckConstraint(
                condition=~Q(state="signed")
                | (Q(signed_on__isnull=False) & (~Q(scan="") | Q(paper_kept_at_facility=True)))
                | Q(erased_at__isnull=False),
                name="addendum_signed_has_paper",
            ),
        ]

    def __str__(self) -> str:
        return f"追加同意書 #{self.pk}"

    @property
    def is_signed(self) -> bool:
        return self.state == self.State.SIGNED


def academic_scan_path(instance, filename: str) -> str:
    return f"consents/{instance.patient_id}/{uuid.uuid4().hex}-{filename}"


class AcademicUseConsent(models.Model):
    """学術利用への同意 (留意事項 医療介護情報の取り扱い (3)): 「別途同意を得たうえ、匿名化を
    条件に」. Its own record with its own withdrawal: withdrawing it leaves the care consent
    as it is, and withdrawing care leaves this record to be ended on its own."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有効")
        WITHDRAWN = "withdrawn", _("撤回済み")

    patient = models.ForeignKey(
        Patient, verbose_name=_("患者"), on_delete=models.PROTECT, related_name="academic_consents"
    )
    # The 別紙7 on which the choice was ticked, when it was (None: signed on its own page).
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("同時に署名した同意書"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="academic_consents",
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    signed_on = models.DateField(_("同意日"))
    text_version = text_version_field()
    scan = models.FileField(_("署名済み同意書の画像"), upload_to=academic_scan_path, blank=True)
    paper_kept_at_facility = models.BooleanField(_("原本を事業所で保管"), default=False)
    recorded_by = person_field(_("記録者"))
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)
    withdrawn_on = models.DateField(_("撤回日"), null=True, blank=True)
    withdrawal_reported_by = models.CharField(_("撤回を申し出た人"), max_length=100, blank=True)
    withdrawal_method = models.CharField(
        _("申し出の方法"), max_length=16, choices=Consent.WithdrawalMethod.choices, blank=True
    )
    withdrawal_recorded_by = person_field(_("撤回の記録者"))
    withdrawal_recorded_at = models.DateTimeField(_("撤回の記録日時"), null=True, blank=True)
    erased_at = models.DateTimeField(_("個人情報の削除日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("学術利用への同意")
        verbose_name_plural = _("学術利用への同意")
        ordering = ["-signed_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="academic_consent_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | Q(withdrawn_on__isnull=False),
                name="academic_consent_withdrawal_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"学術利用への同意 #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class PatientRequest(models.Model):
    """ご本人の照会 (別紙6; 個人情報保護法 §33 開示, §34 訂正, §35 利用停止・消去): the patient,
    family or agent asks in person, by phone or in writing; the custodian facility records the
    request, checks the asker's identity, and answers 「遅滞なく」 (due date from the network's
    setting). It belongs to the facility holding the record (第6条 (1)): its MCS administrators
    and the patient's group managers — nobody else, not the center (別紙5 (2)).
    """

    class Kind(models.TextChoices):
        DISCLOSURE = "disclosure", _("開示")
        CORRECTION = "correction", _("訂正")
        STOP_USE = "stop_use", _("利用停止")
        DELETION = "deletion", _("消去")

    class Requester(models.TextChoices):
        PATIENT = "patient", _("本人")
        FAMILY = "family", _("家族")
        AGENT = "agent", _("代理人")

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", _("窓口・訪問時に口頭で")
        PHONE = "phone", _("電話で")
        WRITING = "writing", _("書面で")
        OTHER = "other", _("その他")

    class IdentityDocument(models.TextChoices):
        DRIVERS_LICENSE = "drivers_license", _("運転免許証")
        MY_NUMBER_CARD = "my_number_card", _("マイナンバーカード")
        HEALTH_INSURANCE = "health_insurance", _("健康保険証・資格確認書")
        INTERVIEW = "interview", _("面談（担当者が本人・家族を直接確認）")
        OTHER = "other", _("その他（メモに記入）")

    class State(models.TextChoices):
        RECEIVED = "received", _("受付")
        VERIFIED = "verified", _("本人確認済み")
        IN_PROGRESS = "in_progress", _("対応中")
        ANSWERED = "answered", _("回答済み")
        REJECTED = "rejected", _("却下")

    OPEN_STATES = (State.RECEIVED, State.VERIFIED, State.IN_PROGRESS)
    CLOSED_STATES = (State.ANSWERED, State.REJECTED)

    patient = models.ForeignKey(
        Patient, verbose_name=_("患者"), on_delete=models.PROTECT, related_name="requests"
    )
    # The custodian facility (第6条 (1)): whose MCS administrators answer it.
    facility = models.ForeignKey(
        Facility, verbose_name=_("対応する事業所"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("請求の種類"), max_length=16, choices=Kind.choices)
    requester_kind = models.CharField(
        _("請求した人"), max_length=16, choices=Requester.choices, default=Requester.PATIENT
    )
    requester_name = models.CharField(_("請求した人の氏名"), max_length=100)
    requester_relationship = models.CharField(_("続柄"), max_length=50, blank=True)
    requester_contact = models.CharField(
        _("回答の送り先（住所・電話）"), max_length=300, blank=True
    )
    channel = models.CharField(
        _("受付の方法"), max_length=16, choices=Channel.choices, default=Channel.IN_PERSON
    )
    received_on = models.DateField(_("受付日"))
    details = models.TextField(_("請求の内容"), blank=True)
    due_on = models.DateField(_("回答期限"), db_index=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.RECEIVED, db_index=True
    )
    identity_document = models.CharField(
        _("本人確認の方法"), max_length=20, choices=IdentityDocument.choices, blank=True
    )
    identity_note = models.CharField(_("本人確認のメモ"), max_length=300, blank=True)
    identity_checked_by = person_field(_("本人確認をした人"))
    identity_checked_at = models.DateTimeField(_("本人確認の日時"), null=True, blank=True)
    outcome = models.TextField(_("対応の結果"), blank=True)
    replied_on = models.DateField(_("回答日"), null=True, blank=True)
    closed_by = person_field(_("回答を記録した人"))
    received_by = person_field(_("受付者"))
    created_at = models.DateTimeField(_("記録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    erased_at = models.DateTimeField(_("個人情報の削除日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("ご本人からの請求")
        verbose_name_plural = _("ご本人からの請求")
        ordering = ["-received_on", "-pk"]
        constraints = [
            # 別紙7 as for consents: a family member or agent is named with the relationship.
            models.CheckConstraint(
                condition=Q(requester_kind="patient")
                | ~Q(requester_relationship="")
                | Q(erased_at__isnull=False),
                name="patient_request_proxy_names_relationship",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["answered", "rejected"]) | Q(replied_on__isnull=False),
                name="patient_request_closed_has_reply_date",
            ),
            # No answer before the asker's identity was checked (別紙6 「ご本人であることを確認」).
            models.CheckConstraint(
                condition=Q(state__in=["received", "rejected"]) | ~Q(identity_document=""),
                name="patient_request_identity_checked",
            ),
        ]
        indexes = [models.Index(fields=["facility", "state"])]

    def __str__(self) -> str:
        return f"請求 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_verified(self) -> bool:
        return bool(self.identity_document)
