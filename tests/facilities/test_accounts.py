"""Accounts: e-mail login, art. 11 password rule, MFA for administrators, idle logout."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from facilities.models import User
from mcnet.models import AuditEvent, NetworkSettings
from tests.conftest import log_in

LOGIN = "/accounts/login/"


def test_login_accepts_the_mcs_id_typed_full_width(client, demo, password):
    response = client.post(
        LOGIN, {"login": "ｎｕｒｓｅ＠ＴＡＫＡＤＡ．ｅｘａｍｐｌｅ．ｊｐ", "password": password}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get("/").context["user"].email == "nurse@takada.example.jp"


def test_one_person_one_address_case_insensitive_after_nfkc(db):
    User.objects.create_user(email="ABC@Gmail.com", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="ａｂｃ＠ｇｍａｉｌ．ｃｏｍ", password="y")
    assert User.objects.get().email == "abc@gmail.com"


@pytest.mark.parametrize(
    ("candidate", "says"),
    [
        ("kasuganohonmachi", "数字（0〜9）が含まれていません"),
        ("20261123", "英字（a〜z, A〜Z）が含まれていません"),
        ("ab1", "短すぎます"),
    ],
)
def test_password_rule_of_article_11_says_what_is_missing_in_japanese(db, candidate, says):
    with pytest.raises(ValidationError) as excinfo:
        validate_password(candidate)
    assert any(says in message for message in excinfo.value.messages), excinfo.value.messages


def test_password_with_letters_and_digits_is_accepted(db):
    validate_password("kasugano2026x")


def test_password_change_page_shows_the_missing_part(client_as):
    client = client_as("user")
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "mcnet-demo-2026",
            "password1": "onlyletterslong",
            "password2": "onlyletterslong",
        },
    )
    assert response.status_code == 200
    assert "数字（0〜9）が含まれていません" in response.content.decode()


def test_password_fields_ask_the_browser_not_to_store_them(client, demo):
    html = client.get(LOGIN).content.decode()
    assert 'type="password"' in html
    assert 'autocomplete="current-password"' not in html
    assert 'autocomplete="off"' in html


def test_no_self_sign_up(client, db):
    before = User.objects.count()
    client.post("/accounts/signup/", {"email": "new@example.jp", "password1": "abcd1234xy"})
    assert User.objects.count() == before
    assert "/accounts/signup/" not in client.get(LOGIN).content.decode()


@pytest.mark.parametrize("role", ["mcs_admin", "center"])
def test_administrators_without_mfa_are_sent_to_set_it_up(client, people, settings, role):
    settings.MCNET_REQUIRE_MFA = True
    log_in(client, people[role], mfa=False)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_index"))
    assert client.get(reverse("mfa_index")).status_code == 200  # the way out stays open


def test_administrator_with_mfa_gets_in(client_as, settings):
    settings.MCNET_REQUIRE_MFA = True
    assert client_as("mcs_admin").get("/").status_code == 200


def test_ordinary_user_needs_no_mfa(client, people, settings):
    settings.MCNET_REQUIRE_MFA = True
    log_in(client, people["user"], mfa=False)
    assert client.get("/").status_code == 200


def test_mfa_requirement_can_be_switched_off_for_the_demo(client, people, settings):
    settings.MCNET_REQUIRE_MFA = False
    log_in(client, people["mcs_admin"], mfa=False)
    assert client.get("/").status_code == 200


def test_idle_session_ends_after_the_network_timeout(client, demo, password):
    NetworkSettings.objects.filter(pk=1).update(idle_timeout_minutes=15)
    NetworkSettings.load().save()  # clears the cached copy
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client.post(LOGIN, {"login": "nurse@takada.example.jp", "password": password})
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=14))
        assert client.get("/").status_code == 200  # activity keeps the session alive
        clock.shift(dt.timedelta(minutes=16))
        response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_login_is_rate_limited_per_address(client, demo, password):
    for _ in range(5):
        client.post(LOGIN, {"login": "nurse@takada.example.jp", "password": "wrong-password-1"})
    response = client.post(LOGIN, {"login": "nurse@takada.example.jp", "password": password})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session  # even the right password is refused now


def test_login_and_failed_login_are_in_the_access_log(client, demo, password):
    client.post(
        LOGIN,
        {"login": "nurse@takada.example.jp", "password": "wrong-password-1"},
        REMOTE_ADDR="192.0.2.10",
    )
    client.post(
        LOGIN, {"login": "nurse@takada.example.jp", "password": password}, REMOTE_ADDR="192.0.2.10"
    )
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.changes["login"] == "nurse@takada.example.jp"
    ok = AuditEvent.objects.get(action="auth.login")
    assert ok.actor.email == "nurse@takada.example.jp"
    assert ok.ip_address == "192.0.2.10"
