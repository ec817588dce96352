"""Every write to patients and consents: one transaction, one audit event each.

Audit rows record which fields changed, never their values: the trail outlives the patient's
personal data (retention, 別紙6), so it must not hold it.
"""

import datetime as dt
from collections import Counter
from enum import StrEnum

import jaconv
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from facilities.models import FacilityRole
from facilities.selectors import role_holder_ids
from mcnet.audit import AuditAction, access_log_append, access_log_append_sql, audit_record
from mcnet.fragments import fragments_forget
from mcnet.models import NetworkSettings
from mcnet.notifications import (
    Message,
    link_by_pk,
    notifications_scrub,
    send_notifications,
)
from mcnet.rulebook.models import Document
from mcnet.rulebook.selectors import version_in_force
from mcnet.services import model_update
from mcnet.text import nfkc

from .models import AcademicUseConsent, Consent, ConsentAddendum, Patient, PatientRequest
from .permissions import (
    OpeningPurpose,
    can_handle_patient_request,
    can_manage_patient,
    can_register_patient,
    may_open_closed_record,
    patient_groups,
)
from .selectors import (
    patient_requests_overdue,
    patients_in_custody_of,
)
from .signals import consent_ended, patient_renamed, patients_erased

PATIENT_FIELDS = ("name", "kana", "birth_date", "sex", "address", "phone")


def _require_manager(actor, patient: Patient) -> None:
    if not can_manage_patient(actor, patient):
        raise PermissionDenied


def _require_manager_or_custodian(actor, patient: Patient, patient_request) -> None:
    """A change the patient asked for (別紙6 ご本人の照会) may be made by the request's
    custodians (the facility's MCS administrators too); any other by the patient's managers."""
    if patient_request is None:
        _require_manager(actor, patient)
        return
    if patient_request.patient_id != patient.pk or not can_handle_patient_request(
        actor, patient_request
    ):
        raise PermissionDenied


def _request_link(patient_request) -> dict:
    """The audit event names the request that asked for the change (ids only)."""
    return {} if patient_request is None else {"patient_request": patient_request.pk}


@transaction.atomic
def patient_register(*, actor, facility, name: str, kana: str, **fields) -> Patient:
    """基本設定 3: a patient-group manager registers a patient at their own facility, with
    only what a group needs (name and kana required)."""
    if not can_register_patient(actor, facility):
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
        action=AuditAction.PATIENT_REGISTER,
        target=patient,
        facility_id=facility.pk,
        changes={"fields": sorted(["name", "kana", *(k for k, v in fields.items() if v)])},
    )
    return patient


@transaction.atomic
def patient_update(*, actor, patient: Patient, patient_request=None, **fields) -> Patient:
    """Correct a patient's record; a patient group's name follows a name correction. When the
    patient asked for it (§34 訂正), the request is linked and its custodian may correct."""
    _require_manager_or_custodian(actor, patient, patient_request)
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報は削除されています。"), code="erased")
    patient, changed = model_update(instance=patient, fields=PATIENT_FIELDS, data=fields)
    if "name" in changed:
        patient_renamed.send(sender=Patient, patient=patient)
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_UPDATE,
        target=patient,
        facility_id=patient.facility_id,
        changes={"fields": changed, **_request_link(patient_request)},
    )
    return patient


@transaction.atomic
def closed_record_open(*, actor, patient: Patient, purpose: str) -> None:
    """A custodian opens a record whose care has ended (consents.permissions): the purpose goes
    to the access log first, as a code (never text about the patient), and the record stays
    open to them for a few minutes."""
    if not may_open_closed_record(actor, patient.pk):
        raise PermissionDenied
    if purpose not in OpeningPurpose.values:
        raise ValidationError(_("閲覧の目的を選んでください。"), code="purpose")
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_OPEN_RECORD,
        target=patient,
        facility_id=patient.facility_id,
        changes={"purpose": purpose},
    )


def patient_access_record(*, actor, patient: Patient, via: str) -> None:
    """The access log of patient data (national guideline, via 第3条): who opened which
    patient's details, when, from where, through which page. Appended without the audit
    chain's lock (readers of different patients never wait for each other) and sealed into
    the chain within ACCESS_LOG_SEAL_SECONDS (mcnet.audit)."""
    access_log_append(
        actor=actor,
        action=AuditAction.PATIENT_VIEW,
        target=patient,
        facility_id=patient.facility_id,
        changes={"via": via},
    )


