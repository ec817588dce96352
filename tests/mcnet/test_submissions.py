"""Every form posted once (mcnet/submissions.py): the one-time token each POST form carries.

The 別紙3 request posted twice (its notices and mails counted, and two posts at the same
moment against a real server) is tests/enrollment/test_roster_submit_once.py.
"""

import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consents.models import Patient
from devices.models import Device
from enrollment.models import Application
from facilities.models import Invitation
from groups.models import Group
from mcnet import submissions
from mcnet.models import FormSubmission

TOKEN = re.compile(r'name="_submission" value="([0-9a-f]{32})"')
POST_FORM = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.S | re.I)


def token_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page's form carries no one-time token"
    return found.group(1)


def post_twice(client, url: str, data: dict):
    """Open the form's page, then post it twice with the token the page gave (a double click:
    the browser sends the same form twice)."""
    page = client.get(url)
    assert page.status_code == 200, url
    data = {**data, submissions.FIELD: token_of(page.content.decode())}
    return client.post(url, data), client.post(url, data)


def test_every_post_form_of_a_page_carries_its_own_token(client_as):
    client = client_as("mcs_admin")
    html = client.get(reverse("groups:create_free_group")).content.decode()
    forms = POST_FORM.findall(html)
    assert len(forms) >= 2  # the page's form and the language switch of the base layout
    tokens = [token_of(form) for form in forms]
    assert len(set(tokens)) == len(tokens)  # one per form
    again = client.get(reverse("groups:create_free_group")).content.decode()
    assert not set(TOKEN.findall(again)) & set(tokens)  # one per rendering


def test_the_admin_and_the_login_page_carry_the_token_too(client_as):
    html = client_as("center").get(reverse("admin:groups_announcement_add")).content.decode()
    assert TOKEN.search(html), "the admin's add form"
    html = client_as(None).get(reverse("account_login")).content.decode()
    assert TOKEN.search(html), "allauth's login form"


def test_representative_forms_posted_twice_make_one_row(client_as, people, demo):
    takada, kasugano = demo["takada"], demo["kasugano"]
    cases = [
        (
            "mcs_admin",
            reverse("facilities:invitation_create", args=[takada.pk]),
            {"email": "kango@takada.example.jp", "name": "看護 新", "occupation": "nurse"},
            lambda: Invitation.objects.filter(email="kango@takada.example.jp").count(),
        ),
        (
            "mcs_admin",
            reverse("devices:device_create"),
            {
                "facility": takada.pk,
                "kind": "smartphone",
                "ownership": "personal",
                "label": "二重送信の私用iPhone",
                "assigned_user": "",
                "note": "",
            },
            lambda: Device.objects.filter(label="二重送信の私用iPhone").count(),
        ),
        (
            "user",
            reverse("groups:create_free_group"),
            {"name": "二重送信の勉強会", "description": ""},
            lambda: Group.objects.filter(name="二重送信の勉強会").count(),
        ),
        (
            "group_manager",
            reverse("consents:patient_create"),
            {
                "facility": kasugano.pk,
                "name": "二重送信太郎",
                "kana": "にじゅう そうしんたろう",
                "birth_date": "1945-05-05",
                "sex": "male",
                "address": "新潟県上越市大手町1-1",
                "phone": "025-555-0909",
            },
            lambda: Patient.objects.filter(name="二重送信太郎").count(),
        ),
        (
            None,  # the public application (別紙1), no account
            reverse("enrollment:apply"),
            {
                "facility_name": "二重送信訪問看護ステーション",
                "kind": "visiting_nursing",
                "postal_code": "942-0011",
                "address_line": "5-5-5",
                "phone": "025-555-5555",
                "manager_name": "直江津花",
                "manager_email": "hana@naoetsu.example.jp",
                "pledge_affirmed": "on",
                "website": "",
            },
            lambda: Application.objects.filter(
                facility_name="二重送信訪問看護ステーション"
            ).count(),
        ),
    ]
    role_now, client = "", None
    for role, url, data, count in cases:
        if role != role_now:  # each role signs in once (its MFA device is made then)
            role_now, client = role, client_as(role)
        assert count() == 0, url
        first, second = post_twice(client, url, data)
        assert first.status_code == 302, (url, first.content.decode()[:3000])
        assert count() == 1, url
        # The second post did nothing and went where the first went.
        assert second.status_code == 302 and second["Location"] == first["Location"], url
        page = client.get(second["Location"]).content.decode()
        assert "最初の送信の結果を表示しています" in page, url


