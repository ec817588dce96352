"""Staff administration (第6条) in a real browser: the MCS administrator invites a nurse, the
nurse accepts and sets a password, the administrator deactivates her and she is gone from her
groups. Every page on the way is checked with axe-core."""

from playwright.sync_api import expect

from facilities.models import Facility, FacilityMembership, Invitation, User

from .helpers import assert_accessible, login, login_with_totp, path_re

TAKADA = "高田訪問看護ステーション"
NEW_NURSE = "hoshino@takada.example.jp"
NEW_PASSWORD = "mcnet2026kango"


def main(page):
    return page.locator("main")


def test_admin_invites_nurse_who_accepts_then_leaves_and_is_gone_from_her_groups(
    browser, demo_live
):
    from groups import services as group_services
    from groups.models import Group, Membership

    takada = Facility.objects.get(name=TAKADA)
    admin_context = browser.new_context(locale="ja-JP")
    nurse_context = browser.new_context(locale="ja-JP")
    admin_context.set_default_timeout(10_000)
    nurse_context.set_default_timeout(10_000)
    try:
        admin = admin_context.new_page()
        login_with_totp(admin, demo_live, User.objects.get(email="admin@takada.example.jp"))
        assert_accessible(admin)  # home, with the facility card

        # The MCS administrator opens the facility and invites a nurse.
        admin.get_by_role("navigation", name="メインメニュー").get_by_role(
            "link", name="事業所の管理"
        ).click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/"))
        expect(admin.get_by_role("heading", level=1)).to_have_text(TAKADA)
        assert_accessible(admin)
        admin.get_by_role("navigation", name="事業所の管理").get_by_role(
            "link", name="招待"
        ).click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/invitations/"))
        assert_accessible(admin)
        main(admin).get_by_role("link", name="職員を招待する").click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/invitations/new/"))
        assert_accessible(admin)
        admin.get_by_label("メールアドレス（MCS ID）").fill("ｈｏｓｈｉｎｏ＠takada.example.jp")
        admin.get_by_label("氏名").fill("星野看護")
        admin.get_by_label("ふりがな").fill("ほしの かんご")
        admin.get_by_label("職種").select_option("nurse")
        main(admin).get_by_role("button", name="招待メールを送る").click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/invitations/"))
        expect(main(admin)).to_contain_text(f"{NEW_NURSE} に招待メールを送りました。")
        expect(main(admin).get_by_role("row", name=NEW_NURSE)).to_contain_text("招待中")
        assert_accessible(admin)

        # The nurse opens the link from her e-mail, sets a password and her profile.
        invitation = Invitation.objects.get(email=NEW_NURSE)
        nurse = nurse_context.new_page()
        nurse.goto(demo_live + invitation.get_accept_url())
        expect(nurse.get_by_role("heading", level=1)).to_contain_text(TAKADA)
        expect(nurse.get_by_label("氏名")).to_have_value("星野看護")
        password = nurse.locator("input[name=password1]")
        expect(password).to_have_attribute("autocomplete", "off")
        assert_accessible(nurse)
        nurse.get_by_label("電話番号").fill("０２５－３３３－１２３４")
        password.fill("hoshinokango")  # letters only: refused (第11条(3))
        nurse.locator("input[name=password2]").fill("hoshinokango")
        main(nurse).get_by_role("button", name="登録する").click()
        expect(main(nurse)).to_contain_text("数字（0〜9）が含まれていません")
        assert_accessible(nurse)
        nurse.locator("input[name=password1]").fill(NEW_PASSWORD)
        nurse.locator("input[name=password2]").fill(NEW_PASSWORD)
        main(nurse).get_by_role("button", name="登録する").click()
        nurse.wait_for_url(path_re("/"))
        expect(main(nurse)).to_contain_text("ようこそ")
        expect(nurse.get_by_role("heading", level=1)).to_contain_text("星野看護")
        assert_accessible(nurse)
        hoshino = User.objects.get(email=NEW_NURSE)
        assert hoshino.phone == "025-333-1234"
        assert FacilityMembership.objects.get(user=hoshino, facility=takada).is_active

        # She joins the groups she is invited to (the groups app's own flow).
        cm = User.objects.get(email="cm@kasugano.example.jp")
        free_group = Group.objects.filter(kind=Group.Kind.FREE, manager=cm).first()
        membership = group_services.membership_invite(actor=cm, group=free_group, user=hoshino)
        group_services.group_invitation_accept(actor=hoshino, membership=membership)
        assert Membership.objects.filter(user=hoshino, state="accepted").count() == 1

        # She left: the administrator deactivates her from the staff list.
        admin.get_by_role("navigation", name="事業所の管理").get_by_role(
            "link", name="職員一覧"
        ).click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/staff/"))
        row = main(admin).get_by_role("row", name="星野看護")
        expect(row).to_contain_text("看護師")
        expect(row).to_contain_text("未記録")  # no pledge yet
        assert_accessible(admin)
        row.get_by_role("link", name="星野看護").click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/staff/{hoshino.pk}/"))
        assert_accessible(admin)
        main(admin).get_by_role("link", name="退職等により利用を中止する").click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/staff/{hoshino.pk}/deactivate/"))
        assert_accessible(admin)
        admin.get_by_label("理由").fill("退職")
        admin.get_by_label("この方のログインを止め").check()
        main(admin).get_by_role("button", name="利用を中止する").click()
        admin.wait_for_url(path_re(f"/facilities/{takada.pk}/staff/{hoshino.pk}/"))
        expect(main(admin)).to_contain_text("利用を中止しました")
        expect(main(admin)).to_contain_text("在籍終了")
        assert_accessible(admin)

        # She is gone from her groups, and her open session ends.
        assert not Membership.objects.filter(
            user=hoshino, state__in=Membership.OPEN_STATES
        ).exists()
        hoshino.refresh_from_db()
        assert hoshino.state == User.State.LEFT and not hoshino.is_active
        nurse.goto(demo_live + "/groups/")
        nurse.wait_for_url(path_re("/accounts/login/"))
        login(nurse, demo_live, NEW_NURSE, NEW_PASSWORD)
        assert "/accounts/login/" in nurse.url or "/accounts/inactive/" in nurse.url
        assert_accessible(nurse)
    finally:
        admin_context.close()
        nurse_context.close()