def patient_access_record_sql(*, actor, via: str, rows: str, patient_id: str, facility_id: str):
    """patient_access_record's record for each row of `rows` (its patient and the patient's
    facility as SQL over its columns), as an INSERT for the statement that decides the opening
    (mcnet.audit.access_log_append_sql): (SQL, parameters)."""
    return access_log_append_sql(
        actor=actor,
        action=AuditAction.PATIENT_VIEW,
        target_model=Patient,
        rows=rows,
        object_id=patient_id,
        object_label=Patient.LABEL,
        facility_id=facility_id,
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
    if patient.consents.active().exists():
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
    wording = version_in_force(Document.BESSHI7, on=signed_on)
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
        rule_version=wording,
        # The printed 「同意書の版」: the date the signed wording took effect (第15条).
        text_version=wording.effective_on.isoformat(),
    )
    if scan:
        consent.scan = scan
    try:
        with transaction.atomic():
            consent.save()
    except IntegrityError as exc:  # a concurrent request recorded one first
        raise ValidationError(_("この患者にはすでに有効な同意書があります。")) from exc
    consent.covered_facilities.set(covered)
    if academic_use:
        # 留意事項 医療介護情報の取り扱い (3): ticked on the same paper, but its own record.
        AcademicUseConsent.objects.create(
            patient=patient,
            consent=consent,
            signed_on=signed_on,
            paper_kept_at_facility=paper_kept_at_facility,
            recorded_by=actor,
        )
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_RECORD,
        target=consent,
        facility_id=patient.facility_id,
        changes={
            "patient": patient.pk,
            "signer_kind": signer_kind,
            "academic_use": academic_use,
            "scan": bool(scan),
            "covered_facilities": sorted(f.pk for f in covered),
            "text_version": consent.text_version,
            "rule_version": consent.rule_version_id,
        },
    )
    return consent


@transaction.atomic
def consent_cover_facilities(*, actor, consent: Consent, facilities) -> Consent:
    """Narrow the facilities the consent covers (a facility no longer involved). Widening
    needs the patient's signature: a consent addendum (consent_addendum_prepare)."""
    _require_manager(actor, consent.patient)
    if not consent.is_active:
        raise ValidationError(_("有効な同意書だけ変更できます。"), code="inactive")
    facilities = list(facilities)
    if not facilities:
        raise ValidationError(_("同意の対象となる事業所を1つ以上選んでください。"), code="covered")
    before = set(consent.covered_facilities.values_list("pk", flat=True))
    added = {f.pk for f in facilities} - before
    if added:
        # 別紙7: the patient signed for the facilities listed on the paper; more need a new
        # signature before they count.
        raise ValidationError(
            _(
                "同意の対象事業所を増やすには、追加同意書に患者の署名が必要です。"
                "「追加同意書を作成」から作成・印刷し、署名済みとして記録してください。"
            ),
            code="widening",
        )
    consent.covered_facilities.set(facilities)
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_COVER_FACILITIES,
        target=consent,
        facility_id=consent.patient.facility_id,
        changes={"before": sorted(before), "after": sorted(f.pk for f in facilities)},
    )
    return consent


def _require_signed_paper(*, scan, paper_kept_at_facility: bool) -> None:
    if not scan and not paper_kept_at_facility:
        raise ValidationError(
            _("署名済みの書面の画像を添付するか、「原本を事業所で保管」を選んでください。"),
            code="scan",
        )


@transaction.atomic
def consent_addendum_prepare(*, actor, consent: Consent, facilities) -> ConsentAddendum:
    """追加同意書: list the facilities to add, to print and have signed (別紙7)."""
    _require_manager(actor, consent.patient)
    if not consent.is_active:
        raise ValidationError(_("有効な同意書にだけ追加同意書を作成できます。"), code="inactive")
    covered = set(consent.covered_facilities.values_list("pk", flat=True))
    facilities = [f for f in facilities if f.pk not in covered]
    if not facilities:
        raise ValidationError(
            _("追加する事業所を選んでください（すでに対象の事業所は選べません）。"),
            code="facilities",
        )
    addendum = ConsentAddendum.objects.create(consent=consent, prepared_by=actor)
    addendum.facilities.set(facilities)
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_ADDENDUM_PREPARE,
        target=addendum,
        facility_id=consent.patient.facility_id,
        changes={"consent": consent.pk, "facilities": sorted(f.pk for f in facilities)},
    )
    return addendum


