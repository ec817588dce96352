"""CSRF on every form, uploads never under a public path (attack surface)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import log_in

from .expectations import EXPECTATIONS, OK, REDIRECT


@pytest.fixture
def csrf_client(people):
    """A browser that does not send the CSRF token (Django's test client skips the check
    unless asked to enforce it)."""
    return Client(enforce_csrf_checks=True)


def test_login_form_refuses_a_post_without_csrf_token(csrf_client, password):
    response = csrf_client.post(
        reverse("account_login"), {"login": "nurse@takada.example.jp", "password": password}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session


@pytest.mark.parametrize("role", ["user", "mcs_admin", "group_manager"])
def test_every_post_action_refuses_a_request_without_csrf_token(csrf_client, people, role):
    log_in(csrf_client, people[role], mfa=role != "user")
    for name, expect in EXPECTATIONS.items():
        if expect.method != "post" or expect.for_role(role) not in (OK, REDIRECT):
            continue
        kwargs = expect.kwargs() if callable(expect.kwargs) else expect.kwargs
        data = expect.data() if callable(expect.data) else expect.data
        response = csrf_client.post(reverse(name, kwargs=kwargs), data)
        assert response.status_code == 403, f"{name} accepted a POST without a CSRF token"
    # Also the plain forms of the shell itself.
    assert csrf_client.post(reverse("account_change_password"), {}).status_code == 403
    assert csrf_client.post(reverse("set_language"), {"language": "en"}).status_code == 403


def test_uploads_are_not_served_from_any_url(client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 secret")
    client = client_as("center")
    for path in ("/media/scan.pdf", "/scan.pdf", "/static/scan.pdf", "/static/../media/scan.pdf"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))
