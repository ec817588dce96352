"""第8条(1), 留意事項4: the patient-group manager watches what is written to MCS. The supporter
review confirms the timeline was checked; a post deleted in MCS is recorded (date, category, a
note without patient details); the center sees counts per facility, never a patient."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.models import PostDeletion, SupporterReview
from mcnet.models import AuditEvent
from tests.demo_objects import yamada_group

PATIENT_TEXTS = ("山田太郎", "やまだ たろう")


def _yesterday() -> str:
    return (timezone.localdate() - dt.timedelta(days=1)).isoformat()


def test_a_review_requires_the_timeline_check(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("group_manager")
    url = reverse("groups:review", args=[yamada.pk])
    page = client.get(url).content.decode()
    assert (
        'name="timeline_checked"' in page
        and "required" in page.split('name="timeline_checked"')[1].split(">")[0]
    )
    before = SupporterReview.objects.filter(group=yamada).count()
    refused = client.post(url, {"note": ""})
    assert refused.status_code == 200
    assert "タイムラインを確認し" in refused.content.decode()
    assert SupporterReview.objects.filter(group=yamada).count() == before
    with pytest.raises(ValidationError):
        services.supporter_review_record(actor=people["group_manager"], group=yamada)
    assert SupporterReview.objects.filter(group=yamada).count() == before

    assert client.post(url, {"timeline_checked": "on"}).status_code == 302
    review = SupporterReview.objects.filter(group=yamada).latest("reviewed_at")
    assert review.timeline_checked
    event = AuditEvent.objects.filter(action="group.review", object_id=str(yamada.pk)).latest("pk")
    assert event.changes["timeline_checked"] is True
    assert "タイムライン確認済み" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("category", "label"),
    [
        ("other_patient", "別の患者の情報"),
        ("inappropriate", "不適切な内容"),
        ("wrong_group", "グループの間違い"),
        ("other", "その他"),
    ],
)
def test_the_manager_records_a_post_deleted_in_mcs(demo, client_as, category, label):
    yamada = yamada_group()
    client = client_as("group_manager")
    url = reverse("groups:post_deletion", args=[yamada.pk])
    page = client.get(url).content.decode()
    # The form says the note holds no patient details, and offers the four categories.
    assert "患者の氏名・病状など、患者の情報は書かないでください" in page
    for text in ("別の患者の情報", "不適切な内容", "グループの間違い", "その他"):
        assert text in page
    response = client.post(
        url, {"deleted_on": _yesterday(), "category": category, "note": "別の方の訪問予定"}
    )
    assert response.status_code == 302
    deletion = PostDeletion.objects.get(group=yamada)
    assert (deletion.category, deletion.note) == (category, "別の方の訪問予定")
    event = AuditEvent.objects.get(action="group.post_deletion", object_id=str(deletion.pk))
    assert event.changes == {
        "group": yamada.pk,
        "category": category,
        "deleted_on": deletion.deleted_on.isoformat(),
    }
    assert label in client.get(url).content.decode()


@pytest.mark.parametrize("note", ["山田太郎さんの別の投稿", "山田　太郎 様の件", "やまだたろう"])
def test_a_note_naming_the_patient_is_refused(demo, client_as, note):
    yamada = yamada_group()
    response = client_as("group_manager").post(
        reverse("groups:post_deletion", args=[yamada.pk]),
        {"deleted_on": _yesterday(), "category": "inappropriate", "note": note},
    )
    assert response.status_code == 200
    assert "メモに患者の氏名を書かないでください" in response.content.decode()
    assert not PostDeletion.objects.exists()


def test_bad_input_is_refused_with_a_message(demo, client_as):
    yamada = yamada_group()
    url = reverse("groups:post_deletion", args=[yamada.pk])
    client = client_as("group_manager")
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page = client.post(url, {"deleted_on": future, "category": "other"}).content.decode()
    assert "未来の日付は入力できません" in page
    page = client.post(url, {"deleted_on": _yesterday(), "category": "spam"}).content.decode()
    assert "正しく選択してください" in page
    page = client.post(
        url, {"deleted_on": _yesterday(), "category": "other", "note": "あ" * 201}
    ).content.decode()
    assert "200" in page
    assert not PostDeletion.objects.exists()


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_the_manager_records_a_deletion(demo, people, role):
    with pytest.raises(PermissionDenied):
        services.post_deletion_record(
            actor=people[role],
            group=yamada_group(),
            deleted_on=timezone.localdate(),
            category="other",
        )
    assert not PostDeletion.objects.exists()


def test_the_center_sees_counts_per_facility_and_no_patient(demo, people, client_as):
    yamada = yamada_group()
    cm = people["group_manager"]
    for category in ("other_patient", "other_patient", "wrong_group"):
        services.post_deletion_record(
            actor=cm,
            group=yamada,
            deleted_on=timezone.localdate(),
            category=category,
            note="別の利用者の予定",
        )
    page = client_as("center").get(reverse("groups:center_monitoring")).content.decode()
    row = page.split("春日野居宅介護支援事業所</th>")[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    # other patient, inappropriate, wrong group, other, total, reviews checked (the demo's).
    assert cells[:6] == ["2", "0", "1", "0", "3", "1"]
    assert f"患者グループ No.{yamada.pk}（春日野居宅介護支援事業所）" in page
    for text in (*PATIENT_TEXTS, yamada.name, "別の利用者の予定"):
        assert text not in page
    patient = yamada.patient
    assert patient.address and patient.address not in page


def test_erasing_the_patient_blanks_the_free_text_of_monitoring(demo, people):
    """別紙6: the notes kept beside a patient's group go with the patient's personal data."""
    yamada = yamada_group()
    cm = people["group_manager"]
    deletion = services.post_deletion_record(
        actor=cm, group=yamada, deleted_on=timezone.localdate(), category="other", note="重複投稿"
    )
    attestation = yamada.attestations.get()  # the demo's, left open
    services.group_discrepancy_resolve(actor=cm, attestation=attestation, resolution="解除した")
    services.groups_erase_for_patients(patient_ids=[yamada.patient_id])
    deletion.refresh_from_db()
    attestation.refresh_from_db()
    assert deletion.note == "" and attestation.resolution == ""
    assert deletion.category == "other" and attestation.resolved_at is not None