@transaction.atomic
def consent_addendum_record_signed(
    *, actor, addendum: ConsentAddendum, signed_on, scan=None, paper_kept_at_facility=False
) -> ConsentAddendum:
    """The patient signed the addendum: its facilities join the consent, and from now on
    their staff may be invited."""
    addendum = (
        ConsentAddendum.objects.select_for_update(of=("self",))
        .select_related("consent", "consent__patient")
        .get(pk=addendum.pk)
    )
    consent = addendum.consent
    _require_manager(actor, consent.patient)
    if addendum.state != ConsentAddendum.State.PENDING:
        raise ValidationError(_("この追加同意書は署名待ちではありません。"), code="state")
    if not consent.is_active:
        raise ValidationError(_("元の同意書が有効ではありません。"), code="inactive")
    if signed_on is None:
        raise ValidationError(_("署名日を入力してください。"), code="signed_on")
    if signed_on < consent.signed_on:
        raise ValidationError(_("署名日は元の同意日より後の日付にしてください。"), code="date")
    _require_signed_paper(scan=scan, paper_kept_at_facility=paper_kept_at_facility)
    addendum.state = ConsentAddendum.State.SIGNED
    addendum.signed_on = signed_on
    addendum.paper_kept_at_facility = bool(paper_kept_at_facility)
    if scan:
        addendum.scan = scan
    addendum.recorded_by = actor
    addendum.recorded_at = timezone.now()
    addendum.save()
    added = list(addendum.facilities.values_list("pk", flat=True))
    consent.covered_facilities.add(*added)
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_ADDENDUM_SIGNED,
        target=addendum,
        facility_id=consent.patient.facility_id,
        changes={"consent": consent.pk, "facilities": sorted(added), "scan": bool(scan)},
    )
    return addendum


@transaction.atomic
def consent_addendum_cancel(*, actor, addendum: ConsentAddendum) -> ConsentAddendum:
    """The patient did not sign (or the addendum was made by mistake)."""
    addendum = ConsentAddendum.objects.select_for_update(of=("self",)).get(pk=addendum.pk)
    _require_manager(actor, addendum.consent.patient)
    if addendum.state != ConsentAddendum.State.PENDING:
        raise ValidationError(_("この追加同意書は署名待ちではありません。"), code="state")
    addendum.state = ConsentAddendum.State.CANCELLED
    addendum.cancelled_by = actor
    addendum.cancelled_at = timezone.now()
    addendum.save()
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_ADDENDUM_CANCEL,
        target=addendum,
        facility_id=addendum.consent.patient.facility_id,
    )
    return addendum


@transaction.atomic
def academic_consent_record(
    *, actor, patient: Patient, signed_on, scan=None, paper_kept_at_facility=False
) -> AcademicUseConsent:
    """留意事項 医療介護情報の取り扱い (3): the separate consent to anonymized academic use,
    signed on its own page (after the 別紙7, or again after a withdrawal)."""
    _require_manager(actor, patient)
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報は削除されています。"), code="erased")
    if patient.academic_consents.filter(status=AcademicUseConsent.Status.ACTIVE).exists():
        raise ValidationError(_("学術利用への同意はすでに記録されています。"), code="duplicate")
    if signed_on is None:
        raise ValidationError(_("同意日を入力してください。"), code="signed_on")
    _require_signed_paper(scan=scan, paper_kept_at_facility=paper_kept_at_facility)
    record = AcademicUseConsent(
        patient=patient,
        signed_on=signed_on,
        paper_kept_at_facility=bool(paper_kept_at_facility),
        recorded_by=actor,
    )
    if scan:
        record.scan = scan
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise ValidationError(_("学術利用への同意はすでに記録されています。")) from exc
    audit_record(
        actor=actor,
        action=AuditAction.ACADEMIC_CONSENT_RECORD,
        target=record,
        facility_id=patient.facility_id,
        changes={"patient": patient.pk, "scan": bool(scan)},
    )
    return record


@transaction.atomic
def academic_consent_withdraw(
    *, actor, academic_consent: AcademicUseConsent, withdrawn_on, reported_by: str, method: str
) -> AcademicUseConsent:
    """Withdraw the academic-use consent only: the care consent and the groups stay as they
    are (別紙5: withdrawal without disadvantage)."""
    record = (
        AcademicUseConsent.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=academic_consent.pk)
    )
    _require_manager(actor, record.patient)
    if not record.is_active:
        raise ValidationError(_("この学術利用への同意は有効ではありません。"), code="inactive")
    if not (reported_by or "").strip():
        raise ValidationError(_("撤回を申し出た人を入力してください。"), code="reported_by")
    if method not in Consent.WithdrawalMethod.values:
        raise ValidationError(_("申し出の方法を選んでください。"), code="method")
    if withdrawn_on is None or withdrawn_on < record.signed_on:
        raise ValidationError(_("撤回日は同意日より後の日付にしてください。"), code="date")
    record.status = AcademicUseConsent.Status.WITHDRAWN
    record.withdrawn_on = withdrawn_on
    record.withdrawal_reported_by = reported_by.strip()
    record.withdrawal_method = method
    record.withdrawal_recorded_by = actor
    record.withdrawal_recorded_at = timezone.now()
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.ACADEMIC_CONSENT_WITHDRAW,
        target=record,
        facility_id=record.patient.facility_id,
        changes={"withdrawn_on": withdrawn_on.isoformat(), "method": method},
    )
    return record


