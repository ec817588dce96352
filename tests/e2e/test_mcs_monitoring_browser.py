"""On a phone, in a real browser: ABC's MCS administrator (not its facility manager) records
an education session choosing every attendee with 「全員を選択」 (第7条), then attests the staff
against MCS; the difference found is a task on the home page until resolved."""

from playwright.sync_api import expect

from facilities.models import EducationSession, Facility, User
from groups.models import StaffAttestationLine

from .helpers import assert_accessible, login_with_totp, path_re

PHONE = {"width": 375, "height": 800}


def main(page):
    return page.locator("main")


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{page.url} scrolls sideways on a phone: {width}px"


def test_mcs_administrator_records_education_and_attests_staff_on_a_phone(browser, demo_live):
    abc = Facility.objects.get(name="ABCクリニック")
    admin = User.objects.get(email="admin@abc.example.jp")
    context = browser.new_context(locale="ja-JP", viewport=PHONE, has_touch=True)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        login_with_totp(page, demo_live, admin)

        # 第7条: the education session, attendees in bulk.
        page.goto(f"{demo_live}/facilities/{abc.pk}/education/new/")
        expect(page.get_by_role("heading", level=1)).to_have_text("教育の実施を記録する")
        select_all = page.get_by_label("全員を選択")
        expect(select_all).not_to_be_checked()
        expect(main(page)).to_contain_text("（0 / 2）")
        select_all.check()
        for name in ("上越一", "山田花子"):
            expect(page.get_by_label(name, exact=True)).to_be_checked()
        expect(main(page)).to_contain_text("（2 / 2）")
        page.get_by_label("山田花子", exact=True).uncheck()
        expect(main(page)).to_contain_text("（1 / 2）")
        expect(select_all).not_to_be_checked()
        select_all.check()
        assert_accessible(page)
        _no_sideways_scroll(page)
        page.get_by_label("実施日").fill("2026-04-10")
        page.get_by_label("内容").fill("MCSへの書き込みの注意")
        main(page).get_by_role("button", name="記録する").click()
        page.wait_for_url(path_re(f"/facilities/{abc.pk}/education/"))
        expect(main(page)).to_contain_text("教育の実施を記録しました")
        session = EducationSession.objects.get(facility=abc)
        assert session.attendees.count() == 2

        # MCS has no API: the staff, one by one, against MCS.
        page.get_by_role("navigation", name="事業所の管理").get_by_role(
            "link", name="MCSとの照合"
        ).click()
        page.wait_for_url(path_re(f"/groups/facilities/{abc.pk}/attestation/"))
        assert_accessible(page)
        _no_sideways_scroll(page)
        main(page).get_by_role("group", name="上越一").get_by_label("MCSに登録あり").check()
        main(page).get_by_role("group", name="山田花子").get_by_label("解除済み").check()
        main(page).get_by_role("button", name="照合を記録する").click()
        expect(main(page)).to_contain_text("相違: 1 件")
        page.goto(demo_live + "/")
        expect(main(page)).to_contain_text("ABCクリニック: 職員登録の照合")
        main(page).get_by_role("link", name="ABCクリニック: 職員登録の照合").click()
        page.get_by_label("どのように解消したか").fill("MCSで再登録した")
        main(page).get_by_role("button", name="解消済みにする").click()
        expect(main(page)).to_contain_text("相違を解消済みにしました")
        assert not StaffAttestationLine.objects.filter(
            attestation__facility=abc, discrepancy=True, resolved_at__isnull=True
        ).exists()
    finally:
        context.close()
