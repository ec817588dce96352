"""A family member asks to see what the network holds about the patient (別紙6 ご本人の照会,
個人情報保護法 §33), in a real browser: the care manager records the request and the identity
check, the disclosure package is made (PDF and JSON), the answer is recorded and the reply
letter prints.

No Celery worker runs behind the live server here (as in test_printing_browser.py): the test
renders each queued document itself, as the worker would, while the progress page is open.
tests/consents/test_patient_requests.py checks the package's content against the records.
"""

import json
import re

from playwright.sync_api import expect

from consents.models import Patient, PatientRequest
from facilities.models import User
from mcnet.models import NetworkSettings
from mcnet.wareki import wareki
from tests.printing import pdf

from .helpers import assert_accessible, login_with_totp, path_re, render_the_queued_document

CARE_MANAGER = "cm@kasugano.example.jp"


def download(page, link, tmp_path, name: str) -> bytes:
    with page.expect_download() as download_info:
        link.click()
    path = tmp_path / name
    download_info.value.save_as(path)
    return path.read_bytes()


def test_family_asks_for_disclosure_and_gets_the_package_and_the_reply(
    page, demo_live, no_broker, tmp_path
):
    yamada = Patient.objects.get(name="山田太郎")
    login_with_totp(page, demo_live, User.objects.get(email=CARE_MANAGER))

    # The eldest son asks at the office; the care manager records it from the patient's page.
    page.goto(demo_live + f"/patients/{yamada.pk}/")
    page.get_by_role("link", name="ご本人からの請求を記録する").click()
    page.wait_for_url(path_re(f"/patients/{yamada.pk}/requests/new/"))
    assert_accessible(page)
    page.locator("select[name=kind]").select_option(label="開示")
    page.locator("select[name=requester_kind]").select_option(label="家族")
    page.locator("input[name=requester_name]").fill("山田　一郎")  # a full-width space, as typed
    page.locator("input[name=requester_relationship]").fill("長男")
    page.locator("input[name=requester_contact]").fill("新潟県上越市春日野1-10-1")
    page.get_by_role("button", name="請求を受け付ける").click()
    patient_request = PatientRequest.objects.get(patient=yamada)
    page.wait_for_url(path_re(f"/patients/requests/{patient_request.pk}/"))
    expect(page.get_by_role("alert").or_(page.locator(".messages"))).to_contain_text(
        "本人確認を記録してください"
    )
    expect(page.locator("main")).to_contain_text("山田 一郎（続柄：長男）")
    # No package before the identity check.
    expect(page.get_by_role("button", name="開示資料を作成する")).to_have_count(0)
    assert_accessible(page)

    # The identity check: his driving licence, seen by the care manager.
    page.locator("select[name=document]").select_option(label="運転免許証")
    page.get_by_role("button", name="本人確認を記録する").click()
    expect(page.locator("main")).to_contain_text("運転免許証")
    expect(page.locator("main")).to_contain_text("本人確認済み")

    # The package: a job with its progress page, then the PDF and the JSON file.
    page.get_by_role("button", name="開示資料を作成する").click()
    page.wait_for_url(re.compile(r".*/documents/\d+/(\?.*)?$"))
    expect(page.locator("progress")).to_be_visible()
    render_the_queued_document()
    link = page.get_by_role("link", name="PDFをダウンロード")
    expect(link).to_be_visible(timeout=15_000)
    package = download(page, link, tmp_path, "disclosure.pdf")
    text = pdf.normalize(pdf.text(package))
    for expected in ("保有個人データの開示", "山田太郎", "高田訪問看護ステーション", "閲覧の記録"):
        assert pdf.normalize(expected) in text, expected

    page.goto(demo_live + f"/patients/requests/{patient_request.pk}/")
    expect(page.locator("main")).to_contain_text("対応中")
    data = json.loads(
        download(
            page, page.get_by_role("link", name="JSONファイルをダウンロード"), tmp_path, "d.json"
        )
    )
    assert data["patient"]["name"] == "山田太郎"
    assert data["request"]["requester_relationship"] == "長男"
    assert any(group["member_facilities"] for group in data["groups"])

    # The answer is recorded, and the reply letter prints.
    page.get_by_role("link", name="回答・却下を記録する").click()
    page.get_by_role("radio", name="回答した（請求に応じた）").check()
    page.locator("textarea[name=outcome]").fill("開示資料をお渡ししました。")
    page.get_by_role("button", name="回答を記録する").click()
    page.wait_for_url(path_re(f"/patients/requests/{patient_request.pk}/"))
    expect(page.locator("main")).to_contain_text("回答済み")
    assert_accessible(page)
    page.get_by_role("button", name="回答書を印刷する").click()
    page.wait_for_url(re.compile(r".*/documents/\d+/(\?.*)?$"))
    render_the_queued_document()
    letter = download(
        page, page.get_by_role("link", name="PDFをダウンロード"), tmp_path, "reply.pdf"
    )
    text = pdf.normalize(pdf.text(letter))
    patient_request.refresh_from_db()
    network = NetworkSettings.load()
    for expected in (
        "保有個人データに関するご請求への回答書",
        "山田 一郎",
        wareki(patient_request.replied_on),
        network.center_phone,
        "開示資料をお渡ししました。",
    ):
        assert pdf.normalize(expected) in text, expected
