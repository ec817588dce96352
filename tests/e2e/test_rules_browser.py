"""第15条 and 第7条 in a real browser: the center publishes a new version of the staff pledge,
a nurse reads the new items and confirms it, and the center's list of older agreements no
longer names her. Every page on the way is checked with axe-core."""

from django.utils import timezone
from playwright.sync_api import expect

from facilities.models import StaffPledge, User

from .helpers import assert_accessible, login, login_with_totp, path_re

NEW_ITEM = "（６）　私用の端末に患者の情報を保存しない。"
NURSE = "nurse@takada.example.jp"


def main(page):
    return page.locator("main")


def test_the_center_publishes_a_new_pledge_and_a_nurse_confirms_it(browser, demo_live):
    today = timezone.localdate().isoformat()
    center_context = browser.new_context(locale="ja-JP")
    nurse_context = browser.new_context(locale="ja-JP")
    center_context.set_default_timeout(10_000)
    nurse_context.set_default_timeout(10_000)
    try:
        # The center opens the rules from the footer and the staff pledge in force.
        center = center_context.new_page()
        login_with_totp(center, demo_live, User.objects.get(email="center@example.jp"))
        center.get_by_role("link", name="運用規程と様式").click()
        center.wait_for_url(path_re("/rules/"))
        assert_accessible(center)
        main(center).get_by_role("link", name="従事者誓約書（第7条）").click()
        center.wait_for_url(path_re("/rules/staff_pledge/"))
        expect(main(center)).to_contain_text("第1版")
        assert_accessible(center)

        # It records the version the council approved: one item more, in force today.
        main(center).get_by_role("link", name="新しい版を登録する（センター）").click()
        center.wait_for_url(path_re("/rules/staff_pledge/new/"))
        assert_accessible(center)
        source = center.locator("textarea[name=source]")
        source.fill(source.input_value() + NEW_ITEM + "\n")
        center.get_by_label("改定の概要").fill("(6) を追加")
        center.get_by_label("上越医師会の承認日").fill(today)
        center.get_by_label("施行日").fill(today)
        main(center).get_by_role("button", name="この版を登録する").click()
        # Not confirmed that the council approved it: refused, nothing published.
        expect(main(center)).to_contain_text("入力内容を確認してください。")
        center.get_by_label("運営会議で協議され").check()
        main(center).get_by_role("button", name="この版を登録する").click()
        center.wait_for_url(path_re("/rules/staff_pledge/"))
        expect(main(center)).to_contain_text("第2版を登録しました")
        expect(main(center)).to_contain_text("私用の端末に患者の情報を保存しない。")

        # Her pledge covers version 1 only: the center sees her name.
        center.goto(demo_live + "/center/agreements/")
        expect(center.locator("#outdated-pledges")).to_contain_text(NURSE)
        assert_accessible(center)

        # The nurse reads the new items and confirms them.
        nurse = nurse_context.new_page()
        login(nurse, demo_live, NURSE)
        nurse.get_by_role("navigation", name="メインメニュー").get_by_role(
            "link", name="誓約書"
        ).click()
        nurse.wait_for_url(path_re("/facilities/pledge/"))
        expect(main(nurse)).to_contain_text("私用の端末に患者の情報を保存しない。")
        expect(main(nurse)).to_contain_text("退職後も、知り得た情報を漏えいしてはならない。")
        expect(main(nurse)).to_contain_text("第1版に誓約済みです")
        assert_accessible(nurse)
        nurse.get_by_label("上の誓約する内容を読み、守ることを誓約します").check()
        main(nurse).get_by_role("button", name="高田訪問看護ステーション に誓約する").click()
        nurse.wait_for_url(path_re("/facilities/pledge/"))
        expect(main(nurse)).to_contain_text("従事者誓約書を確認しました")
        expect(main(nurse)).to_contain_text("第2版をポータルで確認しました")
        assert_accessible(nurse)
        pledge = StaffPledge.objects.get(user__email=NURSE)
        assert pledge.rule_version.number == 2 and pledge.method == "portal"

        # The center's list no longer names her; her administrator has not confirmed yet.
        center.reload()
        expect(center.locator("#outdated-pledges")).not_to_contain_text(NURSE)
        expect(center.locator("#outdated-pledges")).to_contain_text("admin@takada.example.jp")
    finally:
        center_context.close()
        nurse_context.close()
