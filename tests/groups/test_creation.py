"""Patient groups only with a valid consent, one per patient; free groups for anyone; the
all-users group for every active user (第8条, 第9条2項, 留意事項 1)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from consents import services as consent_services
from groups import permissions, selectors, services
from groups.models import Group, Membership
from mcnet.models import AuditEvent
from tests.demo_objects import patient_named, yamada_group
from tests.factories import made_consent, made_patient, made_patient_group


def test_creating_a_group_without_consent_fails_and_says_why(demo, people):
    cm = people["group_manager"]
    patient = made_patient(manager=cm, facility=demo["kasugano"])
    with pytest.raises(ValidationError) as exc:
        services.group_create_for_patient(actor=cm, patient=patient)
    assert exc.value.code == "no_consent"
    assert "同意書" in exc.value.messages[0] and "第9条" in exc.value.messages[0]
    assert not Group.objects.filter(patient=patient).exists()


def test_the_form_refuses_a_patient_without_consent_and_names_the_rule(demo, people, client_as):
    cm = people["group_manager"]
    patient = made_patient(manager=cm, facility=demo["kasugano"])
    response = client_as("group_manager").post(
        reverse("groups:create_patient_group"), {"patient": patient.pk}
    )
    assert response.status_code == 200
    assert "有効な同意書がありません" in response.content.decode()
    assert not Group.objects.filter(patient=patient).exists()


def test_a_withdrawn_consent_is_no_consent(demo, people):
    cm = people["group_manager"]
    patient = made_patient(manager=cm, facility=demo["kasugano"])
    consent = made_consent(manager=cm, patient=patient)
    consent_services.consent_withdraw(
        actor=cm,
        consent=consent,
        withdrawn_on=consent.signed_on,
        reported_by="本人",
        method="phone",
    )
    with pytest.raises(ValidationError, match="同意書"):
        services.group_create_for_patient(actor=cm, patient=patient)


def test_a_second_working_group_for_the_same_patient_fails(demo, people):
    cm = people["group_manager"]
    patient = patient_named("山田太郎")
    with pytest.raises(ValidationError) as exc:
        services.group_create_for_patient(actor=cm, patient=patient)
    assert exc.value.code == "duplicate"
    assert "山田太郎さんのグループ" in exc.value.messages[0]
    assert Group.objects.filter(patient=patient).count() == 1


def test_the_database_refuses_a_second_working_group_too(demo):
    """The partial unique index holds even when a write skips the service."""
    yamada = yamada_group()
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.create(
            kind=Group.Kind.PATIENT, name="x", patient=yamada.patient, facility=yamada.facility
        )


def test_a_patient_group_always_has_exactly_one_patient(demo):
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.create(kind=Group.Kind.PATIENT, name="患者なし")
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.create(kind=Group.Kind.FREE, name="患者あり", patient=yamada_group().patient)


def test_after_archiving_a_new_group_may_be_made_for_the_patient(demo, people):
    cm = people["group_manager"]
    myoko = patient_named("妙高次郎")  # the demo's archived group
    assert Group.objects.get(patient=myoko).state == Group.State.ARCHIVED
    group = services.group_create_for_patient(actor=cm, patient=myoko)
    assert group.state == Group.State.ACTIVE
    assert Group.objects.filter(patient=myoko).count() == 2


def test_the_group_is_named_after_the_patient_and_its_creator_manages_it(demo, people):
    cm = people["group_manager"]
    group = made_patient_group(manager=cm, facility=demo["kasugano"], name="新潟三郎")
    assert group.name == "新潟三郎さんのグループ"
    assert group.manager == cm and group.facility == demo["kasugano"]
    assert group.memberships.get().state == Membership.State.ACCEPTED
    assert permissions.is_manager_of(cm, group)
    event = AuditEvent.objects.filter(action="group.create").latest("id")
    assert event.object_id == str(group.pk) and "新潟" not in str(event.changes) + event.object_repr


def test_the_name_follows_a_name_correction(demo, people):
    cm = people["group_manager"]
    patient = patient_named("山田太郎")
    consent_services.patient_update(actor=cm, patient=patient, name="山田 太朗")
    assert yamada_group_by_patient(patient).name == "山田 太朗さんのグループ"


def yamada_group_by_patient(patient):
    return Group.objects.get(patient=patient)


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_a_patient_group_manager_of_the_facility_creates_patient_groups(demo, people, role):
    cm = people["group_manager"]
    patient = made_patient(manager=cm, facility=demo["kasugano"])
    made_consent(manager=cm, patient=patient)
    with pytest.raises(PermissionDenied):
        services.group_create_for_patient(actor=people[role], patient=patient)


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "group_manager"]
)
def test_anyone_may_create_a_free_group(demo, people, role, client_as):
    response = client_as(role).post(
        reverse("groups:create_free_group"), {"name": f"{role}の勉強会", "description": ""}
    )
    group = Group.objects.get(name=f"{role}の勉強会")
    assert response.status_code == 302 and response["Location"] == reverse(
        "groups:detail", args=[group.pk]
    )
    assert group.kind == Group.Kind.FREE and group.patient is None
    assert group.manager == people[role]


def test_every_active_user_is_in_the_all_users_group_without_rows(demo, people):
    group = selectors.all_users_group()
    assert not group.memberships.exists()
    for role in ("user", "other_facility_user", "mcs_admin", "group_manager", "center"):
        assert selectors.groups_visible_to(people[role]).filter(pk=group.pk).exists()
    nurse = people["user"]
    nurse.state = nurse.State.LEFT
    nurse.save()
    assert not selectors.groups_visible_to(nurse).filter(pk=group.pk).exists()


def test_there_is_one_all_users_group(demo):
    selectors.all_users_group()
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.create(kind=Group.Kind.ALL_USERS, name="二つ目")


def test_nobody_invites_into_the_all_users_group(demo, people):
    with pytest.raises((ValidationError, PermissionDenied)):
        services.membership_invite(
            actor=people["center"], group=selectors.all_users_group(), user=people["user"]
        )
