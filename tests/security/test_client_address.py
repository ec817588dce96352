"""Where a request came from: the audit trail's IP, login throttling and the public form's
rate limit all read mcnet.middleware.client_ip, which trusts MCNET_TRUSTED_PROXIES proxies
counted from the right of X-Forwarded-For and never an entry the client wrote.

Behind the documented TLS proxy every request connects from the proxy's address (REMOTE_ADDR);
the proxy appends the real client's address as the LAST X-Forwarded-For entry.
"""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from mcnet.middleware import client_ip
from mcnet.models import AuditEvent

LOGIN = "/accounts/login/"
PROXY = "10.0.0.2"  # the TLS proxy in front of gunicorn: every request connects from it
ATTACKER = "203.0.113.66"
COLLEAGUE = "198.51.100.20"


@pytest.fixture
def behind_one_proxy(settings):
    settings.MCNET_TRUSTED_PROXIES = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # as production


def via_proxy(client, path, data, *, client_address, forwarded_by_client=None):
    """A POST as the proxy passes it on: the client's own X-Forwarded-For (if any), then the
    address the proxy saw, appended by the proxy."""
    hops = [forwarded_by_client] if forwarded_by_client else []
    return client.post(
        path,
        data,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=", ".join([*hops, client_address]),
        HTTP_X_FORWARDED_PROTO="https",
        secure=True,
    )


def test_ten_failed_logins_from_one_address_do_not_lock_out_another(
    client, demo, password, behind_one_proxy
):
    for n in range(10):
        response = via_proxy(
            client,
            LOGIN,
            {"login": f"made-up-{n}@example.jp", "password": "wrong-password-1"},
            client_address=ATTACKER,
        )
        assert response.status_code == 200
    # The attacker's address is stopped, with a message that says what to do...
    refused = via_proxy(
        client,
        LOGIN,
        {"login": "made-up-x@example.jp", "password": "wrong-password-1"},
        client_address=ATTACKER,
    )
    body = refused.content.decode()
    assert "一時的に止めています" in body and "5分ほど待って" in body
    assert "パスワードをお忘れですか" in body
    # ...but a colleague arriving through the same proxy from elsewhere signs in.
    ok = via_proxy(
        client,
        LOGIN,
        {"login": "nurse@takada.example.jp", "password": password},
        client_address=COLLEAGUE,
    )
    assert ok.status_code == 302, ok.content.decode()[:2000]
    assert client.session["_auth_user_id"]


def test_failed_logins_for_one_account_lock_that_account_only(
    client, demo, password, behind_one_proxy
):
    """Counted per account as well: guessing one person's password from many addresses stops
    that account (5 in 5 minutes), not the others at the same address."""
    for n in range(5):
        via_proxy(
            client,
            LOGIN,
            {"login": "nurse@takada.example.jp", "password": "wrong-password-1"},
            client_address=f"203.0.113.{n + 1}",
        )
    locked = via_proxy(
        client,
        LOGIN,
        {"login": "nurse@takada.example.jp", "password": password},
        client_address=COLLEAGUE,
    )
    assert "_auth_user_id" not in client.session
    assert "一時的に止めています" in locked.content.decode()
    other = via_proxy(
        client,
        LOGIN,
        {"login": "doctor@abc.example.jp", "password": password},
        client_address="203.0.113.1",
    )
    assert other.status_code == 302


def test_a_spoofed_leftmost_entry_is_not_the_audit_ip(client, demo, password, behind_one_proxy):
    via_proxy(
        client,
        LOGIN,
        {"login": "nurse@takada.example.jp", "password": password},
        client_address=COLLEAGUE,
        forwarded_by_client="192.0.2.99",
    )
    event = AuditEvent.objects.get(action="auth.login")
    assert event.ip_address == COLLEAGUE


def test_the_public_form_limit_ignores_entries_the_client_wrote(client, demo, behind_one_proxy):
    from enrollment.views import APPLY_LIMIT

    url = reverse("enrollment:apply")
    for n in range(APPLY_LIMIT):
        response = via_proxy(
            client, url, {}, client_address=ATTACKER, forwarded_by_client=f"192.0.2.{n + 1}"
        )
        assert response.status_code == 200
    response = via_proxy(
        client, url, {}, client_address=ATTACKER, forwarded_by_client="192.0.2.200"
    )
    assert response.status_code == 429
    # Another address behind the same proxy may still apply.
    assert via_proxy(client, url, {}, client_address=COLLEAGUE).status_code == 200


def test_too_many_requests_are_answered_in_japanese(client, demo, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    client.post(LOGIN, {"login": "a@example.jp", "password": "x"})
    response = client.post(LOGIN, {"login": "a@example.jp", "password": "x"})
    assert response.status_code == 429
    assert "しばらくしてからお試しください" in response.content.decode()


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "198.51.100.1", "192.0.2.1"),  # no proxy trusted: header ignored
        (1, PROXY, "198.51.100.1", "198.51.100.1"),
        (1, PROXY, "1.1.1.1, 198.51.100.1", "198.51.100.1"),  # client's own entry ignored
        (2, PROXY, "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # two proxies
        (2, PROXY, "198.51.100.1", PROXY),  # did not pass both: the connecting address
        (1, PROXY, "", PROXY),  # straight to the app server (a health check)
        (1, PROXY, "1.1.1.1, not-an-address", PROXY),  # never junk in the audit trail
        (1, PROXY, " 2001:db8::1 ", "2001:db8::1"),
        (0, "junk", "", None),
    ],
)
def test_client_ip(settings, trusted, remote, forwarded, expected):
    settings.MCNET_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
