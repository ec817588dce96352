"""The care manager's walk in a real browser (第8条, 第9条, 留意事項 1–3): register a patient →
record the consent → create the group → invite → the nurse accepts → review → report the end →
archive; axe-core on every page on the way."""

import re

from playwright.sync_api import expect

from facilities.models import User

from .helpers import assert_accessible, login, login_with_totp, path_re

CM = "cm@kasugano.example.jp"
NURSE = "nurse@takada.example.jp"


def main(page):
    return page.locator("main")


def test_register_consent_group_invite_accept_review_end_archive(page, second_page, demo_live):
    cm = page
    login_with_totp(cm, demo_live, User.objects.get(email=CM))

    # 1. Register the patient (name and kana required; kana typed in hiragana).
    cm.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="患者").click()
    cm.wait_for_url(path_re("/patients/"))
    assert_accessible(cm)
    main(cm).get_by_role("link", name="患者を登録する").click()
    cm.wait_for_url(path_re("/patients/new/"))
    assert_accessible(cm)
    cm.get_by_label(re.compile(r"^氏名")).fill("新潟三郎")
    cm.get_by_label(re.compile(r"^ふりがな")).fill("にいがた さぶろう")
    cm.get_by_label("生年月日").fill("1945-05-05")
    cm.get_by_label("電話番号").fill("０２５－５５５－０９０９")
    main(cm).get_by_role("button", name="登録する").click()

    # 2. Record the consent (別紙7): the explainer defaults to the recorder.
    cm.wait_for_url(re.compile(r".*/patients/\d+/consents/new/$"))
    assert_accessible(cm)
    expect(cm.get_by_label("説明した人の氏名")).to_have_value("春日野一郎")
    # 高田 is not in his care yet: found by typing part of its name (the facility picker).
    cm.get_by_label("事業所名で探す").fill("高田")
    cm.get_by_label("高田訪問看護ステーション").check()
    cm.get_by_label("紙の同意書を事業所で保管している（事業所控え）").check()
    main(cm).get_by_role("button", name="記録する").click()
    cm.wait_for_url(re.compile(r".*/patients/\d+/$"))
    expect(main(cm)).to_contain_text("同意書を記録しました")
    expect(main(cm)).to_contain_text("ニイガタ サブロウ")
    assert_accessible(cm)

    # 3. Create the group: named after the patient, the creator manages it.
    main(cm).get_by_role("link", name="患者グループを作成する").click()
    assert_accessible(cm)
    main(cm).get_by_role("button", name="作成する").click()
    expect(cm.get_by_role("heading", level=1)).to_have_text("新潟三郎さんのグループ")
    assert_accessible(cm)
    group_url = cm.url

    # 4. Invite the 高田 nurse from the directory.
    main(cm).get_by_role("link", name="メンバーを招待").click()
    assert_accessible(cm)
    cm.get_by_label("氏名・ふりがな").fill("たかだ")
    main(cm).get_by_role("button", name="検索").click()
    expect(main(cm)).to_contain_text("高田看子")
    assert_accessible(cm)
    main(cm).get_by_label("高田看子 さんを選ぶ").check()
    main(cm).get_by_role("button", name="選んだ人の招待を確認する").click()
    expect(main(cm)).to_contain_text("次の 1 人を招待します")
    assert_accessible(cm)
    main(cm).get_by_role("button", name="1 人を招待する").click()
    expect(main(cm)).to_contain_text("高田看子 さんを招待しました")
    expect(main(cm)).to_contain_text("回答待ちの招待")

    # 5. The nurse, on her phone, sees the invitation with the name only, and accepts.
    nurse = second_page
    login(nurse, demo_live, NURSE)
    nurse.wait_for_url(path_re("/"))
    main(nurse).get_by_role("link", name="新潟三郎さんのグループ").first.click()
    nurse.wait_for_url(re.compile(r".*/groups/\d+/invitation/$"))
    expect(main(nurse)).to_contain_text("新潟三郎さんのグループ")
    expect(main(nurse)).not_to_contain_text("1945")
    expect(main(nurse)).not_to_contain_text("025-555-0909")
    assert_accessible(nurse)
    main(nurse).get_by_role("button", name="受理する").click()
    nurse.wait_for_url(group_url)
    expect(main(nurse)).to_contain_text("1945年5月5日")
    expect(main(nurse)).to_contain_text("高田看子")
    assert_accessible(nurse)
    width = nurse.evaluate("document.documentElement.scrollWidth")
    assert width <= 376, f"the group page scrolls sideways on a phone: {width}px"

    # 6. The manager reviews the supporters (留意事項 1).
    cm.goto(group_url)
    main(cm).get_by_role("link", name="サポーターを精査").click()
    expect(main(cm)).to_contain_text("高田訪問看護ステーション")
    assert_accessible(cm)
    # 第8条(1): the timeline check is required; the review is refused without it.
    main(cm).get_by_role("button", name="精査を記録する").click()
    expect(main(cm)).to_contain_text("タイムラインを確認し")
    main(cm).get_by_label("MCSのこのグループのタイムラインを確認しました").check()
    main(cm).get_by_role("button", name="精査を記録する").click()
    cm.wait_for_url(group_url)
    expect(main(cm)).to_contain_text("精査を記録しました")
    expect(main(cm)).to_contain_text("解除なし")

    # 7. The patient moved: the manager reports the end (留意事項 3).
    main(cm).get_by_role("link", name="利用終了を報告").click()
    assert_accessible(cm)
    cm.get_by_label("転居・転出").check()
    main(cm).get_by_role("button", name="報告する").click()
    cm.wait_for_url(group_url)
    expect(main(cm)).to_contain_text("アーカイブ予定")
    assert_accessible(cm)

    # 8. 春日野's MCS administrator (the same care manager here) archives (留意事項 2).
    main(cm).get_by_role("link", name="アーカイブする").click()
    expect(main(cm)).to_contain_text("転居・転出")
    expect(main(cm)).not_to_contain_text("1945")
    assert_accessible(cm)
    main(cm).get_by_role("button", name="アーカイブする").click()
    cm.wait_for_url(path_re("/groups/archive/"))
    expect(main(cm)).to_contain_text("新潟三郎さんのグループ")
    assert_accessible(cm)

    # Gone from the working list; the nurse keeps a line in her history, without his name
    # (access ends with care, 別紙5 (2)).
    cm.goto(demo_live + "/groups/")
    expect(main(cm)).not_to_contain_text("新潟三郎さんのグループ")
    nurse.goto(demo_live + "/groups/archive/")
    expect(main(nurse)).to_contain_text("参加していた 患者グループ No.")
    expect(main(nurse)).not_to_contain_text("新潟三郎")
    assert_accessible(nurse)


def test_the_center_overview_and_announcements_are_accessible(page, demo_live):
    login_with_totp(page, demo_live, User.objects.get(email="center@example.jp"))
    page.goto(demo_live + "/groups/center/")
    expect(main(page)).to_contain_text("患者グループ No.")
    expect(main(page)).not_to_contain_text("山田太郎")
    expect(main(page)).not_to_contain_text("1938")
    assert_accessible(page)
    page.goto(demo_live + "/groups/announcements/")
    expect(main(page)).to_contain_text("MC ネットへようこそ")
    assert_accessible(page)
