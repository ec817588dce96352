"""A leaver in a real browser (第4条2, 留意事項4, 第7条(2), 第12条(13)): the MCS administrator
deactivates the nurse → her checklist (the tablet to return, 「スタッフ解除」 in MCS, the duty
after leaving) → the facility sends its 別紙4 → the center confirms it in its queue."""

from playwright.sync_api import expect

from devices.models import Device, LeaverChecklist
from enrollment.models import ChangeNotice
from facilities.models import Facility, User

from .helpers import assert_accessible, login_with_totp, path_re

TAKADA = "高田訪問看護ステーション"


def main(page):
    return page.locator("main")


def test_the_administrator_deactivates_a_leaver_and_the_center_confirms_the_besshi4(
    browser, demo_live
):
    takada = Facility.objects.get(name=TAKADA)
    nurse = User.objects.get(email="nurse@takada.example.jp")
    admin_context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
    center_context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
    admin_context.set_default_timeout(10_000)
    center_context.set_default_timeout(10_000)
    try:
        admin = admin_context.new_page()
        login_with_totp(admin, demo_live, User.objects.get(email="admin@takada.example.jp"))

        # The nurse left: the administrator deactivates her.
        admin.goto(demo_live + f"/facilities/{takada.pk}/staff/{nurse.pk}/deactivate/")
        admin.get_by_label("理由").fill("退職")
        admin.get_by_label("この方のログインを止め").check()
        main(admin).get_by_role("button", name="利用を中止する").click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/staff/{nurse.pk}/"))
        expect(main(admin)).to_contain_text("利用を中止しました")

        # Her checklist: the tablet lent to her is to be returned.
        checklist = LeaverChecklist.objects.get(facility=takada, user=nurse)
        admin.goto(demo_live + "/devices/leavers/")
        main(admin).get_by_role("link", name="高田看子").click()
        admin.wait_for_url(path_re(f"/devices/leavers/{checklist.pk}/"))
        expect(main(admin)).to_contain_text("訪問用タブレット1号")
        expect(main(admin)).to_contain_text("スタッフ解除")
        expect(main(admin)).to_contain_text("退職後も、知り得た情報を漏えいしてはならない。")
        assert_accessible(admin)
        main(admin).get_by_role(
            "button", name="「貸与端末・持ち出した情報の返却」を確認した"
        ).click()
        expect(main(admin)).to_contain_text("まだ「使用中」です")

        # The tablet comes back, erased with erase software (第12条(13)).
        main(admin).get_by_role("link", name="訪問用タブレット1号", exact=True).click()
        tablet = Device.objects.get(facility=takada, label="訪問用タブレット1号")
        admin.wait_for_url(path_re(f"/devices/register/{tablet.pk}/"))
        admin.goto(demo_live + f"/devices/register/{tablet.pk}/state/")
        admin.get_by_label("返却済み").check()
        admin.get_by_label("データ消去の方法（第12条(13)）").select_option("erase_software")
        admin.get_by_label("消去・破壊を行った人（業者）").fill("高田次郎")
        main(admin).get_by_role("button", name="変更する").click()
        expect(main(admin)).to_contain_text("機器の状態を変更しました")

        admin.goto(demo_live + f"/devices/leavers/{checklist.pk}/")
        for label in (
            "貸与端末・持ち出した情報の返却",
            "MCSでの「スタッフ解除」",
            "退職後の守秘義務を伝えた",
        ):
            main(admin).get_by_role("button", name=f"「{label}」を確認した").click()
            admin.wait_for_url(path_re(f"/devices/leavers/{checklist.pk}/"))
        expect(main(admin)).to_contain_text("チェックリストを完了しました")
        checklist.refresh_from_db()
        assert checklist.closed_at is not None

        # The facility sends its 別紙4 with the nurse's line in one action.
        notice = ChangeNotice.objects.get(facility=takada, state=ChangeNotice.State.DRAFT)
        admin.goto(demo_live + f"/enrollment/notices/{notice.pk}/")
        expect(main(admin)).to_contain_text("高田看子")
        assert_accessible(admin)
        main(admin).get_by_role("button", name="この変更届（別紙4）をセンターへ提出する").click()
        expect(main(admin)).to_contain_text("センターへ提出しました")

        # The center confirms it in its queue.
        center = center_context.new_page()
        login_with_totp(center, demo_live, User.objects.get(email="center@example.jp"))
        center.goto(demo_live + "/admin/enrollment/changenotice/?state__exact=submitted")
        center.locator(f'input[name="_selected_action"][value="{notice.pk}"]').check()
        center.locator('select[name="action"]').select_option("confirm")
        center.locator('button[name="index"]').click()
        center.locator("#content form input[type=submit]").click()
        center.wait_for_url(path_re("/admin/enrollment/changenotice/"))
        notice.refresh_from_db()
        assert notice.state == ChangeNotice.State.CONFIRMED
        assert list(notice.rows.values_list("action", "email")) == [
            ("delete", "nurse@takada.example.jp")
        ]
    finally:
        admin_context.close()
        center_context.close()
