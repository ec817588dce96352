"""別紙5 (3), 別紙6 「遅滞なく削除」: once a patient's data has no purpose left, it is erased —
and erased everywhere. For each way a patient gets erased (the periodic job's three cases,
and the custodian's erasure on the patient's request), a patient with distinctive details is
given everything that can name them (consent scan, family signer, a printed 別紙7, group,
invitations, a removal, a review, notifications, a cached page fragment); afterwards a search
of every text column of every table, the sessions, the media directory (PDFs read back) and
the cache finds no trace of their name, kana, date of birth, address or phone."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from consents import services as consent_services
from consents.models import Consent, Patient
from consents.services import ErasureReason
from devices import services as device_services
from devices.models import IncidentReport
from facilities.models import FacilityRole, User
from groups import services as group_services
from groups import tasks
from groups.models import Group
from mcnet.audit import verify_chain
from mcnet.models import AuditEvent, GeneratedDocument, NetworkSettings, Notification
from mcnet.notifications import notifications_scrub, notify
from mcnet.printing import registry
from mcnet.printing import services as printing
from tests.conftest import log_in
from tests.factories import made_consent, made_membership
from tests.trace import traces_of

RETENTION_DAYS = 30
DAY = dt.timedelta(days=1)

NAME = "鶴巻権兵衛"
KANA = "つるまき ごんべえ"  # stored as katakana
BIRTH_DATE = dt.date(1942, 9, 3)
ADDRESS = "新潟県上越市木田九丁目8番7号 鶴巻荘"
PHONE = "025-987-6543"
FAMILY = "鶴巻花子"

# What must not survive, in the forms the portal writes them: the name (and its parts), the
# kana as typed and as stored, the date of birth (ISO, 和暦, with slashes, in kanji), the
# address and the phone, and the family member who signed.
TRACES = (
    NAME,
    "権兵衛",
    "鶴巻",
    "つるまき",
    "ツルマキ",
    "ゴンベエ",
    "1942-09-03",
    "1942/09/03",
    "1942/9/3",
    "昭和17年9月3日",
    "1942年9月3日",
    "木田九丁目",
    PHONE,
    "0259876543",
    FAMILY,
)


@pytest.fixture
def network(demo):
    settings = NetworkSettings.load()
    settings.retention_days = RETENTION_DAYS
    settings.save()
    return settings


@pytest.fixture
def cm(people):
    """春日野's care manager: patient-group manager and MCS administrator (the custodian)."""
    return people["group_manager"]


def register(cm, demo) -> Patient:
    """Registered, then corrected (the audit trail records which fields, not their values)."""
    patient = consent_services.patient_register(
        actor=cm,
        facility=demo["kasugano"],
        name=NAME,
        kana=KANA,
        birth_date=BIRTH_DATE,
        sex="male",
        address="新潟県上越市",
        phone="025-000-0000",
    )
    return consent_services.patient_update(actor=cm, patient=patient, address=ADDRESS, phone=PHONE)


def consent_with_scan_and_family(cm, patient, demo) -> Consent:
    """A 別紙7 signed by the wife, scanned, with the separate academic-use choice ticked; it
    covers 春日野 and 高田 (ABC joins later by an addendum)."""
    scan = ContentFile(f"%scan of the signed 別紙7: {NAME} {ADDRESS}".encode(), name="scan.txt")
    consent = made_consent(
        manager=cm,
        patient=patient,
        covered=[demo["kasugano"], demo["takada"]],
        signer_kind="family",
        signer_name=FAMILY,
        signer_relationship="妻",
        scan=scan,
        paper_kept_at_facility=False,
        academic_use=True,
    )
    print_form(cm, "besshi7", consent)
    print_form(cm, "academic_use", patient.academic_consents.get())
    return consent