@transaction.atomic
def consent_withdraw(
    *,
    actor,
    consent: Consent,
    withdrawn_on,
    reported_by: str,
    method: str,
    note: str = "",
    patient_request=None,
) -> Consent:
    """第9条3項, 別紙5: the patient or family withdraws at any time, without disadvantage.
    Recorded (date, who reported it, how), never deleted; the patient's groups are to be
    archived at once."""
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("patient").get(pk=consent.pk)
    )
    _require_manager_or_custodian(actor, consent.patient, patient_request)
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
        action=AuditAction.CONSENT_WITHDRAW,
        target=consent,
        facility_id=consent.patient.facility_id,
        changes={
            "withdrawn_on": withdrawn_on.isoformat(),
            "method": method,
            **_request_link(patient_request),
        },
    )
    consent_ended.send(sender=Consent, actor=actor, patient=consent.patient, cause="withdrawn")
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
        action=AuditAction.CONSENT_ENTERED_IN_ERROR,
        target=consent,
        facility_id=consent.patient.facility_id,
    )
    if was_active:
        consent_ended.send(
            sender=Consent, actor=actor, patient=consent.patient, cause="entered_in_error"
        )
    return consent


def patients_erase(*, patient_ids: list[int], now=None) -> int:
    """別紙6: erase the personal data of these patients, set-based (the retention job's
    part in this app). Returns how many consents were erased. Scans are deleted from storage
    once the transaction commits."""
    now = now or timezone.now()
    consents = Consent.objects.filter(patient_id__in=patient_ids, erased_at__isnull=True)
    scans = [name for name in consents.exclude(scan="").values_list("scan", flat=True)]
    # The addenda and academic-use consents carry the same signed paper's scans.
    addenda = ConsentAddendum.objects.filter(
        consent__patient_id__in=patient_ids, erased_at__isnull=True
    )
    academic = AcademicUseConsent.objects.filter(patient_id__in=patient_ids, erased_at__isnull=True)
    for extra in (addenda, academic):
        scans += list(extra.exclude(scan="").values_list("scan", flat=True))
    addenda.update(scan="", erased_at=now)
    academic.update(scan="", withdrawal_reported_by="", erased_at=now)
    patient_requests_erase(patient_ids=patient_ids, now=now)
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


# --- erasure (別紙5 (3), 別紙6 「遅滞なく削除」) --------------------------------------------------


class ErasureReason(StrEnum):
    """Why a patient's personal data was erased: recorded in the audit trail (a code, never
    free text — the trail outlives the data)."""

    # Every patient group archived longer ago than the network's retention period.
    ARCHIVE_RETENTION = "archive_retention"
    # Consent withdrawn or entered in error, no working group, past the retention period.
    CONSENT_ENDED = "consent_ended"
    # Registered, never consented, past the grace period.
    NEVER_CONSENTED = "never_consented"
    # 個人情報保護法 §35: the patient (or family, agent) asked for deletion.
    PATIENT_REQUEST = "patient_request"


def _require_custodian(actor, patient: Patient) -> None:
    """留意事項 医療介護情報の取り扱い (2): the record's custodians are the registering
    facility's MCS administrators and the patient's managers."""
    if can_manage_patient(actor, patient):
        return
    if actor.has_perm("facilities.archive_groups", patient.facility):
        return
    raise PermissionDenied


@transaction.atomic
def patient_erase(*, patient: Patient, actor, reason: str) -> Patient:
    """Erase one patient's personal data now, everywhere the portal holds it (a deletion
    request, 個人情報保護法 §35). The patient's working groups are archived with it (the groups
    app's receiver): nothing is shared about a patient the portal no longer knows."""
    reason = ErasureReason(reason)  # a code, never free text (ValueError otherwise)
    patient = Patient.objects.select_for_update().select_related("facility").get(pk=patient.pk)
    if actor is not None:
        _require_custodian(actor, patient)
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報はすでに削除されています。"), code="erased")
    patients_erase_everywhere(patient_ids=[patient.pk], reason=reason, actor=actor)
    patient.refresh_from_db()
    return patient


def _dates_as_written(day) -> tuple[str, ...]:
    """A date of birth as people type it in a note (ISO, slashes, 年月日)."""
    if day is None:
        return ()
    y, m, d = day.year, day.month, day.day
    return (day.isoformat(), f"{y}/{m:02d}/{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日")


