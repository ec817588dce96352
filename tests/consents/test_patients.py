"""Patients (基本設定 3): registered by a patient-group manager at their own facility with only
what a group needs; kana in one form; seen only by those involved; every opening logged."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from consents import selectors, services
from consents.models import Patient
from groups.models import Group
from mcnet.models import AuditEvent, AuditTrail

ROLES = ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "group_manager", "center")


def form_data(**overrides) -> dict:
    data = {
        "name": "新潟三郎",
        "kana": "にいがた さぶろう",
        "birth_date": "1945-05-05",
        "sex": "male",
        "address": "新潟県上越市大手町1-1",
        "phone": "０２５ー５５５ー０９０９",
    }
    return {**data, **overrides}


def test_a_patient_group_manager_registers_a_patient_at_their_facility(demo, people, client_as):
    client = client_as("group_manager")
    response = client.post(
        reverse("consents:patient_create"), form_data(facility=demo["kasugano"].pk)
    )
    patient = Patient.objects.get(name="新潟三郎")
    assert response.status_code == 302
    assert response["Location"] == reverse("consents:consent_create", args=[patient.pk])
    assert patient.facility == demo["kasugano"] and patient.registered_by == people["group_manager"]
    assert patient.kana == "ニイガタ サブロウ"  # hiragana stored as katakana
    assert patient.phone == "025-555-0909"  # full-width digits and dash normalized
    event = AuditEvent.objects.get(action="patient.register", object_id=str(patient.pk))
    assert "新潟" not in str(event.changes) and "新潟" not in event.object_repr
    assert event.facility_id == demo["kasugano"].pk


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("やまだ はなこ", "ヤマダ ハナコ"),
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダ ハナコ"),
        ("ヤマダ　ハナコ", "ヤマダ ハナコ"),
    ],
)
def test_kana_of_any_width_and_script_is_stored_in_one_form(demo, people, typed, stored):
    patient = services.patient_register(
        actor=people["group_manager"], facility=demo["kasugano"], name="山田花子", kana=typed
    )
    assert patient.kana == stored


def test_name_and_kana_are_required_and_the_rest_optional(demo, client_as):
    client = client_as("group_manager")
    response = client.post(
        reverse("consents:patient_create"),
        {"facility": demo["kasugano"].pk, "name": "", "kana": ""},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "氏名を入力してください" in html and "ふりがなを入力してください" in html
    assert not Patient.objects.filter(facility=demo["kasugano"], name="").exists()
    ok = client.post(
        reverse("consents:patient_create"),
        {"facility": demo["kasugano"].pk, "name": "最小限", "kana": "さいしょうげん"},
    )
    assert ok.status_code == 302


def test_bad_input_names_the_field(demo, client_as):
    response = client_as("group_manager").post(
        reverse("consents:patient_create"),
        form_data(
            facility=demo["kasugano"].pk, kana="Yamada", birth_date="2999-01-01", phone="abc"
        ),
    )
    html = response.content.decode()
    assert "ふりがなは、ひらがなかカタカナで入力してください" in html
    assert "生年月日に未来の日付は入力できません" in html
    assert "電話番号は数字とハイフンで入力してください" in html
    assert not Patient.objects.filter(name="新潟三郎").exists()


@pytest.mark.parametrize("role", [r for r in ROLES if r != "group_manager"])
def test_only_a_patient_group_manager_registers(demo, people, client_as, role):
    assert client_as(role).get(reverse("consents:patient_create")).status_code == 403
    with pytest.raises(PermissionDenied):
        services.patient_register(
            actor=people[role], facility=demo["kasugano"], name="x", kana="えっくす"
        )


def test_a_manager_registers_only_at_their_own_facility(demo, people, client_as):
    with pytest.raises(PermissionDenied):
        services.patient_register(
            actor=people["group_manager"], facility=demo["abc"], name="x", kana="えっくす"
        )
    response = client_as("group_manager").post(
        reverse("consents:patient_create"), form_data(facility=demo["abc"].pk)
    )
    assert response.status_code == 200 and not Patient.objects.filter(name="新潟三郎").exists()


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("user", {"山田太郎"}),  # member of 山田太郎's group only
        # Member of all three, but 妙高次郎's group is archived: access ended with his care.
        ("other_facility_user", {"山田太郎", "上越花子"}),
        ("mcs_admin", set()),  # only invited
        ("other_mcs_admin", set()),
        # Registered them; 妙高次郎's record is opened by its custodians with a purpose only.
        ("group_manager", {"山田太郎", "上越花子"}),
        ("center", set()),
    ],
)
def test_each_role_sees_only_the_patients_it_is_involved_with(demo, people, role, sees):
    names = set(selectors.patients_visible_to(people[role]).values_list("name", flat=True))
    assert names == sees


def test_a_name_correction_renames_the_group_and_is_audited_without_values(demo, people, client_as):
    patient = Patient.objects.get(name="上越花子")
    client = client_as("group_manager")
    response = client.post(
        reverse("consents:patient_edit", args=[patient.pk]),
        {
            "name": "上越 華子",
            "kana": "じょうえつ はなこ",
            "birth_date": "1942-09-03",
            "sex": "female",
            "address": patient.address,
            "phone": patient.phone,
        },
    )
    assert response.status_code == 302
    assert Group.objects.get(patient=patient).name == "上越 華子さんのグループ"
    event = AuditEvent.objects.filter(action="patient.update").latest("id")
    assert event.changes == {"fields": ["name"]}


@pytest.mark.parametrize("role", ["user", "other_facility_user", "mcs_admin", "center"])
def test_only_the_manager_corrects_a_patient(demo, people, client_as, role):
    patient = Patient.objects.get(name="山田太郎")
    assert (
        client_as(role).get(reverse("consents:patient_edit", args=[patient.pk])).status_code == 404
    )
    with pytest.raises(PermissionDenied):
        services.patient_update(actor=people[role], patient=patient, name="x")


def test_a_member_sees_the_patient_page_and_the_opening_is_logged(demo, people, client_as):
    patient = Patient.objects.get(name="山田太郎")
    page = client_as("user").get(reverse("consents:patient_detail", args=[patient.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "1938年4月12日" in html
    assert "同意書の記録" not in html  # consents are for those who handle the paper
    assert AuditTrail.objects.filter(
        action="patient.view", actor=people["user"], object_id=str(patient.pk)
    ).exists()
