"""Devices in a real browser: a nurse on her phone files, her administrator decides (第12条(9)).

Walks "nurse requests a take-out → her administrator approves → she marks it returned" and
"a user reports a lost phone → the administrator acknowledges and closes it", with an axe-core
check of every page on the way and a phone-width check of the forms nurses fill in.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devices.models import Device, LossReport, TakeoutRequest
from facilities.models import User

from .helpers import assert_accessible, login, login_with_totp, path_re

PHONE = {"width": 375, "height": 740}
NURSE = "nurse@takada.example.jp"
ADMIN = "admin@takada.example.jp"


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="ja-JP", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{page.url} scrolls sideways on a phone: {width}px"


def test_nurse_requests_a_take_out_admin_approves_she_returns_it(phone, page, demo_live):
    # The nurse, on her phone, files the request from the home page.
    login(phone, demo_live, NURSE)
    phone.wait_for_url(path_re("/"))
    phone.get_by_role("link", name="情報・機器の持ち出し／BYODを届け出る").click()
    phone.wait_for_url(path_re("/devices/takeouts/new/"))
    assert_accessible(phone)
    _no_sideways_scroll(phone)
    today = timezone.localdate()
    phone.get_by_label("情報・情報機器の持ち出し").check()
    phone.get_by_label("持ち出す情報の内容").fill("担当利用者2名の褥瘡の写真と記録（閲覧のみ）")
    phone.get_by_label("格納する媒体").fill("事業所のタブレット")
    phone.get_by_label("持ち出す目的").fill("訪問先で医師と共有するため")
    phone.get_by_label("期間（開始日）").fill(today.isoformat())
    phone.get_by_label("期間（終了日）").fill((today + dt.timedelta(days=3)).isoformat())
    phone.get_by_role("button", name="届け出る").click()
    phone.wait_for_url(re.compile(r"^https?://[^/]+/devices/takeouts/\d+/$"))
    request_obj = TakeoutRequest.objects.filter(purpose="訪問先で医師と共有するため").get()
    detail = f"/devices/takeouts/{request_obj.pk}/"
    phone.wait_for_url(path_re(detail))
    expect(phone.locator("main")).to_contain_text("承認待ち")
    expect(phone.locator("main")).to_contain_text("承認されるまで持ち出さないでください")
    assert_accessible(phone)
    _no_sideways_scroll(phone)

    # Her administrator opens it from the notification in his inbox and approves it.
    login_with_totp(page, demo_live, User.objects.get(email=ADMIN))
    page.goto(demo_live + "/inbox/")
    # The newest notification comes first (the demo's own requests are older).
    page.get_by_role(
        "link", name="高田看子さんから情報・情報機器の持ち出しの届出があります"
    ).first.click()
    page.wait_for_url(path_re(detail))
    assert_accessible(page)
    page.get_by_label("承認する").check()
    page.get_by_label("コメント").fill("画面ロックを必ずかけてください")
    page.get_by_role("button", name="決定する").click()
    page.wait_for_url(path_re(detail))
    expect(page.locator(".messages")).to_contain_text("承認しました")
    expect(page.locator("main")).to_contain_text("持ち出し中")
    assert_accessible(page)
    # The form as it prints, with the approver.
    page.get_by_role("link", name="届出書の様式で見る").click()
    expect(page.locator(".printed-form")).to_contain_text("高田次郎")
    assert_accessible(page)

    # She sees it approved, and marks it returned when she is back.
    phone.reload()
    expect(phone.locator("main")).to_contain_text("持ち出し中")
    expect(phone.locator("main")).to_contain_text("画面ロックを必ずかけてください")
    phone.get_by_role("button", name="返却した").click()
    phone.wait_for_url(path_re(detail))
    expect(phone.locator(".messages")).to_contain_text("返却を報告しました")
    expect(phone.locator("main")).to_contain_text("返却済み")
    assert_accessible(phone)
    request_obj.refresh_from_db()
    assert request_obj.state == "returned" and request_obj.decided_by.email == ADMIN


def test_a_lost_phone_is_reported_then_acknowledged_and_closed(phone, page, demo_live):
    login(phone, demo_live, NURSE)
    phone.wait_for_url(path_re("/"))
    phone.goto(demo_live + "/devices/losses/new/")
    # The page says to change the MCS password first, and links to MCS itself (第12条(11)).
    expect(phone.get_by_role("link", name=re.compile("パスワードを変更する"))).to_have_attribute(
        "href", "https://www.medical-care.net/"
    )
    assert_accessible(phone)
    _no_sideways_scroll(phone)
    phone.get_by_label("紛失", exact=True).check()
    phone.get_by_label("登録済みの機器").select_option(label="訪問用タブレット1号（タブレット）")
    phone.locator("#id_device_description").fill("訪問用タブレット1号")
    when = (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    phone.get_by_label("紛失・盗難に気づいた日時").fill(when)
    phone.get_by_label("場所").fill("訪問先から戻る途中のバスの中")
    phone.get_by_label("機器に入っていた情報").fill("MCSアプリ（ログイン状態）")
    phone.get_by_label("変更した", exact=True).check()
    phone.get_by_label("依頼した", exact=True).check()
    phone.get_by_role("button", name="MCS管理者に報告する").click()
    phone.wait_for_url(re.compile(r"^https?://[^/]+/devices/losses/\d+/$"))
    report = LossReport.objects.get(place="訪問先から戻る途中のバスの中")
    detail = f"/devices/losses/{report.pk}/"
    phone.wait_for_url(path_re(detail))
    expect(phone.locator("main")).to_contain_text("報告済み（未確認）")
    assert_accessible(phone)
    assert Device.objects.get(pk=report.device_id).state == "lost"

    # The administrator was alerted at once; he acknowledges, then closes it.
    login_with_totp(page, demo_live, User.objects.get(email=ADMIN))
    page.goto(demo_live + "/")
    expect(page.locator("main")).to_contain_text("対応中の紛失・盗難報告 2 件")
    page.goto(demo_live + "/inbox/")
    expect(page.locator("main")).to_contain_text(
        "【至急】高田看子さんから機器の紛失の報告があります"
    )
    page.goto(demo_live + detail)
    assert_accessible(page)
    page.get_by_label("報告者への指示").fill("警察に遺失届を出してください")
    page.get_by_role("button", name="確認した").click()
    page.wait_for_url(path_re(detail))
    expect(page.locator("main")).to_contain_text("MCS管理者が確認")
    assert_accessible(page)
    page.get_by_role("textbox", name="対応結果").fill(
        "携帯電話会社がデータを消去。端末は見つからず。"
    )
    page.get_by_role("button", name="完了にする").click()
    page.wait_for_url(path_re(detail))
    expect(page.locator("main")).to_contain_text("携帯電話会社がデータを消去")
    assert_accessible(page)

    phone.reload()
    expect(phone.locator("main")).to_contain_text("完了")
    expect(phone.locator("main")).to_contain_text("警察に遺失届を出してください")
    report.refresh_from_db()
    assert report.state == "closed" and report.closed_by.email == ADMIN


def test_the_register_and_the_center_pages_are_accessible(page, phone, demo_live):
    login_with_totp(page, demo_live, User.objects.get(email=ADMIN))
    page.goto(demo_live + "/devices/register/?overdue=1")
    expect(page.locator("main")).to_contain_text("事務所PC-01")
    expect(page.locator("main")).to_contain_text("確認期限切れ")
    assert_accessible(page)
    page.get_by_role("link", name="事務所PC-01").click()
    assert_accessible(page)
    page.goto(demo_live + "/devices/register/new/")
    assert_accessible(page)
    page.goto(demo_live + "/devices/incidents/")
    page.get_by_role("link", name="不正アクセス（の疑い）").first.click()
    expect(page.locator("main")).to_contain_text("対応の記録")
    assert_accessible(page)

    login(phone, demo_live, NURSE)
    phone.goto(demo_live + "/devices/incidents/new/")
    assert_accessible(phone)
    _no_sideways_scroll(phone)
    phone.goto(demo_live + "/devices/")
    assert_accessible(phone)
    _no_sideways_scroll(phone)