def print_form(cm, code: str, obj) -> GeneratedDocument:
    """A form rendered to PDF for one object (the 別紙7 of a consent, or of a patient to be
    signed; an addendum; the academic-use consent; the team notice)."""
    target = registry.get(code).target_for(obj._meta.label)
    document = printing.document_request_for(actor=cm, code=code, target=target, obj=obj)
    assert printing.document_render(document_id=document.pk) == "ready"
    return document


def addendum_signed(cm, consent, demo) -> None:
    """ABC joins the consent: the addendum printed, signed and scanned."""
    addendum = consent_services.consent_addendum_prepare(
        actor=cm, consent=consent, facilities=[demo["abc"]]
    )
    print_form(cm, "besshi7_addendum", addendum)
    consent_services.consent_addendum_record_signed(
        actor=cm,
        addendum=addendum,
        signed_on=timezone.localdate(),
        scan=ContentFile(f"%addendum signed by {NAME}".encode(), name="addendum.txt"),
    )


def report_an_incident(cm, demo) -> IncidentReport:
    """An incident report quoting the patient (kept after the erasure, the quote is not)."""
    return device_services.incident_file(
        actor=cm,
        facility=demo["kasugano"],
        kind=IncidentReport.Kind.choices[0][0],
        occurred_at=timezone.now(),
        description=f"{NAME}さん（{ADDRESS}）宛ての書類を別の家に誤って届けた",
    )


def tell_about(cm, patient) -> None:
    """A notification quoting the patient, as a service might write one."""
    notify(
        recipients=[cm],
        kind="consents.test",
        title=f"{NAME}さん（{KANA}）の記録",
        body=f"{ADDRESS} {PHONE} 生年月日 1942/9/3",
        url=reverse("consents:patient_detail", args=[patient.pk]),
    )
    # Linking nowhere: found by what it quotes.
    notify(
        recipients=[cm],
        kind="consents.test",
        title="生年月日 1942年9月3日 の方の件",
        body=f"連絡先 {PHONE}",
    )
    notify(recipients=[cm], kind="consents.test", title=f"{KANA}さんの件")


def group_with_history(cm, people, patient, demo) -> Group:
    """The group and everything around it: invitations, members, a removal with a reason
    that quotes the patient, a review note, a description, a cached list fragment."""
    group = group_services.group_create_for_patient(actor=cm, patient=patient)
    Group.objects.filter(pk=group.pk).update(description=f"{NAME}さん、{ADDRESS}")
    nurse = made_membership(group, cm, people["user"])
    addendum_signed(cm, patient.consents.get(), demo)
    doctor = made_membership(group, cm, people["other_facility_user"])
    group_services.membership_remove(
        actor=cm, membership=doctor, reason=f"{NAME}さんの担当を外れたため"
    )
    group_services.supporter_review_record(
        actor=cm, group=group, note=f"{NAME}さんの支援者を確認（{PHONE}）", timeline_checked=True
    )
    assert nurse.state == "accepted"
    print_form(cm, "team_notice", group)
    group_services.team_notice_record(actor=cm, group=group)
    return group


def cache_the_group_list(client, people) -> None:
    log_in(client, people["user"], mfa=False)
    page = client.get(reverse("groups:list"))
    assert NAME in page.content.decode()


def assert_traced_before(media, *, cached: bool, pdfs: int, scans=()) -> None:
    """The search finds the patient before the erasure (so it could fail after)."""
    found = traces_of(TRACES, media_root=media)
    text = "\n".join(found)
    assert "consents_patient.name" in text
    assert "mcnet_notification.title" in text
    assert "mcnet_generateddocument.data" in text
    # Each printed form, read back from the PDF's text; each scan, from its bytes.
    assert len({line for line in found if line.endswith(f".pdf: {NAME}")}) == pdfs
    for scan in scans:
        assert f"{scan}: {NAME}" in text
    if cached:
        assert "cache " in text


def assert_no_trace(media) -> None:
    assert traces_of(TRACES, media_root=media) == []
    # The audit trail never held it, so it is whole.
    assert verify_chain() is None