def test_facility_pages_are_accessible_and_postal_code_fills_the_address(page, demo_live):
    takada = Facility.objects.get(name=TAKADA)
    login_with_totp(page, demo_live, User.objects.get(email="admin@takada.example.jp"))
    nurse = User.objects.get(email="nurse@takada.example.jp")
    for path in [
        f"/facilities/{takada.pk}/roles/",
        f"/facilities/{takada.pk}/education/",
        f"/facilities/{takada.pk}/education/new/",
        f"/facilities/{takada.pk}/staff/{nurse.pk}/restrict/",
        f"/facilities/{takada.pk}/staff/{nurse.pk}/pledge/",
        "/facilities/directory/?q=ﾀｶﾀﾞ",
        "/facilities/directory/facilities/",
        "/facilities/profile/",
    ]:
        page.goto(demo_live + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)

    # The directory shows the nurse's photo, streamed by the portal to signed-in users.
    page.goto(demo_live + "/facilities/directory/?q=かんこ")
    photo = main(page).get_by_role("img", name="高田看子 さんの顔写真")
    expect(photo).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", photo.element_handle()) > 0

    page.goto(demo_live + f"/facilities/{takada.pk}/edit/")
    assert_accessible(page)
    for name in ("prefecture", "city", "town"):
        page.locator(f"input[name={name}]").fill("")
    page.get_by_label("郵便番号").fill("９４３－０８３５")
    expect(page.locator("input[name=town]")).to_have_value("本城町")
    expect(page.locator("input[name=city]")).to_have_value("上越市")
    expect(page.locator("input[name=prefecture]")).to_have_value("新潟県")
    expect(page.get_by_role("status").filter(has_text="住所を入力しました")).to_be_visible()
    # Still editable: the typed town is what is saved.
    page.locator("input[name=town]").fill("本城町（北側）")
    main(page).get_by_role("button", name="保存する").click()
    page.wait_for_url(path_re(f"/facilities/{takada.pk}/"))
    takada.refresh_from_db()
    assert (takada.postal_code, takada.town) == ("943-0835", "本城町（北側）")
    assert_accessible(page)