def test_a_form_shown_again_with_its_errors_frees_its_token(client_as):
    client = client_as("user")
    url = reverse("groups:create_free_group")
    token = token_of(client.get(url).content.decode())
    refused = client.post(url, {"name": "", submissions.FIELD: token})
    assert refused.status_code == 200  # nothing done: the token is given back
    assert not FormSubmission.objects.filter(token=token).exists()
    # The same post corrected (a browser that resends what it had) goes through once.
    done = client.post(url, {"name": "直した勉強会", submissions.FIELD: token})
    assert done.status_code == 302
    assert Group.objects.filter(name="直した勉強会").count() == 1


def test_a_token_is_never_someone_elses(client_as, people):
    url = reverse("groups:create_free_group")
    client = client_as("user")
    token = token_of(client.get(url).content.decode())
    assert client.post(url, {"name": "高田の会", submissions.FIELD: token}).status_code == 302
    other = client_as("mcs_admin")
    refused = other.post(url, {"name": "別人の会", submissions.FIELD: token})
    assert refused.status_code == 400
    assert "高田の会" not in refused.content.decode()
    assert not Group.objects.filter(name="別人の会").exists()


def test_a_post_without_a_token_is_handled_as_before(client_as):
    client = client_as("user")
    url = reverse("groups:create_free_group")
    for _ in range(2):
        assert client.post(url, {"name": "トークンなしの会"}).status_code == 302
    assert Group.objects.filter(name="トークンなしの会").count() == 2
    assert not FormSubmission.objects.exists()


def test_a_first_post_that_died_does_not_block_its_token_for_ever(client_as, people):
    client = client_as("user")
    url = reverse("groups:create_free_group")
    token = submissions.new_token()
    FormSubmission.objects.create(
        token=token,
        user_id=people["user"].pk,
        path=url,
        created_at=timezone.now() - submissions.ABANDONED_AFTER * 2,
    )
    done = client.post(url, {"name": "再送の会", submissions.FIELD: token})
    assert done.status_code == 302
    assert Group.objects.filter(name="再送の会").count() == 1


def test_old_tokens_are_purged(db):
    FormSubmission.objects.create(
        token=submissions.new_token(),
        path="/",
        created_at=timezone.now() - submissions.KEEP * 2,
    )
    kept = FormSubmission.objects.create(token=submissions.new_token(), path="/")
    assert submissions.purge_old() == 1
    assert list(FormSubmission.objects.all()) == [kept]


def test_a_malformed_token_is_ignored(client_as):
    client = client_as("user")
    for value in ["", "x" * 32, "0" * 31, "../../etc"]:
        response = client.post(
            reverse("groups:create_free_group"), {"name": "変な値の会", submissions.FIELD: value}
        )
        assert response.status_code == 302
    assert Group.objects.filter(name="変な値の会").count() == 4
    assert not FormSubmission.objects.exists()


def test_signing_in_twice_signs_in_twice(client, people, password):
    """A double click on "login": the browser dropped the first response and its session
    cookie, so the second post must sign in again rather than be sent after the first."""
    page = client.get(reverse("account_login")).content.decode()
    data = {"login": people["user"].email, "password": password, submissions.FIELD: token_of(page)}
    assert client.post(reverse("account_login"), data).status_code == 302
    browser = Client()  # the cookies of the first answer never arrived
    second = browser.post(reverse("account_login"), data)
    assert second.status_code == 302
    assert str(browser.session.get("_auth_user_id")) == str(people["user"].pk)
