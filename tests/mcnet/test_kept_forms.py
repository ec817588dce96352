"""Nothing typed is lost to the idle timeout (art. 11 (4)(5); mcnet/keptforms.py)."""

import json
import re
import time

from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from consents.models import Patient
from mcnet.keptforms import KEPT, WHO
from mcnet.models import KeptForm
from tests.conftest import log_in

TYPED = {
    "name": "新潟三郎",
    "kana": "にいがた さぶろう",
    "birth_date": "1945-05-05",
    "sex": "male",
    "address": "新潟県上越市大手町1-1",
    "phone": "025-555-0909",
}


def _session_ends(client) -> None:
    """The session store forgets the session (its idle expiry passed); the browser keeps
    its cookies."""
    session: SessionBase = client.session
    session.delete()


def _kept_fields(response) -> dict | None:
    match = re.search(
        r'<script id="mcnet-kept-form" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1)) if match else None


def _post_after_timeout(client, demo):
    client.get(reverse("consents:patient_create"))  # signed in: the browser learns who it is
    assert WHO in client.cookies
    _session_ends(client)
    return client.post(
        reverse("consents:patient_create"), {**TYPED, "facility": demo["kasugano"].pk}
    )


def test_a_form_posted_after_the_timeout_is_restored_after_signing_in_again(
    demo, people, client_as
):
    client = client_as("group_manager")
    response = _post_after_timeout(client, demo)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Patient.objects.filter(name=TYPED["name"]).exists()
    row = KeptForm.objects.get()
    assert row.user_id == people["group_manager"].pk
    stored = bytes(row.ciphertext)
    for value in TYPED.values():  # the row alone reveals nothing typed
        assert value.encode() not in stored
    login_page = client.get(response["Location"])
    assert "入力内容を復元" in login_page.content.decode()

    log_in(client, people["group_manager"], mfa=True)
    page = client.get(reverse("consents:patient_create"))
    assert page.status_code == 200
    fields = _kept_fields(page)
    assert fields is not None
    assert {name: fields[name] for name in TYPED} == {k: [v] for k, v in TYPED.items()}
    assert "csrfmiddlewaretoken" not in fields and "_submission" not in fields
    assert "入力内容を復元しました" in page.content.decode()
    assert not KeptForm.objects.exists()  # once only
    assert page.cookies[KEPT]["max-age"] == 0
    again = client.get(reverse("consents:patient_create"))
    assert _kept_fields(again) is None


def test_someone_else_signing_in_on_that_browser_gets_nothing(demo, people, client_as):
    client = client_as("group_manager")
    _post_after_timeout(client, demo)
    assert KeptForm.objects.count() == 1

    log_in(client, people["user"], mfa=False)  # another staff member, on the same browser
    page = client.get(reverse("consents:patient_create"))
    body = page.content.decode()
    assert _kept_fields(page) is None
    for value in ("新潟三郎", "ニイガタ", "にいがた", "1945-05-05", "大手町"):
        assert value not in body
    assert not KeptForm.objects.exists()


def test_nothing_is_kept_after_signing_out_on_purpose(demo, client_as):
    client = client_as("group_manager")
    client.get(reverse("consents:patient_create"))
    client.post(reverse("account_logout"))
    assert client.cookies[WHO]["max-age"] == 0
    client.post(reverse("consents:patient_create"), {**TYPED, "facility": demo["kasugano"].pk})
    assert not KeptForm.objects.exists()


def test_stay_signed_in_restarts_the_idle_clock(client_as):
    client = client_as("group_manager")
    session = client.session
    before = int(time.time()) - 30  # recent enough that a request alone would not refresh it
    session["_mcnet_idle_refreshed"] = before
    session.save()
    response = client.post(
        reverse("session_keepalive"), {"next": "/groups/"}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 204
    assert client.session["_mcnet_idle_refreshed"] > before
    for hostile in ("https://evil.example/", "//evil.example/", "abc\x00def", "home"):
        response = client.post(reverse("session_keepalive"), {"next": hostile})
        assert response["Location"] == reverse("home"), hostile
    response = client.post(reverse("session_keepalive"), {"next": "/groups/"})
    assert response["Location"] == "/groups/"


def test_every_signed_in_page_carries_the_idle_warning(client_as, client):
    page = client_as("user").get(reverse("home")).content.decode()
    assert 'id="idle-warning"' in page and 'data-idle-seconds="900"' in page
    assert "mcnet/idle.js" in page
    client.logout()
    assert 'id="idle-warning"' not in client.get(reverse("account_login")).content.decode()