@transaction.atomic
def patients_erase_everywhere(*, patient_ids: list[int], reason: str, actor=None, now=None) -> dict:
    """別紙5 (3), 別紙6: erase these patients' personal data from every table and file that
    holds it: their records and consents here (patients_erase), the notifications that named
    or linked them, and — through the patients_erased signal, in this transaction — the apps
    above (group names and notes, printed forms). Cached page fragments are dropped once it
    commits. Rows stay (counts and the audit trail point at them); the audit trail never held
    a patient's text, so its hash chain is not touched. Returns what was erased."""
    now = now or timezone.now()
    patients = Patient.objects.filter(pk__in=patient_ids, erased_at__isnull=True)
    found = list(patients.values_list("pk", "name", "kana", "address", "phone", "birth_date"))
    patient_ids = [pk for pk, *_details in found]
    if not patient_ids:
        return {"patients": 0, "consents": 0, "notifications": 0}
    # Names, kana, addresses, phones and dates of birth as they were, to find the free text
    # that quoted them; long enough not to match unrelated text (a two-letter kana, a town).
    texts = sorted(
        {
            text
            for _pk, name, kana, address, phone, born in found
            for text, shortest in (
                (name, 2),
                (kana, 2),
                (jaconv.kata2hira(kana), 2),  # stored in katakana, often typed in hiragana
                (address, 8),
                (phone, 10),
                *((written, 8) for written in _dates_as_written(born)),
            )
            if text and len(text) >= shortest
        }
    )
    consent_ids = list(
        Consent.objects.filter(patient_id__in=patient_ids).values_list("pk", flat=True)
    )
    consents = patients_erase(patient_ids=patient_ids, now=now)
    patient_link, consent_link = (
        link_by_pk("consents:patient_detail"),
        link_by_pk("consents:consent_detail"),
    )
    notifications = notifications_scrub(
        links=[*map(patient_link, patient_ids), *map(consent_link, consent_ids)],
        texts=texts,
        title=_ERASED_NOTIFICATION_TITLE,
    )
    done = Counter(
        {"patients": len(patient_ids), "consents": consents, "notifications": notifications}
    )
    for _receiver, erased in patients_erased.send(
        sender=Patient,
        patient_ids=patient_ids,
        consent_ids=consent_ids,
        texts=texts,
        actor=actor,
        now=now,
    ):
        done.update(erased or {})
    transaction.on_commit(fragments_forget)
    audit_record(
        actor=actor,
        action=AuditAction.RETENTION_ERASE if actor is None else AuditAction.PATIENT_ERASE,
        object_type="consents.patient",
        object_id=patient_ids[0] if len(patient_ids) == 1 else "",
        changes={"patients": patient_ids, "consents": consent_ids, "reason": str(reason)},
    )
    return dict(done)


# What a notification that named an erased patient says afterwards (data, not UI text: it is
# stored, whatever language the reader uses).
_ERASED_NOTIFICATION_TITLE = "通知（個人情報削除済み）"


# 別紙6: a patient registered but never consented is told to the registrar this long before
# the grace period ends (NetworkSettings.unconsented_grace_days).
UNCONSENTED_REMINDER_DAYS = 14


def _never_consented() -> QuerySet[Patient]:
    return Patient.objects.filter(erased_at__isnull=True).exclude(
        Exists(Consent.objects.filter(patient=OuterRef("pk")))
    )


def _grace(network) -> dt.timedelta:
    return dt.timedelta(days=network.unconsented_grace_days)


