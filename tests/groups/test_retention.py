"""別紙5 (3), 別紙6: after the retention period the personal data of patients in archived
groups is erased by a periodic job — what it must, and nothing else."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from consents.models import Consent, Patient
from facilities.models import User
from groups import services, tasks
from groups.models import Group, Membership, SupporterReview
from mcnet.models import AuditEvent, NetworkSettings, Notification
from tests.demo_objects import patient_named, yamada_group
from tests.factories import made_consent, made_patient
from tests.worker import wait_for

RETENTION_DAYS = 30


def archived_days_ago(group: Group, days: int) -> None:
    Group.objects.filter(pk=group.pk).update(archived_at=timezone.now() - dt.timedelta(days=days))


def snapshot(patient: Patient) -> dict:
    patient.refresh_from_db()
    return {
        f: getattr(patient, f) for f in ("name", "kana", "birth_date", "sex", "address", "phone")
    }


@pytest.fixture
def expired(demo, people):
    """妙高次郎 (the demo's archived group) is past the retention period; his consent has a scan
    and a family signer."""
    network = NetworkSettings.load()
    network.retention_days = RETENTION_DAYS
    network.save()
    myoko = Group.objects.get(name="妙高次郎さんのグループ")
    archived_days_ago(myoko, RETENTION_DAYS + 1)
    consent = myoko.patient.consents.get()
    consent.scan.save("scan.pdf", ContentFile(b"%PDF-1.4 signed"), save=False)
    Consent.objects.filter(pk=consent.pk).update(
        scan=consent.scan.name,
        signer_kind="family",
        signer_name="妙高花子",
        signer_relationship="妻",
    )
    Group.objects.filter(pk=myoko.pk).update(end_note="自宅で看取り")
    return myoko


def test_the_job_erases_the_patients_personal_data(expired, django_capture_on_commit_callbacks):
    patient = expired.patient
    scan_name = patient.consents.get().scan.name
    assert default_storage.exists(scan_name)
    # The archive already took his name out of the inbox (access ends with care); a line that
    # still names him (written before that rule) is scrubbed by the erasure too.
    Notification.objects.create(
        recipient=expired.manager,
        kind="groups.archived",
        title="「妙高次郎さんのグループ」",
        url=f"/groups/{expired.pk}/",
    )
    assert Notification.objects.filter(title__contains="妙高次郎").exists()  # before
    with django_capture_on_commit_callbacks(execute=True):
        done = services.retention_erase_expired()
    assert done["patients"] == 1 and done["groups"] == 1 and done["consents"] == 1
    patient.refresh_from_db()
    assert patient.name == f"（削除済み #{patient.pk}）"  # replaced
    assert (patient.kana, patient.birth_date, patient.sex, patient.address, patient.phone) == (
        "",
        None,
        "",
        "",
        "",
    )
    assert patient.erased_at is not None
    consent = patient.consents.get()
    assert (
        consent.scan.name == "" and consent.signer_name == "" and consent.signer_relationship == ""
    )
    assert not default_storage.exists(scan_name)
    expired.refresh_from_db()
    assert "妙高次郎" not in expired.name and expired.end_note == ""
    assert not Notification.objects.filter(title__contains="妙高次郎").exists()


def test_the_job_keeps_counts_states_and_the_audit_trail(expired):
    before = {
        "patients": Patient.objects.count(),
        "consents": Consent.objects.count(),
        "groups": Group.objects.count(),
        "memberships": Membership.objects.count(),
        "reviews": SupporterReview.objects.count(),
        "audit": list(AuditEvent.objects.values_list("pk", "action", "object_id")),
    }
    services.retention_erase_expired()
    expired.refresh_from_db()
    assert expired.state == Group.State.ARCHIVED and expired.end_reason == "death"
    assert expired.archived_at and expired.kind == "patient"
    consent = expired.patient.consents.get()
    assert consent.signed_on and consent.status == "active" and consent.explainer_name
    assert Patient.objects.count() == before["patients"]
    assert Consent.objects.count() == before["consents"]
    assert Group.objects.count() == before["groups"]
    assert Membership.objects.count() == before["memberships"]
    assert SupporterReview.objects.count() == before["reviews"]
    after = list(AuditEvent.objects.values_list("pk", "action", "object_id"))
    assert set(before["audit"]) <= set(after)  # nothing removed from the trail
    assert AuditEvent.objects.filter(action="retention.erase").count() == 1
    # The trail never held the patient's name in the first place.
    assert not AuditEvent.objects.filter(object_repr__contains="妙高次郎").exists()


def test_the_job_leaves_everyone_else_alone(expired, people, demo):
    yamada_before = snapshot(patient_named("山田太郎"))
    joetsu_before = snapshot(patient_named("上越花子"))
    # Archived, but not long enough ago.
    cm = people["group_manager"]
    recent = made_patient(manager=cm, facility=demo["kasugano"], name="最近次郎")
    made_consent(manager=cm, patient=recent)
    recent_group = services.group_create_for_patient(actor=cm, patient=recent)
    services.group_archive(actor=cm, group=recent_group, reason="moved")
    archived_days_ago(recent_group, RETENTION_DAYS - 1)
    # Archived long ago, but back in care with a new working group: still needed.
    back = made_patient(manager=cm, facility=demo["kasugano"], name="再開三郎")
    made_consent(manager=cm, patient=back)
    old = services.group_create_for_patient(actor=cm, patient=back)
    services.group_archive(actor=cm, group=old, reason="care_ended")
    archived_days_ago(old, RETENTION_DAYS + 100)
    services.group_create_for_patient(actor=cm, patient=back)
    # A patient without any group yet.
    lone = made_patient(manager=cm, facility=demo["kasugano"], name="未作成四郎")

    assert services.retention_erase_expired()["patients"] == 1
    assert snapshot(patient_named("山田太郎")) == yamada_before
    assert snapshot(patient_named("上越花子")) == joetsu_before
    for patient in (recent, back, lone):
        patient.refresh_from_db()
        assert patient.erased_at is None and patient.kana
    assert yamada_group().name == "山田太郎さんのグループ"


def test_running_twice_changes_nothing_more(expired):
    first = tasks.erase_expired_personal_data()
    events = AuditEvent.objects.count()
    second = tasks.erase_expired_personal_data()
    assert first["patients"] == 1
    assert set(second.values()) == {0}
    assert AuditEvent.objects.count() == events


def test_an_erased_patient_shows_as_erased_to_the_custodians(expired, client_as):
    from django.urls import reverse

    services.retention_erase_expired()
    url = reverse("groups:detail", args=[expired.pk])
    assert client_as("other_facility_user").get(url).status_code == 404  # a former member
    client = client_as("group_manager")  # a custodian: states the purpose, then sees
    opening = reverse("consents:record_open", args=[expired.patient_id])
    client.post(opening, {"purpose": "patient_request"})
    page = client.get(url)
    assert page.status_code == 200
    assert "個人情報は削除されました" in page.content.decode()


@pytest.mark.worker
def test_the_periodic_job_runs_on_a_real_worker(celery_worker, transactional_db):
    from mcnet.demo import load_demo

    load_demo()
    network = NetworkSettings.load()
    network.retention_days = RETENTION_DAYS
    network.save()
    myoko = Group.objects.get(name="妙高次郎さんのグループ")
    archived_days_ago(myoko, RETENTION_DAYS + 1)
    tasks.erase_expired_personal_data.delay()
    wait_for(
        lambda: Patient.objects.filter(pk=myoko.patient_id, erased_at__isnull=False).exists(),
        timeout=60,
        what="the worker to erase 妙高次郎's personal data",
    )
    assert patient_named("山田太郎").birth_date is not None
    assert User.objects.filter(email="cm@kasugano.example.jp").exists()
