"""Every page below the home says where it sits (home › section › page), and the trail never
names a patient: center staff see pages of groups too (留意事項 4: the center does not see
patients' personal data)."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from consents.models import Patient
from groups.models import Group
from tests.security.expectations import EXPECTATIONS

ROLES = ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "group_manager", "center")
NAV_RE = re.compile(r'<nav class="breadcrumbs" aria-label="パンくずリスト">(.*?)</nav>', re.S)


def main_pages(demo) -> list[str]:
    patient = Patient.objects.get(name="山田太郎")
    group = Group.objects.get(patient=patient)
    facility = demo["kasugano"]
    return [
        reverse("groups:list"),
        reverse("groups:detail", args=[group.pk]),
        reverse("groups:invite", args=[group.pk]),
        reverse("groups:review", args=[group.pk]),
        reverse("consents:patient_list"),
        reverse("consents:patient_create"),
        reverse("consents:patient_detail", args=[patient.pk]),
        reverse("consents:patient_edit", args=[patient.pk]),
        reverse("consents:consent_create", args=[patient.pk]),
        reverse("facilities:mine"),
        reverse("facilities:detail", args=[facility.pk]),
        reverse("facilities:staff", args=[facility.pk]),
        reverse("devices:index"),
        reverse("devices:device_list"),
        reverse("enrollment:index"),
        reverse("rulebook:index"),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_main_page_has_a_trail_home_without_a_patients_name(demo, client_as, role):
    client = client_as(role)
    patients = list(Patient.objects.values_list("name", "kana"))
    shown = 0
    for url in main_pages(demo):
        response = client.get(url)
        if response.status_code != 200:
            continue  # pages a role may not open are the permission matrix's business
        shown += 1
        trails = NAV_RE.findall(response.content.decode())
        assert len(trails) == 1, url
        trail = trails[0]
        assert f'href="{reverse("home")}"' in trail and "ホーム" in trail, url
        assert trail.count("<li") >= 2, url  # home and at least the page itself
        for name, kana in patients:
            assert name not in trail and kana not in trail, (url, role)
    assert shown >= 3  # every role opens several of the main pages


def test_the_trail_leads_back_through_the_section(demo, client_as):
    patient = Patient.objects.get(name="山田太郎")
    group = Group.objects.get(patient=patient)
    html = client_as("group_manager").get(reverse("groups:invite", args=[group.pk]))
    trail = NAV_RE.search(html.content.decode()).group(1)
    home, groups, detail = (
        reverse("home"),
        reverse("groups:list"),
        reverse("groups:detail", args=[group.pk]),
    )
    assert trail.index(home) < trail.index(groups) < trail.index(f'"{detail}"')
    assert 'aria-current="page">メンバーを招待' in trail


def test_the_home_page_has_no_trail(demo, client_as):
    assert "パンくずリスト" not in client_as("user").get(reverse("home")).content.decode()


# Pages of the base layout that are not below the home (the home itself, the sign-in pages).
NO_TRAIL = {"home"}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_app_has_a_trail(demo, client_as, role, settings):
    """Walks every URL pattern the permission matrix knows (tests/security/expectations*.py):
    each page a role opens (200, the base layout) shows one trail home, of at least the home and
    the page, and no patient's name in it."""
    settings.MCNET_REQUIRE_MFA = True
    client = client_as(role)
    patients = list(Patient.objects.values_list("name", "kana"))
    wrong, shown = [], 0
    for name, expect in EXPECTATIONS.items():
        if expect.method != "get" or name in NO_TRAIL:
            continue
        kwargs = expect.kwargs() if callable(expect.kwargs) else expect.kwargs
        data = expect.data() if callable(expect.data) else expect.data
        with transaction.atomic():
            response = client.get(reverse(name, kwargs=kwargs), data)
            transaction.set_rollback(True)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            continue
        body = response.content.decode()
        if '<main id="main"' not in body:
            continue  # a fragment or a printed form, not a page of the layout
        shown += 1
        trails = NAV_RE.findall(body)
        if len(trails) != 1 or trails[0].count("<li") < 2:
            wrong.append(name)
            continue
        if any(n in trails[0] or k in trails[0] for n, k in patients):
            wrong.append(f"{name}: names a patient")
    assert shown >= 5
    assert not wrong, f"{role}: pages without a trail: {wrong}"
