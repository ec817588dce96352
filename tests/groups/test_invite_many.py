"""第8条(2): several supporters invited in one go — chosen across searches without losing them,
shown in a summary, then sent all or none."""

import re

import pytest
from django.urls import reverse

from groups import services
from groups.models import Membership
from mcnet.models import AuditEvent, Notification
from tests.demo_objects import user
from tests.factories import made_consent, made_patient, made_patient_group

THREE = ("nurse@takada.example.jp", "doctor@abc.example.jp", "admin@abc.example.jp")


@pytest.fixture
def group(demo, people):
    return made_patient_group(manager=people["group_manager"], facility=demo["kasugano"])


def chosen_in(html: str) -> set[int]:
    return {
        int(pk)
        for pk in re.findall(r'<input type="checkbox" name="chosen" value="(\d+)" checked', html)
    }


def test_three_supporters_are_invited_in_one_go(demo, people, client_as, group):
    client = client_as("group_manager")
    url = reverse("groups:invite", args=[group.pk])
    nurse, doctor, admin_abc = (user(email) for email in THREE)
    # Chosen in one search, then another search: the first choice stays chosen.
    page = client.get(url, {"q": "たかだ", "chosen": [nurse.pk]}).content.decode()
    assert chosen_in(page) == {nurse.pk}
    page = client.get(url, {"facility": demo["abc"].pk, "chosen": [nurse.pk]}).content.decode()
    assert chosen_in(page) == {nurse.pk}
    assert f'name="chosen" value="{doctor.pk}"' in page
    # The summary: who, from where; nothing sent yet.
    query = {"facility": demo["abc"].pk, "chosen": [nurse.pk, doctor.pk, admin_abc.pk]}
    review = client.get(url, {**query, "review": "1"}).content.decode()
    assert "次の 3 人を招待します" in review and "3 人を招待する" in review
    for person in (nurse, doctor, admin_abc):
        assert person.name in review
    assert not group.memberships.filter(state=Membership.State.INVITED).exists()
    back = re.search(r'href="([^"]+)">戻って選び直す', review).group(1)
    assert "review" not in back and f"chosen={doctor.pk}" in back
    # Sent: three invitations, three notifications, three audit events.
    response = client.post(url, {"users": [nurse.pk, doctor.pk, admin_abc.pk]}, follow=True)
    assert "（3 人）を招待しました" in response.content.decode()
    invited = set(
        group.memberships.filter(state=Membership.State.INVITED).values_list(
            "user__email", flat=True
        )
    )
    assert invited == set(THREE)
    told = Notification.objects.filter(
        kind="groups.invitation", title__contains=group.name, recipient__email__in=THREE
    )
    assert told.count() == 3
    assert AuditEvent.objects.filter(action="membership.invite").count() >= 3


@pytest.fixture
def narrow_group(demo, people):
    """A patient group whose consent covers 春日野 and 高田 only."""
    manager = people["group_manager"]
    patient = made_patient(manager=manager, facility=demo["kasugano"], name="妙高四郎")
    made_consent(manager=manager, patient=patient, covered=[demo["kasugano"], demo["takada"]])
    return services.group_create_for_patient(actor=manager, patient=patient)


def test_one_refusal_invites_nobody_and_says_who(demo, people, client_as, narrow_group):
    """ABC's doctor is not covered by the consent: nobody is invited, and the page says why."""
    client = client_as("group_manager")
    url = reverse("groups:invite", args=[narrow_group.pk])
    nurse_takada_admin = user("admin@takada.example.jp")
    doctor = user("doctor@abc.example.jp")
    before = narrow_group.memberships.count()
    response = client.post(url, {"users": [doctor.pk, nurse_takada_admin.pk]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "誰も招待していません" in html
    assert f"{doctor.name} さんの事業所は、この患者の同意書の対象事業所に含まれていません" in html
    assert narrow_group.memberships.count() == before


def test_more_than_the_limit_at_once_is_refused(demo, people, group):
    many = [user(email) for email in THREE] * (services.MAX_INVITES_AT_ONCE // 3 + 1)
    with pytest.raises(Exception, match="一度に招待できるのは"):
        services.memberships_invite(actor=people["group_manager"], group=group, users=many)
    assert not group.memberships.filter(state=Membership.State.INVITED).exists()


@pytest.mark.parametrize("role", ["user", "other_facility_user", "mcs_admin", "center"])
def test_only_the_manager_invites_several(demo, client_as, group, role):
    url = reverse("groups:invite", args=[group.pk])
    nurse = user(THREE[0])
    assert client_as(role).post(url, {"users": [nurse.pk]}).status_code == 404
    assert not group.memberships.filter(state=Membership.State.INVITED).exists()


def test_a_patient_groups_facility_filter_lists_only_the_covered_facilities(
    demo, client_as, narrow_group
):
    url = reverse("groups:invite", args=[narrow_group.pk])
    html = client_as("group_manager").get(url).content
    select = re.search(r'<select name="facility".*?</select>', html.decode(), re.S).group(0)
    assert demo["takada"].name in select and demo["abc"].name not in select


def test_a_free_group_finds_people_by_typing_part_of_a_facility_name(demo, people, client_as):
    """Any facility of the network may be searched (a free group): typed, never a list of all."""
    free = services.group_create_free(actor=people["group_manager"], name="多職種勉強会")
    client = client_as("group_manager")
    url = reverse("groups:invite", args=[free.pk])
    html = client.get(url).content.decode()
    assert '<select name="facility"' not in html and 'name="facility_name"' in html
    html = client.get(url, {"facility_name": "ａｂｃ"}).content.decode()
    found = set(re.findall(r'name="chosen" value="(\d+)"', html))
    assert str(user("doctor@abc.example.jp").pk) in found
    assert str(user("nurse@takada.example.jp").pk) not in found
