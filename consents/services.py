"""Every write to patients and consents: one transaction, one audit event each.

Audit rows record which fields changed, never their values: the trail outlives the patient's
personal data (retention, 別紙6), so it must not hold it.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from mcnet.audit import audit_record

from .models import Consent, Patient
from .selectors import can_manage_patient

PATIENT_FIELDS = ("name", "kana", "birth_date", "sex", "address", "phone")


def _require_manager(actor, patient: Patient) -> None:
    if not can_manage_patient(actor, patient):
        raise PermissionDenied


@transaction.atomic
def patient_register(*, actor, facility, name: str, kana: str, **fields) -> Patient:
    """基本設定 3: a patient-group manager registers a patient at their own facility, with
    only what a group needs (name and kana required)."""
    if not actor.has_perm("facilities.register_patients", facility):
        raise PermissionDenied
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")
    if not (name or "").strip() or not (kana or "").strip():
        raise ValidationError(_("氏名とふりがなは必須です。"), code="required")
    patient = Patient.objects.create(
        facility=facility, name=name, kana=kana, registered_by=actor, **fields
    )
    audit_record(
        actor=actor,
        action="patient.register",
        target=patient,
        facility_id=facility.pk,
        changes={"fields": sorted(["name", "kana", *(k for k, v in fields.items() if v)])},
    )
    return patient


@transaction.atomic
def patient_update(*, actor, patient: Patient, **fields) -> Patient:
    """Correct a patient's record; a patient group's name follows a name correction."""
    _require_manager(actor, patient)
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報は削除されています。"), code="erased")
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(patient, name) != value]
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.save()
    if "name" in changed:
        from groups.services import patient_groups_follow_name  # groups depends on consents

        patient_groups_follow_name(patient=patient)
    audit_record(
        actor=actor,
        action="patient.update",
        target=patient,
        facility_id=patient.facility_id,
        changes={"fields": changed},
    )
    return patient


def patient_access_record(*, actor, patient: Patient, via: str) -> None:
    """The access log of patient data (national guideline, via 第3条): who opened which
    patient's details, when, from where, through which page."""
    audit_record(
        actor=actor,
        action="patient.view",
        target=patient,
        facility_id=patient.facility_id,
        changes={"via": via},
    )


@transaction.atomic
def consent_record(
    *,
    actor,
    patient: Patient,
    signed_on,
    explainer_facility,
    explainer_name: str,
    covered_facilities,
    signer_kind: str = Consent.Signer.PATIENT,
    signer_name: str = "",
    signer_relationship: str = "",
    explainer_phone: str = "",
    academic_use: bool = False,
    scan=None,
    paper_kept_at_facility: bool = False,
) -> Consent:
    """別紙7: record a signed consent (a proxy signature names the relationship 続柄)."""
    _require_manager(actor, patient)
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報は削除されています。"), code="erased")
    if patient.consents.filter(status=Consent.Status.ACTIVE).exists():
        raise ValidationError(
            _(
                "この患者にはすでに有効な同意書があります。新しく記録するには、先に撤回または"
                "誤登録として記録してください。"
            ),
            code="duplicate",
        )
    if signer_kind != Consent.Signer.PATIENT and not (signer_relationship or "").strip():
        raise ValidationError(
            _("家族または代理人が署名したときは、続柄を入力してください（別紙7）。"),
            code="relationship",
        )
    if not scan and not paper_kept_at_facility:
        raise ValidationError(
            _("署名済み同意書の画像を添付するか、「紙の同意書を事業所で保管」を選んでください。"),
            code="scan",
        )
    covered = list(covered_facilities)
    if not covered:
        raise ValidationError(_("同意の対象となる事業所を1つ以上選んでください。"), code="covered")
    consent = Consent(
        patient=patient,
        signed_on=signed_on,
        signer_kind=signer_kind,
        signer_name="" if signer_kind == Consent.Signer.PATIENT else signer_name,
        signer_relationship="" if signer_kind == Consent.Signer.PATIENT else signer_relationship,
        explainer_facility=explainer_facility,
        explainer_phone=explainer_phone,
        explainer_name=explainer_name,
        academic_use=academic_use,
        paper_kept_at_facility=paper_kept_at_facility,
        recorded_by=actor,
    )
    if scan:
        consent.scan = scan
    try:
        with transaction.atomic():
            consent.save()
    except IntegrityError as exc:  # a concurrent request recorded one first
        raise ValidationError(_("この患者にはすでに有効な同意書があります。")) from exc
    consent.covered_facilities.set(covered)
    audit_record(
        actor=actor,
        action="consent.record",
        target=consent,
        facility_id=patient.facility_id,
        changes={
            "patient": patient.pk,
            "signer_kind": signer_kind,
            "academic_use": academic_use,
            "scan": bool(scan),
            "covered_facilities": sorted(f.pk for f in covered),
        },
    )
    return consent


