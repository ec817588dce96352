"""Printed forms in a real browser: ask for a PDF, watch the progress page (with the static
poller, and without JavaScript by reloading), download the file; axe on each page.

No Celery worker runs behind the live server here (tests/printing/test_worker.py covers the
real one): the test renders the queued document itself, as the worker would, while the page
is open, and watches the page notice.
"""

import re
from pathlib import Path

from playwright.sync_api import expect

from mcnet.models import GeneratedDocument
from tests.printing import pdf

from .helpers import assert_accessible, login, path_re, render_the_queued_document

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
NURSE = "nurse@takada.example.jp"


def test_ask_for_a_form_watch_it_and_download_it(page, demo_live, no_broker, tmp_path):
    login(page, demo_live, NURSE)
    page.wait_for_url(path_re("/"))
    page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="帳票印刷"
    ).click()
    page.wait_for_url(path_re("/documents/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("帳票の印刷")
    assert_accessible(page)

    page.get_by_role("button", name=re.compile("PDFを作成.*別紙7 利用についての同意書")).click()
    page.wait_for_url(path_re(f"/documents/{GeneratedDocument.objects.get().pk}/"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("待機中")
    expect(page.locator("progress")).to_be_visible()
    assert_accessible(page)

    render_the_queued_document()
    # The poller sees it ready and the page shows the download (no manual reload).
    link = page.get_by_role("link", name="PDFをダウンロード")
    expect(link).to_be_visible(timeout=15_000)
    expect(status).to_contain_text("完成")
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "printing-ready.png"), full_page=True)

    with page.expect_download() as download_info:
        link.click()
    path = tmp_path / "form.pdf"
    download_info.value.save_as(path)
    content = path.read_bytes()
    assert pdf.page_count(content) == 2
    assert pdf.normalize("MCネット利用についての同意書") in pdf.normalize(pdf.text(content))


def test_progress_page_works_without_javascript(browser, demo_live, no_broker):
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        login(page, demo_live, NURSE)
        page.goto(demo_live + "/documents/")
        page.get_by_role("button", name=re.compile("PDFを作成.*別紙6 個人情報保護基本方針")).click()
        page.wait_for_url(path_re(f"/documents/{GeneratedDocument.objects.get().pk}/"))
        expect(page.get_by_role("status")).to_contain_text("待機中")
        render_the_queued_document()
        # <noscript><meta http-equiv="refresh"> reloads the page until it is finished.
        expect(page.get_by_role("link", name="PDFをダウンロード")).to_be_visible()
    finally:
        context.close()


def test_forms_page_on_a_phone(browser, demo_live):
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        login(page, demo_live, NURSE)
        page.goto(demo_live + "/documents/")
        expect(page.get_by_role("heading", name="記入用の帳票（空欄）")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "printing-phone.png"), full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 375 + 1, f"the forms page scrolls sideways: {scroll_width}px"
        assert_accessible(page)
    finally:
        context.close()
