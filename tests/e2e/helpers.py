"""Helpers the browser tests share: the one browser login (`login`, and `login_with_totp` for
administrators, with the TOTP factor of tests/conftest.py), accessibility checks."""

import re
import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from mcnet.demo import DEMO_PASSWORD
from mcnet.models import GeneratedDocument
from mcnet.printing import services as printing_services
from tests.conftest import activate_totp  # the same TOTP factor the test client's log_in sets up

LOGIN_PATH = "/accounts/login/"
MAX_TARGETS = 3

_axe = Axe()


def login(page: Page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Open the login page, fill the e-mail (MCS ID) and password, and submit."""
    page.goto(base_url + LOGIN_PATH)
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main").get_by_role("button", name="ログイン").click()
    # Wait until the browser has left the login page (or came back with an error).
    page.wait_for_load_state("load")


def _describe(violation: dict) -> str:
    targets = []
    for node in violation.get("nodes", [])[:MAX_TARGETS]:
        target = node.get("target") or []
        targets.append(" ".join(str(t) for t in target))
    more = len(violation.get("nodes", [])) - len(targets)
    suffix = f" (+{more} more)" if more > 0 else ""
    return (
        f"- {violation.get('id')} [{violation.get('impact')}]: {violation.get('help')}\n"
        f"    targets: {'; '.join(targets)}{suffix}"
    )


def assert_accessible(page: Page) -> None:
    """Run axe-core on the current page; fail with a readable list of violations."""
    results = _axe.run(page)
    if results.violations_count > 0:
        violations = results.response.get("violations", [])
        lines = "\n".join(_describe(v) for v in violations)
        raise AssertionError(
            f"{results.violations_count} accessibility violation(s) on {page.url}:\n{lines}"
        )


def totp_code(secret: str, at: float | None = None) -> str:
    """The TOTP code an authenticator app would show now (30-second steps)."""
    counter = int(time.time() if at is None else at) // 30
    return format_hotp_value(hotp_value(secret, counter))


def login_with_totp(page: Page, base_url: str, user) -> None:
    """Sign in as an administrator who has a TOTP factor (made here), entering the code."""
    secret = activate_totp(user)
    login(page, base_url, user.email)
    page.wait_for_url(path_re("/accounts/2fa/authenticate/"))
    if time.time() % 30 > 27:  # not at the very end of a 30-second step
        time.sleep(30 - time.time() % 30 + 0.1)
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main").get_by_role("button").first.click()
    page.wait_for_url(path_re("/"))


def path_re(path: str) -> re.Pattern:
    """A URL pattern for wait_for_url / expect: `path` on any host, with any query."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


__all__ = [
    "DEMO_PASSWORD",
    "LOGIN_PATH",
    "activate_totp",
    "assert_accessible",
    "expect",
    "login",
    "login_with_totp",
    "path_re",
    "totp_code",
]


def render_the_queued_document() -> GeneratedDocument:
    """What the worker would do with the one queued PDF (tests without a broker: no_broker)."""
    document = GeneratedDocument.objects.get(state=GeneratedDocument.State.QUEUED)
    assert printing_services.document_render(document_id=document.pk) == "ready"
    return document
