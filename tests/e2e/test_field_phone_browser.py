"""A nurse on a phone (390×844): the header folds its menu behind one button and stays under
15% of the screen, every tap target is at least 44 px, ログアウト is far from パスワード, tables
read as cards, and a missing page is the Japanese one with the menu."""

import re

from playwright.sync_api import expect

from facilities.models import User

from .helpers import assert_accessible, login, login_with_totp, path_re

PHONE = {"width": 390, "height": 844}


def phone(browser):
    context = browser.new_context(
        locale="ja-JP", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    return context


def test_the_phone_header_is_compact_and_its_menu_opens(browser, demo_live):
    context = phone(browser)
    try:
        page = context.new_page()
        login(page, demo_live, "nurse@takada.example.jp")
        page.wait_for_url(path_re("/"))
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 0.15 * PHONE["height"], header
        menu = page.get_by_role("navigation", name="メインメニュー")
        expect(menu).to_be_hidden()
        toggle = page.get_by_role("button", name="メニュー")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        assert toggle.bounding_box()["height"] >= 44
        assert_accessible(page)

        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu).to_be_visible()
        for link in page.locator(".site-header a:visible").all():
            box = link.bounding_box()
            assert box["height"] >= 44, (link.inner_text(), box)
        account = page.get_by_role("navigation", name="アカウント")
        password = account.get_by_role("link", name="パスワード").bounding_box()
        logout = account.get_by_role("link", name="ログアウト").bounding_box()
        assert logout["y"] - (password["y"] + password["height"]) >= 40  # not next to it
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)

        menu.get_by_role("link", name="連携グループ").click()
        page.wait_for_url(path_re("/groups/"))
        expect(menu).to_be_hidden()  # folded again on the next page
    finally:
        context.close()


def test_tables_read_as_cards_on_a_phone(browser, demo_live):
    context = phone(browser)
    try:
        page = context.new_page()
        # A care manager (an administrator: a second factor, 第11条) and her groups.
        login_with_totp(page, demo_live, User.objects.get(email="cm@kasugano.example.jp"))
        page.goto(demo_live + "/groups/")
        table = page.locator("main table").first
        expect(table).to_have_class("reflow")
        cell = table.locator("tbody td").first
        assert cell.get_attribute("data-label")  # the column's name travels with the cell
        assert cell.evaluate("e => getComputedStyle(e).display") == "block"
        assert table.bounding_box()["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
    finally:
        context.close()


def test_a_missing_page_on_a_phone_is_japanese_with_the_menu(browser, demo_live):
    context = phone(browser)
    try:
        page = context.new_page()
        login(page, demo_live, "nurse@takada.example.jp")
        response = page.goto(demo_live + "/groups/999999/")
        assert response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
        page.get_by_role("button", name="メニュー").click()
        expect(
            page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="ホーム")
        ).to_be_visible()
        expect(page.get_by_role("link", name="ホームへ戻る")).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()


def test_a_loss_report_survives_a_trip_to_mcs_and_back(browser, demo_live):
    """第12条(11): the reporter first changes the MCS password (in MCS, a new tab), and what
    she typed is still there when she comes back, even after leaving the page."""
    context = phone(browser)
    try:
        page = context.new_page()
        login(page, demo_live, "nurse@takada.example.jp")
        page.goto(demo_live + "/devices/losses/new/")
        mcs = page.get_by_role("link", name=re.compile("MCS（メディカルケアステーション）"))
        expect(mcs).to_have_attribute("href", "https://www.medical-care.net/")
        expect(mcs).to_have_attribute("target", "_blank")
        page.get_by_label("場所").fill("訪問先の駐車場")
        page.get_by_label("機器に入っていた情報").fill("MCSアプリ")
        page.goto(demo_live + "/devices/")  # left the page
        page.goto(demo_live + "/devices/losses/new/")
        expect(page.get_by_label("場所")).to_have_value("訪問先の駐車場")
        expect(page.get_by_label("機器に入っていた情報")).to_have_value("MCSアプリ")
        expect(page.get_by_role("status").filter(has_text="復元しました")).to_be_visible()
        assert_accessible(page)
        # Sent, the draft is forgotten (the form comes back with errors: it stays as posted).
        page.get_by_role("button", name="MCS管理者に報告する").click()
        page.wait_for_load_state("load")
        page.goto(demo_live + "/devices/losses/new/")
        expect(page.get_by_label("場所")).to_have_value("")
    finally:
        context.close()
