"""別紙7's covered facilities at the network's size: the form shows the facilities in the
patient's care, those chosen and those searched for — never every facility — and a search works
without JavaScript (mcnet.picker) and as one types (facilities:facility_picker_search)."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consents.models import Consent
from facilities.models import Facility
from facilities.search import search_key
from groups import services as group_services
from groups.models import Group, Membership
from tests.factories import made_consent

from .test_consents import consent_form as signed_form

MANY = 2_000


def consent_form(demo, **overrides) -> dict:
    return signed_form(demo, paper_kept_at_facility="on", **overrides)


def many_facilities(n: int = MANY) -> list[Facility]:
    names = [f"在宅支援事業所{i:04d}" for i in range(n)]
    return Facility.objects.bulk_create(
        Facility(name=name, kind="care_service", state="active", search_name=search_key(name))
        for name in names
    )


def checkboxes(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="covered_facilities" value="(\d+)"', html)


def test_the_form_at_two_thousand_facilities_shows_fewer_than_a_hundred_checkboxes(
    demo, client_as, patient
):
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    client.get(url)  # the session's first page reads more (idle clock, MFA)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    many_facilities()
    with CaptureQueriesContext(connection) as lots:
        html = client.get(url).content.decode()
    shown = checkboxes(html)
    assert 0 < len(shown) < 100
    assert len(lots) == len(few)  # the page reads no facility list whatever the network's size
    # The facility holding the record is covered unless unticked.
    kasugano = demo["kasugano"].pk
    assert re.search(rf'value="{kasugano}"[^>]*checked', html)
    assert "在宅支援事業所" not in html
    assert 'name="covered_facilities_q"' in html and 'name="covered_facilities_search"' in html
    assert f'data-picker-url="{reverse("facilities:facility_picker_search")}"' in html


def test_a_search_without_javascript_adds_matches_and_keeps_what_was_typed(
    demo, client_as, patient
):
    many_facilities(50)
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    data = {
        **consent_form(demo, covered_facilities=[demo["kasugano"].pk]),
        "explainer_name": "春日野次郎",
        "covered_facilities_q": "ＡＢＣ",
        "covered_facilities_search": "1",
    }
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Consent.objects.filter(patient=patient).exists()  # a search saves nothing
    assert demo["abc"].name in html and str(demo["abc"].pk) in checkboxes(html)
    assert re.search(rf'value="{demo["kasugano"].pk}"[^>]*checked', html)  # still chosen
    assert 'value="春日野次郎"' in html
    assert "を加えました" in html and "errorlist" not in html
    assert "まだ記録していません" in html
    # Then ticked and sent: recorded with both.
    data = consent_form(demo, covered_facilities=[demo["kasugano"].pk, demo["abc"].pk])
    assert client.post(url, data).status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert set(consent.covered_facilities.all()) == {demo["kasugano"], demo["abc"]}


def test_a_search_that_finds_nothing_says_so(demo, client_as, patient):
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    data = {
        **consent_form(demo),
        "covered_facilities_q": "存在しない名前",
        "covered_facilities_search": "1",
    }
    html = client.post(url, data).content.decode()
    assert "「存在しない名前」に合うものは見つかりませんでした。" in html


def test_any_active_facility_may_be_chosen_but_no_other(demo, client_as, patient):
    far = many_facilities(30)[-1]
    closed = Facility.objects.create(name="閉鎖した事業所", kind="clinic", state="withdrawn")
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    refused = client.post(url, consent_form(demo, covered_facilities=[closed.pk]))
    assert refused.status_code == 200 and not Consent.objects.filter(patient=patient).exists()
    assert client.post(url, consent_form(demo, covered_facilities=[far.pk])).status_code == 302
    assert list(Consent.objects.get(patient=patient).covered_facilities.all()) == [far]


def test_a_new_consent_covers_the_facilities_of_the_earlier_one(demo, people, client_as, patient):
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    client.post(url, consent_form(demo))  # 春日野 and ABC
    html = client.get(url).content.decode()
    for facility in (demo["kasugano"], demo["abc"]):
        assert re.search(rf'value="{facility.pk}"[^>]*checked', html), facility.name


def test_the_search_as_one_types_answers_signed_in_people_only(demo, client, client_as):
    many_facilities(40)
    url = reverse("facilities:facility_picker_search")
    found = client_as("user").get(url, {"q": "在宅支援"}).json()["results"]
    assert len(found) == 20  # a page of matches, never the whole network
    assert all(set(item) == {"id", "label"} for item in found)
    assert found[0]["label"].startswith("在宅支援事業所0000（介護サービス事業所")
    assert client_as("user").get(url, {"q": " "}).json() == {"results": []}
    assert client.logout() is None
    assert client.get(url, {"q": "在宅"}).status_code == 302


def test_the_addendum_offers_by_search_only_facilities_not_yet_covered(demo, client_as, patient):
    many_facilities(30)
    client = client_as("group_manager")
    client.post(reverse("consents:consent_create", args=[patient.pk]), consent_form(demo))
    consent = Consent.objects.get(patient=patient)  # covers 春日野 and ABC
    url = reverse("consents:addendum_create", args=[consent.pk])
    assert checkboxes_named(client.get(url).content.decode(), "facilities") == []
    html = client.post(
        url, {"facilities_q": "クリニック", "facilities_search": "1"}
    ).content.decode()
    assert str(demo["abc"].pk) not in checkboxes_named(html, "facilities")  # covered already
    html = client.post(url, {"facilities_q": "高田", "facilities_search": "1"}).content.decode()
    assert checkboxes_named(html, "facilities") == [str(demo["takada"].pk)]
    assert client.post(url, {"facilities": [demo["takada"].pk]}).status_code == 302


def checkboxes_named(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="checkbox" name="{name}" value="(\d+)"', html)


def test_a_hostile_search_is_answered_not_crashed(demo, client_as, patient):
    client = client_as("group_manager")
    url = reverse("consents:consent_create", args=[patient.pk])
    data = {
        **consent_form(demo),
        "covered_facilities_q": "高\x00田" * 200,
        "covered_facilities_search": "1",
    }
    assert client.post(url, data).status_code == 200
    search = reverse("facilities:facility_picker_search")
    assert client.get(search, {"q": "高\x00田"}).status_code == 200


def checked(html: str) -> set[int]:
    return {
        int(pk) for pk in re.findall(r'name="covered_facilities" value="(\d+)"[^>]*checked', html)
    }


def test_with_no_care_team_the_registering_facility_alone_is_covered(demo, client_as, patient):
    html = client_as("group_manager").get(reverse("consents:consent_create", args=[patient.pk]))
    assert checked(html.content.decode()) == {demo["kasugano"].pk}


def test_the_facilities_of_the_care_team_are_covered_unless_unticked(
    demo, people, client_as, patient
):
    """The people already caring for the patient keep seeing them under the new consent: the
    facilities they came through are ticked (an archived group's are not: its care ended)."""
    made_consent(manager=people["group_manager"], patient=patient, covered=[demo["kasugano"]])
    group = group_services.group_create_for_patient(actor=people["group_manager"], patient=patient)
    # A team member who came through 高田 (recorded before this consent: the demo's own rows).
    Membership.objects.create(
        group=group, user=people["user"], state="accepted", via_facility=demo["takada"]
    )
    ended = Group.objects.create(
        kind="patient",
        name="old",
        patient=patient,
        facility=demo["abc"],
        state="archived",
        archived_at=timezone.now(),
    )
    Membership.objects.create(
        group=ended, user=people["other_facility_user"], state="accepted", via_facility=demo["abc"]
    )
    html = client_as("group_manager").get(reverse("consents:consent_create", args=[patient.pk]))
    assert checked(html.content.decode()) == {demo["kasugano"].pk, demo["takada"].pk}
