"""Deny by default: every URL pattern, every role (extended with every new URL).

Walks the URL resolver, so a view nobody wrote an expectation for fails here.
"""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from .expectations import (
    ADMIN_DENIED,
    ADMIN_NAMESPACE,
    DENIED,
    EXPECTATIONS,
    LOGIN,
    NOT_ALLOWED,
    OK,
    REDIRECT,
    ROLES,
)
from .urls import all_url_patterns

LOGIN_PATH = "/accounts/login/"


def _outcome(response) -> str:
    status = response.status_code
    if status == 200:
        return OK
    if status in (403, 404):
        return DENIED
    if status == 405:
        return NOT_ALLOWED
    if status in (301, 302):
        location = response.headers["Location"]
        if location.startswith(LOGIN_PATH):
            return LOGIN
        if location.startswith("/admin/login/"):
            return ADMIN_DENIED
        return REDIRECT
    return f"status {status}"


def test_every_url_pattern_has_an_expectation():
    missing = [
        (key, route)
        for key, route in all_url_patterns()
        if key not in EXPECTATIONS
        and not key.startswith(ADMIN_NAMESPACE)
        and not route.startswith("admin/")
    ]
    assert not missing, f"URL patterns with no permission expectation: {missing}"


def test_no_expectation_for_a_url_that_does_not_exist():
    keys = {key for key, _ in all_url_patterns()}
    assert not set(EXPECTATIONS) - keys


@pytest.mark.parametrize("role", ROLES)
def test_every_view_answers_each_role_as_expected(client_as, role, settings):
    settings.MCNET_REQUIRE_MFA = True
    client = client_as(role)
    wrong = []
    for name, expect in EXPECTATIONS.items():
        kwargs = expect.kwargs() if callable(expect.kwargs) else expect.kwargs
        data = expect.data() if callable(expect.data) else expect.data
        url = reverse(name, kwargs=kwargs)
        with transaction.atomic():
            response = getattr(client, expect.method)(url, data)
            transaction.set_rollback(True)
        got = _outcome(response)
        if got != expect.for_role(role):
            wrong.append(f"{name} {url}: expected {expect.for_role(role)}, got {got}")
        if "default-src 'self'" not in response.headers.get("Content-Security-Policy", ""):
            wrong.append(f"{name} {url}: no content security policy")
        if response.headers.get("X-Frame-Options") != "DENY":
            wrong.append(f"{name} {url}: may be framed")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_is_the_centers_alone(client_as, role):
    """Every named admin URL: center staff get in; everyone else is turned away at the gate."""
    client = client_as(role)
    wrong = []
    for key, route in all_url_patterns():
        if not key.startswith(ADMIN_NAMESPACE):
            continue
        params = [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]
        kwargs = {p: "facilities" if p == "app_label" else "1" for p in params}
        try:
            url = reverse(key, kwargs=kwargs)
        except Exception:  # a pattern this walker cannot fill is reported
            wrong.append(f"{key}: could not build a URL from {route}")
            continue
        got = _outcome(client.get(url))
        if role == "center":
            if got in ("status 500",) or got == ADMIN_DENIED or got == LOGIN:
                wrong.append(f"{key} {url}: center got {got}")
        elif key == "admin:logout":
            continue  # logging out is harmless for anyone
        elif got not in (ADMIN_DENIED, LOGIN, DENIED):
            wrong.append(f"{key} {url}: {role} got {got}")
    assert not wrong, "\n".join(wrong)


def test_center_staff_see_the_admin_index(client_as):
    assert client_as("center").get("/admin/").status_code == 200


def test_expected_outcomes_are_not_all_the_same():
    """Guards against a matrix that could not fail: some pages must deny someone."""
    outcomes = {e.for_role(r) for e in EXPECTATIONS.values() for r in ROLES}
    assert {OK, LOGIN, REDIRECT} <= outcomes and DENIED in outcomes