def test_the_custodian_erases_on_the_patients_request(
    network, cm, people, demo, media, client, django_capture_on_commit_callbacks
):
    patient = register(cm, demo)
    consent_with_scan_and_family(cm, patient, demo)
    tell_about(cm, patient)
    group = group_with_history(cm, people, patient, demo)
    incident = report_an_incident(cm, demo)
    cache_the_group_list(client, people)
    assert_traced_before(media, cached=True, pdfs=4, scans=("scan.txt", "addendum.txt"))
    printed = [(d.pk, d.file.storage, d.file.name) for d in GeneratedDocument.objects.all()]
    assert len(printed) == 4 and all(storage.exists(name) for _pk, storage, name in printed)

    with django_capture_on_commit_callbacks(execute=True):
        consent_services.patient_erase(
            patient=patient, actor=cm, reason=ErasureReason.PATIENT_REQUEST
        )

    # 別紙6: the PDFs that named the patient go with the erasure (printing's receiver of
    # patients_erased), rows and files, not KEEP_DOCUMENTS later.
    assert not GeneratedDocument.objects.filter(pk__in=[pk for pk, *_ in printed]).exists()
    assert not any(storage.exists(name) for _pk, storage, name in printed)
    assert_no_trace(media)
    group.refresh_from_db()
    assert group.state == Group.State.ARCHIVED  # nothing is shared about an erased patient
    incident.refresh_from_db()
    assert (
        incident.description == "［削除済み］さん（［削除済み］）宛ての書類を別の家に誤って届けた"
    )
    event = AuditEvent.objects.get(action="patient.erase")
    assert event.changes["reason"] == "patient_request" and event.object_id == str(patient.pk)


