"""Usable in the field, in a real browser at the widths people use: an outsider on a phone finds
the application and its address fills in; a care manager on a tablet records a consent among
2,000 facilities, invites three supporters in one go, sees her home's to-do list; on a phone
she is asked before reporting the end of care and can take it back; an invitee is asked before
declining; a nurse reports a lost phone without naming it twice. axe-core on every page."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from consents.models import Consent
from facilities.models import Facility, User
from facilities.search import search_key
from groups.models import Group, Membership
from tests.factories import made_patient, made_patient_group

from .helpers import assert_accessible, login, login_with_totp, path_re

CM = "cm@kasugano.example.jp"
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}


def main(page):
    return page.locator("main")


def test_an_outsider_on_a_phone_finds_the_application_and_the_address_fills_in(page, demo_live):
    page.set_viewport_size(PHONE)
    page.goto(demo_live + "/accounts/login/")
    assert_accessible(page)
    main(page).get_by_role("link", name="オンラインで利用を申し込む").click()
    page.wait_for_url(path_re("/enrollment/apply/"))
    assert_accessible(page)
    # The form's own example, typed full-width: the address comes from Japan Post's data.
    page.get_by_label("郵便番号").fill("９４３－０８３４")
    expect(page.get_by_label("都道府県")).to_have_value("新潟県")
    expect(page.get_by_label("市区町村")).to_have_value("上越市")
    expect(page.get_by_label("町域")).to_have_value("西城町")
    expect(page.get_by_label("郵便番号")).to_have_value("943-0834")
    expect(main(page).get_by_role("status").first).to_contain_text("住所を入力しました")
    assert_accessible(page)


def test_a_consent_among_two_thousand_facilities_on_a_tablet(page, demo_live):
    names = [f"在宅支援事業所{i:04d}" for i in range(2_000)]
    Facility.objects.bulk_create(
        Facility(name=name, kind="care_service", state="active", search_name=search_key(name))
        for name in names
    )
    cm_user = User.objects.get(email=CM)
    patient = made_patient(
        manager=cm_user, facility=Facility.objects.get(name__startswith="春日野")
    )
    page.set_viewport_size(TABLET)
    login_with_totp(page, demo_live, cm_user)
    page.goto(demo_live + reverse("consents:consent_create", args=[patient.pk]))
    boxes = main(page).locator("input[type=checkbox][name=covered_facilities]")
    assert 0 < boxes.count() < 100
    assert_accessible(page)
    # Typed part of the name: matches appear as one types, without sending the form.
    page.get_by_label("事業所名で探す").fill("在宅支援事業所1999")
    expect(page.get_by_label(re.compile("在宅支援事業所1999"))).to_be_visible()
    page.get_by_label(re.compile("在宅支援事業所1999")).check()
    assert boxes.count() < 100
    assert_accessible(page)
    page.get_by_label("紙の同意書を事業所で保管している（事業所控え）").check()
    main(page).get_by_role("button", name="記録する").click()
    page.wait_for_url(re.compile(r".*/patients/\d+/$"))
    expect(main(page)).to_contain_text("同意書を記録しました")
    covered = {f.name for f in Consent.objects.get(patient=patient).covered_facilities.all()}
    assert "在宅支援事業所1999" in covered and any(n.startswith("春日野") for n in covered)


def test_three_supporters_invited_in_one_go_on_a_tablet(page, demo_live):
    cm_user = User.objects.get(email=CM)
    group = made_patient_group(
        manager=cm_user, facility=Facility.objects.get(name__startswith="春日野")
    )
    page.set_viewport_size(TABLET)
    login_with_totp(page, demo_live, cm_user)
    page.goto(demo_live + reverse("groups:detail", args=[group.pk]))
    main(page).get_by_role("link", name="メンバーを招待").click()
    assert_accessible(page)
    page.get_by_label("氏名・ふりがな").fill("たかだ")
    main(page).get_by_role("button", name="検索", exact=True).click()
    main(page).get_by_label("高田看子 さんを選ぶ").check()
    # A second search keeps the first choice.
    page.get_by_label("氏名・ふりがな").fill("")
    page.locator("select[name=facility]").select_option(label="ABCクリニック")
    main(page).get_by_role("button", name="検索", exact=True).click()
    expect(main(page).get_by_role("group", name=re.compile("選んだ人"))).to_contain_text("高田看子")
    abc_people = main(page).locator("table input[type=checkbox][name=chosen]")
    assert abc_people.count() >= 2
    abc_people.nth(0).check()
    abc_people.nth(1).check()
    assert_accessible(page)
    main(page).get_by_role("button", name="選んだ人の招待を確認する").click()
    expect(main(page)).to_contain_text("次の 3 人を招待します")
    assert not group.memberships.filter(state=Membership.State.INVITED).exists()
    assert_accessible(page)
    main(page).get_by_role("button", name="3 人を招待する").click()
    expect(main(page)).to_contain_text("（3 人）を招待しました")
    assert group.memberships.filter(state=Membership.State.INVITED).count() == 3
    assert_accessible(page)


def test_the_care_managers_home_on_a_tablet(page, demo_live):
    page.set_viewport_size(TABLET)
    login_with_totp(page, demo_live, User.objects.get(email=CM))
    page.wait_for_url(path_re("/"))
    expect(main(page).get_by_role("heading", name="今やること")).to_be_visible()
    groups = main(page).get_by_role("region", name="あなたの連携グループ")
    expect(groups.get_by_role("link", name="山田太郎さんのグループ")).to_be_visible()
    assert_accessible(page)
    groups.get_by_role("link", name="山田太郎さんのグループ").click()
    page.wait_for_url(re.compile(r".*/groups/\d+/$"))


def test_asked_before_reporting_the_end_of_care_and_undone_on_a_phone(page, demo_live):
    yamada = Group.objects.get(name="山田太郎さんのグループ")
    page.set_viewport_size(PHONE)
    login_with_totp(page, demo_live, User.objects.get(email=CM))
    group_url = demo_live + reverse("groups:detail", args=[yamada.pk])
    page.goto(group_url)
    main(page).get_by_role("link", name="利用終了を報告").click()
    expect(main(page)).to_contain_text("報告すると、次のようになります")
    expect(main(page)).to_contain_text("1日以内でアーカイブされる前なら")
    assert_accessible(page)
    page.get_by_label("転居・転出").check()
    main(page).get_by_role("button", name="報告する").click()
    page.wait_for_url(group_url)
    expect(main(page)).to_contain_text("アーカイブ予定")
    assert_accessible(page)
    main(page).get_by_role("button", name="利用終了の報告を取り消す").click()
    page.wait_for_url(group_url)
    expect(main(page)).to_contain_text("利用終了の報告を取り消しました")
    yamada.refresh_from_db()
    assert yamada.state == Group.State.ACTIVE


def test_asked_before_declining_an_invitation_on_a_phone(page, demo_live):
    yamada = Group.objects.get(name="山田太郎さんのグループ")
    page.set_viewport_size(PHONE)
    admin = User.objects.get(email="admin@takada.example.jp")  # invited in the demo
    login_with_totp(page, demo_live, admin)
    page.goto(demo_live + reverse("groups:invitation", args=[yamada.pk]))
    main(page).get_by_role("button", name="辞退する").click()
    page.wait_for_url(re.compile(r".*/invitation/decline/\??$"))
    expect(main(page)).to_contain_text("この操作は元に戻せません")
    assert yamada.memberships.get(user=admin).state == Membership.State.INVITED
    assert_accessible(page)
    main(page).get_by_role("button", name="辞退する").click()
    expect(main(page)).to_contain_text("招待を辞退しました")
    assert yamada.memberships.get(user=admin).state == Membership.State.DECLINED


def test_a_lost_phone_is_reported_once_named_on_a_phone(page, demo_live):
    page.set_viewport_size(PHONE)
    login(page, demo_live, "nurse@takada.example.jp")
    page.goto(demo_live + reverse("devices:loss_create"))
    device = page.get_by_label("登録済みの機器")
    options = device.locator("option")
    chosen = next(
        options.nth(i).get_attribute("value")
        for i in range(options.count())
        if options.nth(i).get_attribute("value")
    )
    device.select_option(chosen)
    page.get_by_label("紛失", exact=True).check()
    page.get_by_label("紛失・盗難に気づいた日時").fill("2026-12-01T10:00")
    page.get_by_label("場所").fill("訪問先の駐車場")
    page.get_by_label("機器に入っていた情報").fill("MCSアプリ")
    page.get_by_label("変更した", exact=True).check()
    page.get_by_label(re.compile("依頼した")).first.check()
    main(page).get_by_role("button", name=re.compile("報告")).first.click()
    page.wait_for_url(re.compile(r".*/devices/losses/\d+/$"))
    expect(main(page)).not_to_contain_text("このフィールドは必須です")


def test_the_address_lookup_runs_under_the_content_security_policy(page, demo_live):
    """CSP forbids inline script: the picker and the address lookup run from files."""
    messages = []
    page.on("console", lambda msg: messages.append(msg.text))
    page.goto(demo_live + "/enrollment/apply/")
    page.get_by_label("郵便番号").fill("9430834")
    expect(page.get_by_label("都道府県")).to_have_value("新潟県")
    assert not [m for m in messages if "Content Security Policy" in m]