@transaction.atomic
def consent_cover_facilities(*, actor, consent: Consent, facilities) -> Consent:
    """Change which facilities the consent covers (the patient agreed to a new supporter)."""
    _require_manager(actor, consent.patient)
    if not consent.is_active:
        raise ValidationError(_("有効な同意書だけ変更できます。"), code="inactive")
    facilities = list(facilities)
    if not facilities:
        raise ValidationError(_("同意の対象となる事業所を1つ以上選んでください。"), code="covered")
    before = set(consent.covered_facilities.values_list("pk", flat=True))
    consent.covered_facilities.set(facilities)
    audit_record(
        actor=actor,
        action="consent.cover_facilities",
        target=consent,
        facility_id=consent.patient.facility_id,
        changes={"before": sorted(before), "after": sorted(f.pk for f in facilities)},
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, actor, consent: Consent, withdrawn_on, reported_by: str, method: str, note: str = ""
) -> Consent:
    """第9条3項, 別紙5: the patient or family withdraws at any time, without disadvantage.
    Recorded (date, who reported it, how), never deleted; the patient's groups are to be
    archived at once."""
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("patient").get(pk=consent.pk)
    )
    _require_manager(actor, consent.patient)
    if not consent.is_active:
        raise ValidationError(_("この同意書は有効ではありません。"), code="inactive")
    if not (reported_by or "").strip():
        raise ValidationError(_("撤回を申し出た人を入力してください。"), code="reported_by")
    if method not in Consent.WithdrawalMethod.values:
        raise ValidationError(_("申し出の方法を選んでください。"), code="method")
    if withdrawn_on < consent.signed_on:
        raise ValidationError(_("撤回日は同意日より後の日付にしてください。"), code="date")
    consent.status = Consent.Status.INACTIVE
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_reported_by = reported_by.strip()
    consent.withdrawal_method = method
    consent.withdrawal_note = note
    consent.withdrawal_recorded_by = actor
    consent.withdrawal_recorded_at = timezone.now()
    consent.save()
    audit_record(
        actor=actor,
        action="consent.withdraw",
        target=consent,
        facility_id=consent.patient.facility_id,
        changes={"withdrawn_on": withdrawn_on.isoformat(), "method": method},
    )
    from groups.models import Group
    from groups.services import groups_end_for_patient

    groups_end_for_patient(
        actor=actor, patient=consent.patient, reason=Group.EndReason.CONSENT_WITHDRAWN
    )
    return consent


@transaction.atomic
def consent_mark_entered_in_error(*, actor, consent: Consent, reason: str) -> Consent:
    """A consent recorded by mistake (wrong patient, wrong paper) is marked, not deleted. A
    group that no longer has a valid consent is to be archived (第9条2項)."""
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("patient").get(pk=consent.pk)
    )
    _require_manager(actor, consent.patient)
    if consent.status == Consent.Status.ENTERED_IN_ERROR:
        raise ValidationError(_("この同意書はすでに誤登録とされています。"), code="already")
    if not (reason or "").strip():
        raise ValidationError(_("誤登録の理由を入力してください。"), code="reason")
    was_active = consent.is_active
    consent.status = Consent.Status.ENTERED_IN_ERROR
    consent.error_reason = reason.strip()
    consent.error_marked_by = actor
    consent.error_marked_at = timezone.now()
    consent.save()
    audit_record(
        actor=actor,
        action="consent.entered_in_error",
        target=consent,
        facility_id=consent.patient.facility_id,
    )
    if was_active:
        from groups.models import Group
        from groups.services import groups_end_for_patient

        groups_end_for_patient(
            actor=actor, patient=consent.patient, reason=Group.EndReason.CONSENT_INVALID
        )
    return consent


def patients_erase(*, patient_ids: list[int], now=None) -> int:
    """別紙6: erase the personal data of these patients, set-based (the retention job's
    part in this app). Returns how many consents were erased. Scans are deleted from storage
    once the transaction commits."""
    now = now or timezone.now()
    consents = Consent.objects.filter(patient_id__in=patient_ids, erased_at__isnull=True)
    scans = [name for name in consents.exclude(scan="").values_list("scan", flat=True)]
    count = consents.update(
        scan="",
        signer_name="",
        signer_relationship="",
        withdrawal_reported_by="",
        withdrawal_note="",
        error_reason="",
        erased_at=now,
    )
    Patient.objects.filter(pk__in=patient_ids, erased_at__isnull=True).update(
        name=Concat(Value("（削除済み #"), Cast("pk", CharField()), Value("）")),
        kana="",
        birth_date=None,
        sex="",
        address="",
        phone="",
        erased_at=now,
    )
    if scans:
        storage = Consent._meta.get_field("scan").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in scans])
    return count