def test_archived_groups_are_erased_after_the_retention(
    network, cm, people, demo, media, client, django_capture_on_commit_callbacks
):
    """(c) Every group of the patient archived longer ago than the retention period."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        patient = register(cm, demo)
        consent_with_scan_and_family(cm, patient, demo)
        tell_about(cm, patient)
        group = group_with_history(cm, people, patient, demo)
        cache_the_group_list(client, people)
        group_services.group_report_end(
            actor=cm, group=group, reason="death", note=f"{NAME}さんは自宅で永眠"
        )
        group_services.group_archive(actor=cm, group=group)
        assert_traced_before(media, cached=True, pdfs=4, scans=("scan.txt", "addendum.txt"))

    with time_machine.travel(start + (RETENTION_DAYS - 1) * DAY, tick=False):
        tasks.erase_expired_personal_data()
    patient.refresh_from_db()
    assert patient.name == NAME  # not yet

    with time_machine.travel(start + (RETENTION_DAYS + 1) * DAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            done = tasks.erase_expired_personal_data()

    assert done["patients"] >= 1 and done["documents"] >= 1
    assert_no_trace(media)
    patient.refresh_from_db()
    assert patient.is_erased
    assert AuditEvent.objects.filter(
        action="retention.erase", changes__reason="archive_retention"
    ).exists()


@pytest.mark.parametrize("how", ["withdrawn", "entered_in_error"])
def test_ended_consents_without_a_group_are_erased_after_the_retention(
    how, network, cm, people, demo, media, django_capture_on_commit_callbacks
):
    """(a) The consent ended (withdrawn, or entered in error) and no working group: from the
    end, the retention period."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        patient = register(cm, demo)
        consent = consent_with_scan_and_family(cm, patient, demo)
        tell_about(cm, patient)
    with time_machine.travel(start + 10 * DAY, tick=False):
        if how == "withdrawn":
            consent_services.consent_withdraw(
                actor=cm,
                consent=consent,
                withdrawn_on=timezone.localdate(),
                reported_by=FAMILY,
                method="phone",
                note=f"{NAME}さんの妻から電話",
            )
        else:
            consent_services.consent_mark_entered_in_error(
                actor=cm, consent=consent, reason=f"{NAME}さんではなく別人の同意書"
            )
        assert_traced_before(media, cached=False, pdfs=2, scans=("scan.txt",))

    with time_machine.travel(start + (10 + RETENTION_DAYS - 1) * DAY, tick=False):
        tasks.erase_expired_personal_data()
    patient.refresh_from_db()
    assert patient.name == NAME  # counted from the end of the consent, not its start

    with time_machine.travel(start + (10 + RETENTION_DAYS + 1) * DAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.erase_expired_personal_data()

    assert_no_trace(media)
    assert AuditEvent.objects.filter(
        action="retention.erase", changes__reason="consent_ended"
    ).exists()


def test_never_consented_patients_are_erased_after_the_grace_period(
    network, cm, people, demo, media, django_capture_on_commit_callbacks
):
    """(b) Registered, never consented: after the grace period (default 90 days), with one
    reminder to the registrar 14 days before."""
    assert network.unconsented_grace_days == 90
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        patient = register(cm, demo)
        print_form(cm, "besshi7", patient)  # the 別紙7 printed to be signed
        tell_about(cm, patient)
        assert_traced_before(media, cached=False, pdfs=1)

    def reminders():
        return Notification.objects.filter(kind="consents.unconsented_erasure", recipient=cm)

    with time_machine.travel(start + (90 - 15) * DAY, tick=False):
        assert tasks.erase_expired_personal_data()["reminders"] == 0
    with time_machine.travel(start + (90 - 13) * DAY, tick=False):
        assert tasks.erase_expired_personal_data()["reminders"] == 1
        assert tasks.erase_expired_personal_data()["reminders"] == 0  # sent once
    reminder = reminders().get()
    assert reminder.url == reverse("consents:patient_detail", args=[patient.pk])
    assert NAME not in reminder.title + reminder.body  # its mail may leave the network
    assert f"登録した患者（No.{patient.pk}）" in reminder.title and "#" not in reminder.title
    patient.refresh_from_db()
    assert patient.name == NAME

    with time_machine.travel(start + 91 * DAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            done = tasks.erase_expired_personal_data()
    assert done["patients"] >= 1 and done["reminders"] == 0

    assert_no_trace(media)
    assert AuditEvent.objects.filter(
        action="retention.erase", changes__reason="never_consented"
    ).exists()


def test_a_patient_with_a_consent_or_a_working_group_is_kept(
    network, cm, people, demo, media, django_capture_on_commit_callbacks
):
    """Nothing erased too early: a valid consent, a group still working, a consent ended
    within the period, a patient registered within the grace period."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        consented = register(cm, demo)
        made_consent(manager=cm, patient=consented)
        working = register(cm, demo)
        consent = made_consent(manager=cm, patient=working)
        group_services.group_create_for_patient(actor=cm, patient=working)
        # Withdrawn: its group waits for the archive — still working, still needed.
        consent_services.consent_withdraw(
            actor=cm,
            consent=consent,
            withdrawn_on=timezone.localdate(),
            reported_by="本人",
            method="phone",
        )
    with time_machine.travel(start + 89 * DAY, tick=False):
        lately = register(cm, demo)
    with time_machine.travel(start + 100 * DAY, tick=False):
        tasks.erase_expired_personal_data()
    for patient in (consented, working, lately):
        patient.refresh_from_db()
        assert not patient.is_erased and patient.name == NAME


def test_the_erasure_service_is_for_the_custodian_only(network, cm, people, demo):
    patient = register(cm, demo)
    for role in ("user", "other_facility_user", "other_mcs_admin", "center"):
        with pytest.raises(PermissionDenied):
            consent_services.patient_erase(
                patient=patient, actor=people[role], reason=ErasureReason.PATIENT_REQUEST
            )
    with pytest.raises(ValueError):
        consent_services.patient_erase(patient=patient, actor=cm, reason="山田さんの希望")
    patient.refresh_from_db()
    assert not patient.is_erased


def test_the_admin_says_what_each_retention_setting_is_for(client_as, demo):
    NetworkSettings.load()
    page = client_as("center").get(reverse("admin:mcnet_networksettings_change", args=[1]))
    assert page.status_code == 200
    text = page.content.decode()
    for label, purpose in (
        ("利用終了後の個人情報の保存期間（日）", "患者の利用が終わってから個人情報を削除するまで"),
        ("同意書のない患者の保存期間（日）", "削除の14日前に、登録した人へ一度だけ通知"),
        ("アーカイブ予定からアーカイブまでの期限（日）", "MCS管理者がグループをアーカイブするまで"),
    ):
        assert label in text and purpose in text


def test_only_notifications_that_link_or_quote_the_patient_are_blanked(db):
    user = User.objects.create_user("scrub@example.jp", "scrub-pass-1234")

    def told(title, url=""):
        return notify(recipients=[user], kind="test", title=title, body="本文", url=url)[0]

    linked, neighbour = told("A", "/groups/5/members/"), told("B", "/groups/50/")
    quoting, other = told("山田(太郎)さんの件"), told("山田 太郎さんの件")
    assert notifications_scrub(links=[], texts=[], title="x") == 0
    assert notifications_scrub(links=["/groups/5/"], texts=["山田(太郎)"], title="消") == 2
    titles = dict(Notification.objects.values_list("pk", "title"))
    assert titles[linked.pk] == titles[quoting.pk] == "消"
    assert titles[neighbour.pk] == "B" and titles[other.pk] == "山田 太郎さんの件"


def test_a_deletion_request_erases_what_the_disclosure_printed_too(
    network, cm, people, demo, media, client, django_capture_on_commit_callbacks
):
    """個人情報保護法 §33 then §35: the family asked for disclosure (the package printed, its
    context stored), then for deletion; the request's own record of who asked goes too."""
    patient = register(cm, demo)
    consent_with_scan_and_family(cm, patient, demo)
    tell_about(cm, patient)
    group_with_history(cm, people, patient, demo)

    def request(kind):
        received = consent_services.patient_request_receive(
            actor=cm,
            patient=patient,
            kind=kind,
            requester_kind="family",
            requester_name=FAMILY,
            requester_relationship="妻",
            requester_contact=f"{ADDRESS} {PHONE}",
            received_on=timezone.localdate(),
            details=f"{NAME}の記録について",
        )
        return consent_services.patient_request_verify_identity(
            actor=cm, patient_request=received, document="drivers_license", note=FAMILY
        )

    disclosure = request("disclosure")
    print_form(cm, "disclosure", disclosure)
    print_form(cm, "request_reply", disclosure)
    assert_traced_before(media, cached=False, pdfs=6, scans=("scan.txt", "addendum.txt"))

    with django_capture_on_commit_callbacks(execute=True):
        consent_services.patient_request_erase(actor=cm, patient_request=request("deletion"))

    assert_no_trace(media)


def test_the_reminder_goes_to_the_facilitys_group_managers_when_the_registrar_left(
    network, cm, demo
):
    """The registrar is no longer active: the facility's patient-group managers are told."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        patient = register(cm, demo)
    successor = User.objects.create_user("successor@kasugano.example.jp", "succ-pass-1234")
    FacilityRole.objects.create(
        user=successor, facility=demo["kasugano"], role=FacilityRole.Role.GROUP_MANAGER
    )
    User.objects.filter(pk=cm.pk).update(is_active=False)
    with time_machine.travel(start + (90 - 13) * DAY, tick=False):
        assert consent_services.unconsented_erasure_remind() == 1
    told = Notification.objects.get(kind="consents.unconsented_erasure")
    assert told.recipient_id == successor.pk
    assert told.url == reverse("consents:patient_detail", args=[patient.pk])
