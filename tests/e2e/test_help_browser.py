"""Help at hand in a real browser: the glossary from the login page's footer, then a care
manager's own guide from any page's footer. Every page is checked with axe-core."""

from playwright.sync_api import expect

from facilities.models import User

from .helpers import LOGIN_PATH, assert_accessible, login_with_totp, path_re

CARE_MANAGER = "cm@kasugano.example.jp"


def test_help_is_one_click_away_and_accessible(page, demo_live):
    page.goto(demo_live + LOGIN_PATH)
    page.locator("footer").get_by_role("link", name="用語集").click()
    page.wait_for_url(path_re("/help/glossary/"))
    expect(page.locator("main")).to_contain_text("アーカイブ")
    assert_accessible(page)

    # 春日野's care manager is its MCS administrator too: signs in with a second factor.
    login_with_totp(page, demo_live, User.objects.get(email=CARE_MANAGER))
    page.locator("footer").get_by_role("link", name="ヘルプ").click()
    page.wait_for_url(path_re("/help/"))
    guides = page.locator("main section.help-guide")
    expect(guides.first).to_have_id("guide-facility_manager")
    expect(page.locator("#guide-group_manager")).to_be_visible()
    expect(page.locator("main")).to_contain_text("問い合わせ先")
    assert_accessible(page)
