"""Joining the network in a real browser (利用開始までの流れ):

apply (別紙1 + 別紙2) → confirm the address → the center accepts in the admin → the new
manager sets a password → the facility submits 別紙3 → the center registers → a participant
sets a password and logs in. axe-core checks each public page and the facility's form.
"""

import re

import pytest
from playwright.sync_api import expect

from enrollment import selectors
from enrollment.models import Application, RosterRequest
from facilities.models import Facility, Invitation, User

from .helpers import activate_totp, assert_accessible, login, login_with_totp, path_re

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)
FACILITY = "有田訪問看護ステーション"
MANAGER = "manager@arita.example.jp"
PARTICIPANT = "jiro@arita.example.jp"


@pytest.fixture
def new_page(browser):
    """Another person's browser: a fresh context, no shared session."""
    contexts = []

    def make():
        context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _admin_action(page, base_url, changelist: str, pk: int, action: str):
    """Select one row of an admin list, run the action, and confirm on the page it opens."""
    page.goto(base_url + changelist)
    page.locator(f'input[name="_selected_action"][value="{pk}"]').check()
    page.locator('select[name="action"]').select_option(action)
    page.locator('button[name="index"]').click()
    page.locator("#content form input[type=submit]").click()
    page.wait_for_url(path_re(changelist))


def _accept_invitation(page, base_url, email: str, name: str, kana: str, password: str):
    invitation = Invitation.objects.get(email=email, state=Invitation.State.PENDING)
    page.goto(base_url + invitation.get_accept_url())
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=kana]").fill(kana)
    page.locator("input[name=password1]").fill(password)
    page.locator("input[name=password2]").fill(password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")


def test_apply_accept_submit_roster_register_participant_logs_in(
    page, new_page, demo_live, tmp_path
):
    base = demo_live
    # --- the applicant, no account -------------------------------------------------------
    page.goto(base + "/enrollment/apply/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("利用申込")
    expect(page.locator("main")).to_contain_text("第５条")
    assert_accessible(page)
    page.get_by_label("事業所名").fill(FACILITY)
    page.get_by_label("施設の種類").select_option("visiting_nursing")
    page.get_by_label("郵便番号").fill("９４３－０８３５")  # full width, filled into the address
    page.get_by_label("番地・建物名").fill("6-6-6")
    page.get_by_label("事業所電話番号").fill("025-666-6666")
    page.get_by_label("事業所管理者氏名").fill("有田管理")
    page.get_by_label("事業所管理者メールアドレス").fill("ｍａｎａｇｅｒ＠arita.example.jp")
    page.get_by_label("誓約します").check()
    page.get_by_role("button", name="確認メールを送る").click()
    page.wait_for_url(path_re("/enrollment/apply/sent/"))
    assert_accessible(page)

    application = Application.objects.get(facility_name=FACILITY)
    assert application.manager_email == MANAGER and application.city == "上越市"
    page.goto(base + selectors.application_confirm_path(application))
    assert_accessible(page)
    page.get_by_role("button", name="確認してセンターへ提出する").click()
    status_path = selectors.application_status_path(application)
    page.wait_for_url(path_re(status_path))
    expect(page.locator("main")).to_contain_text("提出済み（センター審査待ち）")
    assert_accessible(page)

    page.get_by_role("link", name="別紙1・別紙2を印刷する").click()
    expect(page.locator("main")).to_contain_text("＜別紙１＞")
    expect(page.locator(".seal")).to_have_count(2)
    assert_accessible(page)
    page.goto(base + status_path)
    scan = tmp_path / "signed.png"
    scan.write_bytes(PNG)
    page.get_by_label("署名・押印した書類の写し").set_input_files(str(scan))
    page.get_by_role("button", name="写しを送る").click()
    page.wait_for_url(path_re(status_path))
    expect(page.locator("main")).to_contain_text("受領済み")

    # --- the center accepts in the admin ----------------------------------------------------
    center = new_page()
    login_with_totp(center, base, User.objects.get(email="center@example.jp"))
    _admin_action(center, base, "/admin/enrollment/application/", application.pk, "accept")
    facility = Facility.objects.get(name=FACILITY)
    assert facility.state == Facility.State.ACTIVE

    # --- the manager sets a password and files 別紙3 ---------------------------------------
    manager = new_page()
    _accept_invitation(manager, base, MANAGER, "有田管理", "ありた かんり", "arita-manager-2026")
    # A facility manager appoints MCS administrators, so sets up a second factor first.
    manager.goto(base + "/")
    manager.wait_for_url(re.compile(r"/accounts/2fa/.*required=1"))
    activate_totp(User.objects.get(email=MANAGER))  # as the authenticator app would
    manager.goto(base + "/")
    manager.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="登録・変更届"
    ).click()
    manager.get_by_role("link", name="一括登録代行申込（別紙3）を作成する").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text("一括登録代行申込（別紙3）")
    assert_accessible(manager)
    manager.get_by_label("1行目 名前").fill("有田看子")
    manager.get_by_label("1行目 性別").select_option("female")
    manager.get_by_label("1行目 職種").select_option("nurse")
    manager.get_by_label("1行目 MCS ID（メールアドレス）").fill("ｎｕｒｓｅ＠arita.example.jp")
    manager.get_by_label("1行目 管理者（*1）").check()
    manager.get_by_label("2行目 名前").fill("有田二郎")
    manager.get_by_label("2行目 職種").select_option("clerk")
    manager.get_by_label("2行目 MCS ID（メールアドレス）").fill("jiro@arita")  # no domain
    manager.get_by_label("記載されたスタッフは").check()
    manager.get_by_role("button", name="センターへ提出する").click()
    expect(manager.locator("#row-errors")).to_contain_text("2行目・MCS ID（メールアドレス）")
    assert_accessible(manager)
    assert not RosterRequest.objects.filter(facility=facility).exists()
    manager.get_by_label("2行目 MCS ID（メールアドレス）").fill("jiro@arita.example.jp")
    manager.get_by_label("記載されたスタッフは").check()
    manager.get_by_role("button", name="センターへ提出する").click()
    expect(manager.locator("main")).to_contain_text("提出済み（センター登録待ち）")
    roster = RosterRequest.objects.get(facility=facility)

    # --- the center registers ------------------------------------------------------------
    _admin_action(center, base, "/admin/enrollment/rosterrequest/", roster.pk, "register")
    roster.refresh_from_db()
    assert roster.state == RosterRequest.State.REGISTERED
    manager.goto(base + "/inbox/")
    expect(manager.locator("main")).to_contain_text(
        "一括登録を完了しました。各事業所で基本設定が可能です。"
    )

    # --- a participant sets a password and logs in -------------------------------------------
    clerk = new_page()
    _accept_invitation(clerk, base, PARTICIPANT, "有田二郎", "ありた じろう", "arita-jiro-2026")
    clerk.context.clear_cookies()
    login(clerk, base, PARTICIPANT, password="arita-jiro-2026")
    clerk.wait_for_url(path_re("/"))
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("有田二郎")
    user = User.objects.get(email=PARTICIPANT)
    assert user.is_active and user.occupation == "clerk"
    assert user.memberships.filter(facility=facility, is_active=True).exists()
