"""Outsiders find the door: the login page links to the application, whose examples are valid
and whose address is looked up from the postal code (Japan Post data held locally)."""

import re

import pytest
from django.urls import reverse

from enrollment import views
from enrollment.models import Application

from .test_applications import FORM, apply


def test_the_login_page_links_to_the_online_application(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert f'href="{reverse("enrollment:apply")}"' in page
    assert "オンラインで利用を申し込む" in page


def test_the_application_forms_postal_code_example_is_a_code_it_accepts(client, demo):
    page = client.get(reverse("enrollment:apply")).content.decode()
    example = re.search(r"例: (\d{3}-\d{4})", page).group(1)
    response = apply(client, postal_code=example)
    assert response.status_code == 302, response.content.decode()
    application = Application.objects.get(facility_name=FORM["facility_name"])
    assert (application.postal_code, application.prefecture, application.city) == (
        example,
        "新潟県",
        "上越市",
    )


@pytest.mark.parametrize("typed", ["９４３－０８３４", "9430834", "943ー0834", "〒943-0834"])
def test_the_postal_code_is_accepted_in_any_width_or_dash(client, demo, typed):
    response = apply(client, postal_code=typed)
    assert response.status_code == 302
    application = Application.objects.get(facility_name=FORM["facility_name"])
    assert (application.postal_code, application.town) == ("943-0834", "西城町")


def test_an_unknown_code_asks_for_the_address_in_japanese(client, demo):
    response = apply(client, postal_code="943-1111")
    assert response.status_code == 200
    assert "都道府県 を入力してください（郵便番号から見つかりませんでした）。" in (
        response.content.decode()
    )
    assert not Application.objects.filter(facility_name=FORM["facility_name"]).exists()


def test_the_form_marks_the_postal_code_for_the_address_lookup(client, db):
    page = client.get(reverse("enrollment:apply")).content.decode()
    assert f'data-postal-lookup="{reverse("enrollment:postal_code_lookup")}"' in page
    for name in ("prefecture", "city", "town"):
        assert f'data-postal-target="{name}"' in page


def test_the_public_lookup_answers_without_an_account(client, db):
    url = reverse("enrollment:postal_code_lookup")
    found = client.get(url, {"code": "９４９－１３５２"}).json()
    assert found == {
        "found": True,
        "postal_code": "949-1352",
        "prefecture": "新潟県",
        "city": "糸魚川市",
        "town": "能生",
    }
    missing = client.get(url, {"code": "943-1111"})
    assert (missing.status_code, missing.json()) == (404, {"found": False})


def test_the_public_lookup_is_rate_limited(client, db, monkeypatch):
    monkeypatch.setattr(views, "POSTAL_LOOKUP_LIMIT", 2)
    url = reverse("enrollment:postal_code_lookup")
    codes = [client.get(url, {"code": "943-0834"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