@transaction.atomic
def unconsented_erase_expired(*, now=None, batch: int = 500) -> dict:
    """別紙6: patients registered longer ago than the grace period and never consented are
    erased (no consent means no group, nothing to keep them for). At most `batch` a run."""
    now = now or timezone.now()
    cutoff = now - _grace(NetworkSettings.load())
    patient_ids = list(
        _never_consented()
        .filter(created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    if not patient_ids:
        return {"patients": 0}
    return patients_erase_everywhere(
        patient_ids=patient_ids, reason=ErasureReason.NEVER_CONSENTED, now=now
    )


@transaction.atomic
def unconsented_erasure_remind(*, now=None) -> int:
    """UNCONSENTED_REMINDER_DAYS before a never-consented patient is erased, the person who
    registered them is told once (or, if they left, the facility's patient-group managers), so
    that a consent obtained on paper can still be recorded. Returns how many were told."""
    now = now or timezone.now()
    network = NetworkSettings.load()
    grace = _grace(network)
    warn_from = now - grace + dt.timedelta(days=UNCONSENTED_REMINDER_DAYS)
    due = list(
        _never_consented()
        .filter(created_at__lt=warn_from)
        .values_list(
            "pk", "facility_id", "created_at", "registered_by_id", "registered_by__is_active"
        )
    )
    managers = role_holder_ids(
        {facility_id for _pk, facility_id, *_rest in due}, FacilityRole.Role.GROUP_MANAGER
    )
    messages = []
    for pk, facility_id, created_at, registrar_id, registrar_active in due:
        erase_on = timezone.localdate(created_at + grace)
        recipients = [registrar_id] if registrar_active else managers.get(facility_id, [])
        messages += [
            Message(
                recipient_id=recipient_id,
                kind="consents.unconsented_erasure",
                # No name (its mail may leave the network): the day of registration and the
                # number the patient pages show.
                title=_(
                    "%(registered)sに登録した患者（No.%(pk)s）は同意書が記録されていないため、"
                    "%(date)sに情報が削除されます"
                )
                % {
                    "pk": pk,
                    "registered": date_format(timezone.localdate(created_at)),
                    "date": date_format(erase_on),
                },
                body=_(
                    "登録から%(days)s日のあいだに同意書（別紙7）が記録されなかった患者の"
                    "個人情報は削除されます（別紙6）。同意を得ている場合は、それまでに同意書を"
                    "記録してください。"
                )
                % {"days": network.unconsented_grace_days},
                url=reverse("consents:patient_detail", args=[pk]),
                reason=_("あなたがこの患者を登録したため")
                if registrar_active
                else _("あなたがこの患者を登録した事業所の患者グループ管理者であるため"),
                dedupe_key=f"consents.unconsented_erasure:{pk}",
            )
            for recipient_id in recipients
        ]
    return sum(send_notifications(messages).values())


# --- 別紙6 ご本人の照会: the patient's own requests (個人情報保護法 §33–35) ----------------------
# Recorded and answered by the custodians (consents.selectors.patient_requests_handled_by);
# each step one audit event with ids and codes only — never the asker's name or what they
# asked, which are erased with the patient (別紙6).


def _require_request_handler(actor, patient_request: PatientRequest) -> None:
    if not can_handle_patient_request(actor, patient_request):
        raise PermissionDenied


def _lock_request(patient_request: PatientRequest) -> PatientRequest:
    return (
        PatientRequest.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=patient_request.pk)
    )


def _record_request_step(*, actor, patient_request: PatientRequest, action: AuditAction, **changes):
    audit_record(
        actor=actor,
        action=action,
        target=patient_request,
        facility_id=patient_request.facility_id,
        changes={"patient": patient_request.patient_id, **changes},
    )


def patient_request_due_on(received_on):
    """個人情報保護法 §33–35 「遅滞なく」: the network decides how many days that is."""
    days = NetworkSettings.load().patient_request_due_days
    return received_on + dt.timedelta(days=days)


@transaction.atomic
def patient_request_receive(
    *,
    actor,
    patient: Patient,
    kind: str,
    requester_kind: str,
    requester_name: str,
    received_on,
    channel: str = PatientRequest.Channel.IN_PERSON,
    requester_relationship: str = "",
    requester_contact: str = "",
    details: str = "",
) -> PatientRequest:
    """Record a request as received (受付). Its due date follows the network's setting."""
    if not patients_in_custody_of(actor).filter(pk=patient.pk).exists():
        raise PermissionDenied
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報は削除されています。"), code="erased")
    if kind not in PatientRequest.Kind.values:
        raise ValidationError(_("請求の種類を選んでください。"), code="kind")
    if requester_kind not in PatientRequest.Requester.values:
        raise ValidationError(_("請求した人を選んでください。"), code="requester_kind")
    if channel not in PatientRequest.Channel.values:
        raise ValidationError(_("受付の方法を選んでください。"), code="channel")
    requester_name = nfkc(requester_name)
    relationship = nfkc(requester_relationship)
    if not requester_name:
        raise ValidationError(_("請求した人の氏名を入力してください。"), code="requester_name")
    if requester_kind != PatientRequest.Requester.PATIENT and not relationship:
        raise ValidationError(
            _("家族または代理人からの請求は、続柄を入力してください。"), code="relationship"
        )
    if received_on > timezone.localdate():
        raise ValidationError(_("受付日に未来の日付は入力できません。"), code="received_on")
    patient_request = PatientRequest.objects.create(
        patient=patient,
        facility_id=patient.facility_id,
        kind=kind,
        requester_kind=requester_kind,
        requester_name=requester_name,
        requester_relationship=(
            "" if requester_kind == PatientRequest.Requester.PATIENT else relationship
        ),
        requester_contact=nfkc(requester_contact),
        channel=channel,
        received_on=received_on,
        details=(details or "").strip(),
        due_on=patient_request_due_on(received_on),
        received_by=actor,
    )
    _record_request_step(
        actor=actor,
        patient_request=patient_request,
        action=AuditAction.PATIENT_REQUEST_RECEIVE,
        kind=kind,
        requester_kind=requester_kind,
        due_on=patient_request.due_on.isoformat(),
    )
    return patient_request


@transaction.atomic
def patient_request_verify_identity(
    *, actor, patient_request: PatientRequest, document: str, note: str = ""
) -> PatientRequest:
    """別紙6: nothing is disclosed, corrected or erased before the asker is known to be the
    patient, or family or agent entitled to ask. Records how and by whom."""
    patient_request = _lock_request(patient_request)
    _require_request_handler(actor, patient_request)
    if patient_request.state != PatientRequest.State.RECEIVED:
        raise ValidationError(_("この請求は本人確認の段階ではありません。"), code="state")
    if document not in PatientRequest.IdentityDocument.values:
        raise ValidationError(_("本人確認の方法を選んでください。"), code="document")
    note = nfkc(note)
    if document == PatientRequest.IdentityDocument.OTHER and not note:
        raise ValidationError(
            _("「その他」で確認したときは、確認した書類などをメモに入力してください。"),
            code="note",
        )
    patient_request.identity_document = document
    patient_request.identity_note = note
    patient_request.identity_checked_by = actor
    patient_request.identity_checked_at = timezone.now()
    patient_request.state = PatientRequest.State.VERIFIED
    patient_request.save()
    _record_request_step(
        actor=actor,
        patient_request=patient_request,
        action=AuditAction.PATIENT_REQUEST_VERIFY_IDENTITY,
        document=document,
    )
    return patient_request


def _require_verified_open(patient_request: PatientRequest, kind: str | None = None) -> None:
    if not patient_request.is_open:
        raise ValidationError(_("この請求はすでに回答済みです。"), code="closed")
    if not patient_request.is_verified:
        raise ValidationError(
            _("先に本人確認を記録してください（別紙6）。"), code="identity_not_checked"
        )
    if kind is not None and patient_request.kind != kind:
        raise ValidationError(_("この請求の種類ではできない操作です。"), code="kind")


@transaction.atomic
def patient_request_start(*, actor, patient_request: PatientRequest, step: str) -> PatientRequest:
    """The custodian starts answering (対応中): e.g. the disclosure package is being made."""
    patient_request = _lock_request(patient_request)
    _require_request_handler(actor, patient_request)
    _require_verified_open(patient_request)
    if patient_request.state != PatientRequest.State.IN_PROGRESS:
        patient_request.state = PatientRequest.State.IN_PROGRESS
        patient_request.save(update_fields=["state", "updated_at"])
    _record_request_step(
        actor=actor,
        patient_request=patient_request,
        action=AuditAction.PATIENT_REQUEST_START,
        step=step,
    )
    return patient_request


@transaction.atomic
def patient_request_correct(*, actor, patient_request: PatientRequest, **fields) -> PatientRequest:
    """§34 訂正: the patient's record corrected through patient_update, the request linked
    in its audit event."""
    patient_request = _lock_request(patient_request)
    _require_request_handler(actor, patient_request)
    _require_verified_open(patient_request, PatientRequest.Kind.CORRECTION)
    patient_update(
        actor=actor, patient=patient_request.patient, patient_request=patient_request, **fields
    )
    return patient_request_start(actor=actor, patient_request=patient_request, step="correct")


@transaction.atomic
def patient_request_stop_use(
    *, actor, patient_request: PatientRequest, withdrawn_on, note: str = ""
) -> PatientRequest:
    """§35 利用停止 = the withdrawal of consent (第9条3項): the consent ends and the patient's
    groups are to be archived, the request linked in the withdrawal's audit event."""
    patient_request = _lock_request(patient_request)
    _require_request_handler(actor, patient_request)
    _require_verified_open(patient_request, PatientRequest.Kind.STOP_USE)
    consent = patient_request.patient.consents.active().first()
    if consent is None:
        raise ValidationError(
            _("有効な同意書がありません。すでに利用は停止されています。"), code="no_consent"
        )
    method = {
        PatientRequest.Channel.IN_PERSON: Consent.WithdrawalMethod.IN_PERSON,
        PatientRequest.Channel.PHONE: Consent.WithdrawalMethod.PHONE,
        PatientRequest.Channel.WRITING: Consent.WithdrawalMethod.WRITING,
    }.get(patient_request.channel, Consent.WithdrawalMethod.OTHER)
    consent_withdraw(
        actor=actor,
        consent=consent,
        withdrawn_on=withdrawn_on,
        reported_by=patient_request.requester_name,
        method=method,
        note=note,
        patient_request=patient_request,
    )
    return patient_request_start(actor=actor, patient_request=patient_request, step="stop_use")


@transaction.atomic
def patient_request_erase(*, actor, patient_request: PatientRequest) -> PatientRequest:
    """§35 消去: the patient's personal data is erased now, everywhere (patient_erase); the
    request keeps only its kind, dates and state, and is answered with it."""
    patient_request = _lock_request(patient_request)
    _require_request_handler(actor, patient_request)
    _require_verified_open(patient_request, PatientRequest.Kind.DELETION)
    patient_erase(
        patient=patient_request.patient, actor=actor, reason=ErasureReason.PATIENT_REQUEST
    )
    patient_request.refresh_from_db()
    patient_request.state = PatientRequest.State.ANSWERED
    patient_request.replied_on = timezone.localdate()
    patient_request.closed_by = actor
    patient_request.save()
    _record_request_step(
        actor=actor,
        patient_request=patient_request,
        action=AuditAction.PATIENT_REQUEST_ERASE,
        outcome="answered",
    )
    return patient_request


@transaction.atomic
def patient_request_close(
    *, actor, patient_request: PatientRequest, state: str, outcome: str, replied_on
) -> PatientRequest:
    """The answer (回答済み) or the refusal (却下, with its reason — §33② etc.), dated."""
    patient_request = _lock_request(patient_request)
    _require_request_handler(actor, patient_request)
    if not patient_request.is_open:
        raise ValidationError(_("この請求はすでに回答済みです。"), code="closed")
    if state not in PatientRequest.CLOSED_STATES:
        raise ValidationError(_("回答か却下かを選んでください。"), code="state")
    if state == PatientRequest.State.ANSWERED and not patient_request.is_verified:
        raise ValidationError(
            _("先に本人確認を記録してください（別紙6）。"), code="identity_not_checked"
        )
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError(_("対応の結果（却下の場合はその理由）を入力してください。"))
    if replied_on < patient_request.received_on or replied_on > timezone.localdate():
        raise ValidationError(_("回答日は受付日から今日までの日付にしてください。"))
    patient_request.state = state
    patient_request.outcome = outcome
    patient_request.replied_on = replied_on
    patient_request.closed_by = actor
    patient_request.save()
    _record_request_step(
        actor=actor,
        patient_request=patient_request,
        action=AuditAction.PATIENT_REQUEST_CLOSE,
        outcome=state,
        replied_on=replied_on.isoformat(),
        overdue=replied_on > patient_request.due_on,
    )
    return patient_request


def patient_requests_erase(*, patient_ids: list[int], now) -> int:
    """別紙6: what a request recorded about the asker and the patient goes with the patient's
    data (part of patients_erase); kind, dates and state stay for the counts."""
    return PatientRequest.objects.filter(patient_id__in=patient_ids, erased_at__isnull=True).update(
        requester_name="",
        requester_relationship="",
        requester_contact="",
        details="",
        identity_note="",
        outcome="",
        erased_at=now,
    )


def patient_requests_remind_overdue(*, now=None) -> int:
    """「遅滞なく」: an open request past its due date reminds its custodians — the MCS
    administrators of the facility and the managers of the patient's groups — once per request
    and due date (the dedupe key), whatever the job's schedule. The message names the request
    by number only: mails never carry a patient's details."""
    now = now or timezone.now()
    overdue = list(
        patient_requests_overdue(today=timezone.localdate(now)).values(
            "pk", "kind", "due_on", "facility_id", "patient_id"
        )
    )
    if not overdue:
        return 0
    admins = role_holder_ids({r["facility_id"] for r in overdue}, FacilityRole.Role.MCS_ADMIN)
    managers = patient_groups().group_manager_ids_of_patients({r["patient_id"] for r in overdue})
    kinds = dict(PatientRequest.Kind.choices)
    title = _("ご本人からの請求 #%(number)s（%(kind)s）の回答期限（%(due)s）を過ぎています")
    body = _(
        "患者・家族・代理人からの請求には遅滞なく回答します（別紙6 ご本人の照会、"
        "個人情報保護法 第33条〜第35条）。請求のページで対応と回答を記録してください。"
    )
    reason = _("あなたがこの患者の記録を管理する事業所のMCS管理者、またはグループ管理者であるため")
    link = link_by_pk("consents:patient_request_detail")
    messages = []
    for row in overdue:
        recipients = set(admins.get(row["facility_id"], []))
        recipients |= managers.get(row["patient_id"], set())
        for recipient_id in sorted(recipients):
            messages.append(
                Message(
                    recipient_id=recipient_id,
                    kind="consents.patient_request_overdue",
                    title=title
                    % {
                        "number": row["pk"],
                        "kind": kinds[row["kind"]],
                        "due": row["due_on"].strftime("%Y/%m/%d"),
                    },
                    body=body,
                    url=link(row["pk"]),
                    reason=reason,
                    dedupe_key=f"patient_request_overdue:{row['pk']}:{row['due_on'].isoformat()}",
                )
            )
    sent = sum(send_notifications(messages).values())
    if sent:
        audit_record(
            actor=None,
            action=AuditAction.PATIENT_REQUEST_REMIND_OVERDUE,
            object_type="consents.patientrequest",
            changes={"requests": [r["pk"] for r in overdue], "sent": sent},
        )
    return sent
