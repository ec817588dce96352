"""Nothing typed is lost to the idle timeout (art. 11 (4)(5); mcnet/keptforms.py,
mcnet/static/mcnet/idle.js), in Debian's Chromium."""

import time
from importlib import import_module

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from consents.models import Patient
from facilities.models import User

from .helpers import DEMO_PASSWORD, activate_totp, login, path_re, totp_code

CARE_MANAGER = "cm@kasugano.example.jp"


def _sign_in(page, base, email, code, *, on_this_page=False):
    if on_this_page:  # the login page the portal sent the browser to, with its `next`
        page.locator("input[name=login]").fill(email)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("main").get_by_role("button", name="ログイン").click()
    else:
        login(page, base, email)
    page.wait_for_url(path_re("/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill(code)
    page.locator("main").get_by_role("button").first.click()
    page.wait_for_load_state("load")


def _factors(email: str) -> tuple[str, list[str]]:
    """A TOTP secret and recovery codes for `email`: the second sign-in of a test uses a
    recovery code (good once, as the portal offers them), not the next 30-second TOTP step."""
    user = User.objects.get(email=email)
    secret = activate_totp(user)
    return secret, RecoveryCodes.activate(user).get_unused_codes()


def _totp_now(secret: str) -> str:
    if time.time() % 30 > 27:  # not at the very end of a 30-second step
        time.sleep(30 - time.time() % 30 + 0.1)
    return totp_code(secret)


def _session_ends(page) -> None:
    """The server forgets the session, as when the idle timeout passed; the browser keeps
    its cookies and the page it shows."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for cookie in page.context.cookies():
        if cookie["name"] == settings.SESSION_COOKIE_NAME:
            store(session_key=cookie["value"]).delete()


def test_a_form_sent_after_the_timeout_is_filled_in_again_after_signing_in(demo_live, page):
    base = demo_live
    secret, recovery_codes = _factors(CARE_MANAGER)
    _sign_in(page, base, CARE_MANAGER, _totp_now(secret))
    page.goto(base + reverse("consents:patient_create"))
    page.get_by_label("氏名").fill("新潟三郎")
    page.get_by_label("ふりがな").fill("にいがた さぶろう")
    page.get_by_label("住所").fill("新潟県上越市大手町1-1")
    page.get_by_label("性別").select_option("male")

    _session_ends(page)  # talking with the family for longer than the timeout
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url(path_re("/accounts/login/"))
    expect(page.locator("main")).to_contain_text("入力内容を復元します")
    assert not Patient.objects.filter(name="新潟三郎").exists()

    _sign_in(page, base, CARE_MANAGER, recovery_codes[0], on_this_page=True)
    page.wait_for_url(path_re(reverse("consents:patient_create")))
    expect(page.locator("main")).to_contain_text("入力内容を復元しました")
    expect(page.get_by_label("氏名")).to_have_value("新潟三郎")
    expect(page.get_by_label("ふりがな")).to_have_value("にいがた さぶろう")
    expect(page.get_by_label("住所")).to_have_value("新潟県上越市大手町1-1")
    expect(page.get_by_label("性別")).to_have_value("male")
    page.get_by_role("button", name="登録する").click()
    page.wait_for_load_state("load")
    assert Patient.objects.filter(name="新潟三郎").count() == 1


def test_two_minutes_before_the_timeout_the_page_offers_to_stay_signed_in(demo_live, page):
    base = demo_live
    page.clock.install()
    secret = activate_totp(User.objects.get(email=CARE_MANAGER))
    _sign_in(page, base, CARE_MANAGER, _totp_now(secret))
    page.goto(base + reverse("groups:list"))
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()
    page.clock.run_for("11:00")  # 15 minutes' timeout: the warning comes at 12:00
    expect(warning).to_be_hidden()
    page.clock.run_for("01:05")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("約2分後に自動的にログアウト")
    with page.expect_response(lambda r: r.url.endswith("/session/keepalive")) as answer:
        warning.get_by_role("button", name="ログインを続ける").click()
    assert answer.value.status == 204
    expect(warning).to_be_hidden()
    assert page.url.endswith(reverse("groups:list"))
