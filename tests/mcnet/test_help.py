"""Help at hand: a guide per role, the user's own first, the words of the rules, and the
center's contact from the network's settings (not from a template)."""

import re

import pytest
from django.urls import reverse

from facilities.models import FacilityRole
from mcnet.models import NetworkSettings

pytestmark = pytest.mark.django_db

GUIDE_IDS = {
    "center": "guide-center",
    "facility_manager": "guide-facility_manager",
    "mcs_admin": "guide-mcs_admin",
    "group_manager": "guide-group_manager",
    "staff": "guide-staff",
}


def _guides_in_order(html: str) -> list[str]:
    return re.findall(r'<section class="help-guide" id="guide-([a-z_]+)"', html)


def _own_guides(html: str) -> list[str]:
    own, _sep, _rest = html.partition("ほかの役割")
    return _guides_in_order(own)


@pytest.mark.parametrize(
    ("role", "own"),
    [
        ("user", ["staff"]),
        # 高田's MCS administrator is its facility manager too.
        ("mcs_admin", ["facility_manager", "mcs_admin", "staff"]),
        # ABC's doctor is its facility manager and its MCS administrator.
        ("other_mcs_admin", ["mcs_admin", "staff"]),
        ("other_facility_user", ["facility_manager", "staff"]),
        ("group_manager", ["facility_manager", "mcs_admin", "group_manager", "staff"]),
        ("center", ["center", "staff"]),
    ],
)
def test_each_role_sees_its_own_guide_first(client_as, people, role, own):
    # What the demo holds, so the expectation above cannot silently drift from it.
    held = set(FacilityRole.objects.filter(user=people[role]).values_list("role", flat=True))
    expected = (["center"] if people[role].is_center_staff else []) + [
        r for r in ("facility_manager", "mcs_admin", "group_manager") if r in held
    ]
    assert own == [*expected, "staff"]

    response = client_as(role).get(reverse("help"))

    html = response.content.decode()
    assert _own_guides(html) == own
    # Every guide is on the page once: the others follow the user's own.
    assert sorted(_guides_in_order(html)) == sorted(GUIDE_IDS)
    assert _guides_in_order(html)[: len(own)] == own


def test_the_contact_comes_from_the_network_settings(client_as):
    network = NetworkSettings.load()
    network.center_name = "妙高在宅医療支援室"
    network.center_phone = "0255-00-1234"
    network.center_email = "help@myoko.example.jp"
    network.save()

    for name in ("help", "help_glossary"):
        html = client_as("user").get(reverse(name)).content.decode()
        assert "妙高在宅医療支援室" in html
        assert 'href="tel:0255-00-1234"' in html
        assert 'href="mailto:help@myoko.example.jp"' in html
        assert "上越地域在宅医療推進センター" not in html


def test_every_page_links_to_help(client_as):
    client = client_as("user")
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("help")}"' in html
    assert f'href="{reverse("help_glossary")}"' in html


def test_the_glossary_is_read_before_signing_in(client):
    login = client.get(reverse("account_login")).content.decode()
    assert f'href="{reverse("help_glossary")}"' in login
    # The role guides are for those signed in; the link is not offered before.
    assert f'href="{reverse("help")}"' not in login

    html = client.get(reverse("help_glossary")).content.decode()
    for term in ("アーカイブ", "精査", "BYOD", "別紙7", "MCS", "患者グループ", "連携グループ"):
        assert term in html
    assert client.get(reverse("help")).status_code == 302
