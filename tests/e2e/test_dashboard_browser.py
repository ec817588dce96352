"""The center's dashboard in a real browser: charts drawn by the portal, a table for each, links
to the lists, axe-core at desktop and phone width, screenshots to look at (var/screenshots)."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consents.models import Patient
from consents.services import patient_access_record
from facilities.models import Facility, Occupation, User

from .helpers import assert_accessible, login, login_with_totp, path_re

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CENTER = "center@example.jp"


def _a_year_of_growth() -> None:
    """Facilities and users joining over the last months, so the charts have something to
    draw (set-based: two bulk inserts)."""
    now = timezone.now()
    kinds = [k for k, _label in Facility.Kind.choices]
    facilities = Facility.objects.bulk_create(
        Facility(name=f"画面確認事業所{i:02d}", kind=kinds[i % len(kinds)], state="active")
        for i in range(30)
    )
    for i, facility in enumerate(facilities):
        Facility.objects.filter(pk=facility.pk).update(created_at=now - dt.timedelta(days=11 * i))
    occupations = [o for o, _label in Occupation.choices]
    User.objects.bulk_create(
        User(
            email=f"screen{i}@example.jp",
            name=f"画面 確認{i}",
            occupation=occupations[i % len(occupations)],
            date_joined=now - dt.timedelta(days=5 * i),
        )
        for i in range(70)
    )


@pytest.fixture
def center(demo_live):
    _a_year_of_growth()
    return User.objects.get(email=CENTER)


def test_dashboard_at_desktop_width(page, demo_live, center):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    login_with_totp(page, demo_live, center)
    page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="ダッシュボード"
    ).click()
    page.wait_for_url(path_re("/center/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("センターのダッシュボード")
    # Charts are SVG drawn by the portal, each with a name, and each has its table.
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() >= 6
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("aria-label")
    assert page.locator("table caption").count() >= 9
    page.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)
    assert_accessible(page)

    # A number leads to the list behind it: the facilities of one kind, in the admin.
    table = page.get_by_role("table", name="事業所（施設の種類・状態別）")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="病院"))
    row.get_by_role("link").last.click()
    page.wait_for_url(path_re("/admin/facilities/facility/"))
    assert "kind__exact=hospital" in page.url
    expect(page.locator("#result_list")).to_contain_text("画面確認事業所")

    # The other pages of the dashboard keep their accessibility too.
    for path in ("/center/compliance/", "/center/risks/", "/center/reports/", "/audit/"):
        page.goto(demo_live + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    # Someone opened a patient's page: the center sees who, when and which (by number).
    patient = Patient.objects.filter(name="山田太郎").first()
    patient_access_record(
        actor=User.objects.get(email="nurse@takada.example.jp"), patient=patient, via="test"
    )
    page.goto(demo_live + "/audit/?action=patient.view")
    expect(page.locator("table.audit")).to_contain_text("nurse@takada.example.jp")
    expect(page.locator("table.audit")).to_contain_text(f"consents.patient #{patient.pk}")
    expect(page.locator("main")).not_to_contain_text("山田太郎")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "audit-desktop.png"), full_page=True)


def test_dashboard_at_phone_width(browser, demo_live, center):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        locale="ja-JP",
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        login_with_totp(page, demo_live, center)
        page.goto(demo_live + "/center/")
        expect(page.get_by_role("heading", level=1)).to_have_text("センターのダッシュボード")
        page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
        # Wide tables scroll inside their own box; the page itself does not scroll sideways.
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 375 + 1, f"the dashboard scrolls sideways: {scroll_width}px"
        assert_accessible(page)
    finally:
        context.close()


def test_nobody_else_gets_the_dashboard(page, demo_live):
    login(page, demo_live, "nurse@takada.example.jp")
    page.wait_for_url(path_re("/"))
    nav = page.get_by_role("navigation", name="メインメニュー")
    expect(nav.get_by_role("link", name="ダッシュボード")).to_have_count(0)
    expect(nav.get_by_role("link", name="監査ログ")).to_have_count(0)
    response = page.goto(demo_live + "/center/")
    assert response.status == 403
