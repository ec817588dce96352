"""Consent (別紙7): who signed, when, who explained it, which facilities, the academic-use
consent, the signed scan; withdrawal and errors are states, never deletions."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from consents import services
from consents.models import Consent, Patient
from mcnet.models import AuditEvent, AuditTrail
from tests.demo_objects import JOETSU_DETAILS, shown

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(out, format="PNG")
    return out.getvalue()


def consent_form(demo, **overrides) -> dict:
    data = {
        "signed_on": "2026-06-01",
        "signer_kind": "patient",
        "explainer_facility": demo["kasugano"].pk,
        "explainer_name": "春日野一郎",
        "explainer_phone": "025-222-2222",
        "covered_facilities": [demo["kasugano"].pk, demo["abc"].pk],
        "academic_use": "on",
    }
    return {**data, **overrides}


def test_recording_a_consent_with_a_scan(demo, people, client_as, patient):
    client = client_as("group_manager")
    form = client.get(reverse("consents:consent_create", args=[patient.pk])).content.decode()
    assert 'value="春日野一郎"' in form  # the explainer defaults to the recorder
    scan = SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("consents:consent_create", args=[patient.pk]), {**consent_form(demo), "scan": scan}
    )
    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert consent.status == "active" and consent.academic_use
    assert consent.signed_on == dt.date(2026, 6, 1)
    assert consent.explainer_facility == demo["kasugano"] and consent.explainer_name == "春日野一郎"
    assert set(consent.covered_facilities.all()) == {demo["kasugano"], demo["abc"]}
    assert consent.scan.name.endswith(".pdf") and "新潟" not in consent.scan.name
    assert consent.recorded_by == people["group_manager"]
    assert AuditEvent.objects.filter(action="consent.record", object_id=str(consent.pk)).exists()


def test_a_proxy_signature_names_the_signer_and_relationship(demo, client_as, patient):
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    data = consent_form(demo, signer_kind="family", paper_kept_at_facility="on")
    refused = client.post(url, data).content.decode()
    assert "続柄を入力してください" in refused and "その方の氏名を入力してください" in refused
    assert not Consent.objects.filter(patient=patient).exists()
    ok = client.post(url, {**data, "signer_name": "新潟花子", "signer_relationship": "妻"})
    assert ok.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert (consent.signer_kind, consent.signer_name, consent.signer_relationship) == (
        "family",
        "新潟花子",
        "妻",
    )


def test_a_scan_or_the_paper_kept_at_the_facility_is_required(demo, client_as, patient):
    response = client_as("group_manager").post(
        reverse("consents:consent_create", args=[patient.pk]), consent_form(demo)
    )
    assert "紙の同意書を事業所で保管" in response.content.decode()
    assert not Consent.objects.filter(patient=patient).exists()


def test_a_scan_is_checked_by_its_content(demo, client_as, patient):
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client_as("group_manager").post(
        reverse("consents:consent_create", args=[patient.pk]), {**consent_form(demo), "scan": fake}
    )
    assert "このファイルの形式は受け付けられません" in response.content.decode()
    assert not Consent.objects.filter(patient=patient).exists()


def test_one_valid_consent_at_a_time(demo, people, patient):
    cm = people["group_manager"]
    kwargs = {
        "actor": cm,
        "patient": patient,
        "signed_on": dt.date(2026, 6, 1),
        "explainer_facility": demo["kasugano"],
        "explainer_name": "春日野一郎",
        "covered_facilities": [demo["kasugano"]],
        "paper_kept_at_facility": True,
    }
    services.consent_record(**kwargs)
    with pytest.raises(ValidationError, match="すでに有効な同意書"):
        services.consent_record(**kwargs)


def test_the_scan_is_streamed_only_to_those_who_handle_the_paper(demo, people, client_as, patient):
    cm = people["group_manager"]
    consent = services.consent_record(
        actor=cm,
        patient=patient,
        signed_on=dt.date(2026, 6, 1),
        explainer_facility=demo["kasugano"],
        explainer_name="春日野一郎",
        covered_facilities=[demo["kasugano"], demo["takada"]],
        scan=SimpleUploadedFile("scan.png", png(), content_type="image/png"),
    )
    from groups import services as group_services
    from tests.factories import made_membership

    group = group_services.group_create_for_patient(actor=cm, patient=patient)
    made_membership(group, cm, people["user"])  # a supporter: sees the patient, not the paper
    url = reverse("consents:consent_scan", args=[consent.pk])
    response = client_as("group_manager").get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AuditTrail.objects.filter(
        action="patient.view", changes__via="consents:consent_scan"
    ).exists()
    for role in ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"):
        assert client_as(role).get(url).status_code == 404, role
    assert client_as("anonymous").get(url).status_code == 302


def test_withdrawal_is_recorded_and_never_deletes(demo, people, client_as):
    consent = Consent.objects.get(patient__name="上越花子")
    client = client_as("group_manager")
    url = reverse("consents:consent_withdraw", args=[consent.pk])
    refused = client.post(url, {"withdrawn_on": "", "reported_by": "", "method": ""})
    html = refused.content.decode()
    assert "撤回日を入力してください" in html and "撤回を申し出た人を入力してください" in html
    response = client.post(
        url,
        {
            "withdrawn_on": timezone.localdate().isoformat(),
            "reported_by": "本人",
            "method": "writing",
        },
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == Consent.Status.INACTIVE
    assert consent.withdrawn_on == timezone.localdate()
    assert consent.withdrawal_reported_by == "本人" and consent.withdrawal_method == "writing"
    assert consent.withdrawal_recorded_by == people["group_manager"]
    assert Consent.objects.filter(pk=consent.pk).exists()
    assert client.get(url).status_code == 404  # nothing left to withdraw
    with pytest.raises((PermissionDenied, ValidationError)):
        services.consent_withdraw(
            actor=people["group_manager"],
            consent=consent,
            withdrawn_on=timezone.localdate(),
            reported_by="本人",
            method="phone",
        )
    # Access ended with the consent: its custodian opens it with a purpose (access-logged).
    detail_url = reverse("consents:consent_detail", args=[consent.pk])
    assert client.get(detail_url).status_code == 302
    opening = reverse("consents:record_open", args=[consent.patient_id])
    client.post(opening, {"purpose": "correction"})
    detail = client.get(detail_url).content.decode()
    assert "撤回済み" in detail and "書面で" in detail


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_the_manager_withdraws_or_marks_an_error(demo, people, role):
    consent = Consent.objects.get(patient__name="山田太郎")
    with pytest.raises(PermissionDenied):
        services.consent_withdraw(
            actor=people[role],
            consent=consent,
            withdrawn_on=timezone.localdate(),
            reported_by="本人",
            method="phone",
        )
    with pytest.raises(PermissionDenied):
        services.consent_mark_entered_in_error(actor=people[role], consent=consent, reason="x")


def test_entered_in_error_is_a_state(demo, people, client_as):
    consent = Consent.objects.get(patient__name="山田太郎")
    response = client_as("group_manager").post(
        reverse("consents:consent_error", args=[consent.pk]), {"reason": "別人の同意書"}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == "entered-in-error" and consent.error_reason == "別人の同意書"
    # A new consent can be recorded now, by a custodian who states why they open the record
    # (its care ended with the consent, 別紙5 (2)).
    client = client_as("group_manager")
    create = reverse("consents:consent_create", args=[consent.patient_id])
    assert client.get(create).status_code == 404
    client.post(reverse("consents:record_open", args=[consent.patient_id]), {"purpose": "restart"})
    assert client.get(create).status_code == 200


def test_covered_facilities_are_widened_only_by_a_signed_addendum(demo, people, client_as):
    consent = Consent.objects.get(patient__name="上越花子")
    client = client_as("group_manager")
    ids = [*consent.covered_facilities.values_list("pk", flat=True), demo["takada"].pk]
    response = client.post(
        reverse("consents:consent_facilities", args=[consent.pk]), {"covered_facilities": ids}
    )
    assert response.status_code == 200  # refused: widening needs the patient's signature
    assert "追加同意書" in response.content.decode()
    assert demo["takada"].pk not in set(consent.covered_facilities.values_list("pk", flat=True))
    response = client.post(
        reverse("consents:addendum_create", args=[consent.pk]), {"facilities": [demo["takada"].pk]}
    )
    assert response.status_code == 302
    addendum = consent.addenda.get()
    response = client.post(
        reverse("consents:addendum_sign", args=[addendum.pk]),
        {"signed_on": "2026-05-01", "paper_kept_at_facility": "on"},
    )
    assert response.status_code == 302
    from groups import services as group_services
    from groups.models import Group

    group_services.membership_invite(
        actor=people["group_manager"],
        group=Group.objects.get(patient=consent.patient),
        user=people["user"],
    )


def test_nobody_but_the_manager_opens_a_consent(demo, client_as):
    consent = Consent.objects.get(patient__name="上越花子")
    for role in ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"):
        response = client_as(role).get(reverse("consents:consent_detail", args=[consent.pk]))
        assert response.status_code == 404
        for text in JOETSU_DETAILS:
            assert not shown(text, response.content.decode())


def test_the_patients_page_links_from_consent_to_group(demo, client_as):
    patient = Patient.objects.get(name="山田太郎")
    html = (
        client_as("group_manager")
        .get(reverse("consents:patient_detail", args=[patient.pk]))
        .content.decode()
    )
    assert "同意書の記録" in html and "山田太郎さんのグループ" in html
