"""Patients (対象者) and their consents (別紙7, art. 9).

Only what a group needs is kept about a patient (基本設定 3 ①: 必須項目のみ). Nobody sees a
patient through a model method: access goes through consents.permissions / selectors, which
read the grants of the patient's groups and of the registering facility.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Gender
from mcnet.text import nfkc, normalize_kana


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

    def __str__(self) -> str:
        # Never the name: str() ends up in audit rows and admin labels, which outlive the
        # patient's personal data (retention, 別紙6).
        return f"患者 #{self.pk}"

    def save(self, *args, **kwargs):
        self.name = nfkc(self.name)
        self.kana = normalize_kana(self.kana)
        super().save(*args, **kwargs)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


def consent_scan_path(instance, filename: str) -> str:
    # No names in paths: a directory listing reveals nothing about the patient.
    return f"consents/{instance.patient_id}/{uuid.uuid4().hex}-{filename}"


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
    # 留意事項 4 (3): anonymized academic use is a separate, optional consent.
    academic_use = models.BooleanField(_("匿名化した情報の学術利用にも同意"), default=False)
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
