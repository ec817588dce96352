"""The foundation, in a real browser: login, MFA for administrators, phone layout, language."""

import time
from pathlib import Path

from playwright.sync_api import expect

from facilities.models import User

from .helpers import (
    LOGIN_PATH,
    activate_totp,
    assert_accessible,
    login,
    login_with_totp,
    path_re,
    totp_code,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
FULL_WIDTH_NURSE = "ｎｕｒｓｅ＠ｔａｋａｄａ．ｅｘａｍｐｌｅ．ｊｐ"


def nav(page):
    return page.get_by_role("navigation", name="メインメニュー")


def test_user_logs_in_with_full_width_email_and_logs_out(page, demo_live):
    page.goto(demo_live + "/")
    # Anonymous: the home page sends to the login page.
    page.wait_for_url(path_re(LOGIN_PATH))
    assert_accessible(page)
    password = page.locator("input[name=password]")
    expect(password).to_have_attribute("type", "password")
    expect(password).to_have_attribute("autocomplete", "off")

    login(page, demo_live, FULL_WIDTH_NURSE)
    page.wait_for_url(path_re("/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("高田看子")
    expect(page.get_by_role("heading", name="あなたの役割")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="アカウント").get_by_role("link", name="ログアウト").click()
    page.wait_for_url(path_re("/accounts/logout/"))
    page.locator("main").get_by_role("button", name="ログアウト").click()
    page.wait_for_url(path_re(LOGIN_PATH))

    page.goto(demo_live + "/")
    page.wait_for_url(path_re(LOGIN_PATH))
    expect(page.locator("input[name=login]")).to_be_visible()


def test_mcs_admin_without_mfa_is_sent_to_set_it_up(page, demo_live):
    login(page, demo_live, "admin@takada.example.jp")
    page.wait_for_url(path_re("/accounts/2fa/"))
    assert "required=1" in page.url, page.url

    page.goto(demo_live + "/")
    page.wait_for_url(path_re("/accounts/2fa/"))
    assert "required=1" in page.url, page.url
    expect(page.locator("main")).to_contain_text("認証アプリ")  # the TOTP option
    assert_accessible(page)


def test_center_staff_with_totp_enters_code_and_reaches_admin(page, demo_live):
    secret = activate_totp(User.objects.get(email="center@example.jp"))

    login(page, demo_live, "center@example.jp")
    page.wait_for_url(path_re("/accounts/2fa/authenticate/"))
    assert_accessible(page)
    # Not too close to the end of a 30-second step, so the code is still current on submit.
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main").get_by_role("button").first.click()
    page.wait_for_url(path_re("/"))
    expect(page.get_by_role("heading", name="あなたの役割")).to_be_visible()
    expect(page.locator("main")).to_contain_text("センター職員")

    page.goto(demo_live + "/admin/")
    page.wait_for_url(path_re("/admin/"))
    expect(page.locator("#site-name, #content h1").first).to_be_visible()
    expect(page.locator("#content")).to_contain_text("サイト管理")


def test_home_on_a_phone_has_no_horizontal_scroll(browser, demo_live):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        locale="ja-JP",
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        # A facility manager signs in with a second factor (第5条: appoints MCS administrators).
        login_with_totp(page, demo_live, User.objects.get(email="doctor@abc.example.jp"))
        expect(page.get_by_role("heading", name="あなたの役割")).to_be_visible()
        # First the picture, so it is there to look at even when a check below fails.
        page.screenshot(path=str(SCREENSHOTS / "home-phone.png"), full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 375 + 1, f"home scrolls sideways on a phone: {scroll_width}px"
        assert_accessible(page)
    finally:
        context.close()


def test_language_switch_to_english(page, demo_live):
    login(page, demo_live, "nurse@takada.example.jp")
    page.wait_for_url(path_re("/"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    page.locator("#lang-select").select_option("en")
    page.locator("form.lang").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_url(path_re("/"))
