"""Reports for the medical association: facilities, users, groups per facility and review
compliance, for a date range, as xlsx and as CSV (UTF-8 with BOM) — checked cell by cell."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from mcnet.dashboard import exports, selectors
from mcnet.models import AuditEvent
from tests import factories as f
from tests.factories import at

FISCAL_2025 = {"date_from": "2025-04-01", "date_to": "2026-03-31"}
pytestmark = pytest.mark.django_db


def _get(client, report: str, fmt: str, **period):
    params = {"report": report, "format": fmt, **(period or FISCAL_2025)}
    return client.get(reverse("dashboard:reports"), params)


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "CSV for Excel starts with the UTF-8 BOM"
    assert b"\r\n" in body
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_form_proposes_last_fiscal_year_and_names_bad_fields(center_client):
    page = center_client.get(reverse("dashboard:reports"))
    assert page.status_code == 200
    assert "期間（開始日）" in page.content.decode()
    bad = center_client.get(
        reverse("dashboard:reports"),
        {"report": "groups", "format": "csv", "date_from": "2026-03-01", "date_to": "2026-01-01"},
    )
    assert bad.status_code == 400
    assert "終了日は開始日と同じか、それより後にしてください。" in bad.content.decode()
    missing = center_client.get(reverse("dashboard:reports"), {"report": "groups"})
    assert missing.status_code == 400


def test_facilities_report_as_csv(center_client):
    a = f.row_facility(kind="hospital", name="A病院", created_at=at(2024, 5, 1))
    f.row_facility(kind="pharmacy", name="B薬局", created_at=at(2025, 6, 1))
    f.row_facility(kind="clinic", name="後から", created_at=at(2026, 4, 1, 0))  # after the period
    f.row_role(f.row_staff(a), a)
    f.row_staff(a)
    f.row_staff(a, active=False)
    response = _get(center_client, "facilities", "csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="mcnet-facilities-20250401-20260331.csv"'
    )
    rows = _csv(response)
    assert rows[0][:3] == ["ID", "事業所名", "施設の種類"]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"A病院", "B薬局"}
    assert by_name["A病院"][2] == "病院"
    assert by_name["A病院"][5:] == ["2024-05-01", "いいえ", "2", "1"]
    assert by_name["B薬局"][6] == "はい"  # new in the period
    assert AuditEvent.objects.filter(action="dashboard.report", object_id="facilities").exists()


def test_users_report_as_xlsx(center_client):
    a = f.row_facility(name="A病院")
    early = f.row_staff(a, occupation="doctor", date_joined=at(2025, 4, 1, 0), name="早い 医師")
    f.row_user(occupation="nurse", date_joined=at(2026, 4, 2), name="遅い 看護師")
    rows = _xlsx(_get(center_client, "users", "xlsx"))
    assert rows[0][1] == "氏名"
    names = {row[1]: row for row in rows[1:]}
    assert "遅い 看護師" not in names
    row = names[early.name]
    assert row[4] == "医師" and row[6] == "2025-04-01" and row[7] == "はい"
    assert row[8] == "A病院"
    assert "センター 試験" not in names  # registered after the period (today)


def test_groups_report_counts_per_facility(center_client):
    a, b = f.row_facility(name="A病院"), f.row_facility(name="B薬局")
    f.row_patient_group(a, created_at=at(2025, 1, 1))  # working all along
    f.row_patient_group(a, created_at=at(2025, 6, 1))  # new
    f.row_patient_group(  # new, archived in the period
        a, created_at=at(2025, 7, 1), state="archived", archived_at=at(2026, 2, 1)
    )
    f.row_patient_group(  # reported ended in the period, still waiting at its end
        b, created_at=at(2024, 7, 1), state="to_be_archived", end_reported_at=at(2026, 3, 20)
    )
    f.row_patient_group(b, created_at=at(2026, 4, 5))  # after the period
    f.row_free_group(b, created_at=at(2025, 9, 1))
    rows = _csv(_get(center_client, "groups", "csv"))
    header, *body = rows
    assert header[3:] == [
        "期末に利用中の患者グループ",
        "期間中の新規患者グループ",
        "期間中の新規自由グループ",
        "期間中にアーカイブしたグループ",
        "期末にアーカイブ待ちのグループ",
    ]
    by_name = {row[1]: row[3:] for row in body}
    assert by_name["A病院"] == ["2", "2", "0", "1", "0"]
    assert by_name["B薬局"] == ["0", "0", "1", "0", "1"]
    assert by_name["ネットワーク全体"] == ["2", "2", "1", "1", "1"]


def test_reviews_report_on_time_late_and_the_state_at_the_end(center_client):
    a = f.row_facility(name="A病院")
    g = f.row_patient_group(a, created_at=at(2025, 1, 1))
    f.row_review(g, at(2025, 5, 1))  # deadline 2025-06-30: on time; next due 2025-10-28: overdue
    h = f.row_patient_group(a, created_at=at(2024, 1, 1))
    f.row_review(h, at(2025, 12, 1))  # deadline 2024-06-29: late; next due 2026-05-30
    f.row_patient_group(a, created_at=at(2026, 3, 1))  # fine at the end
    f.row_patient_group(a, created_at=at(2025, 3, 1), state="archived", archived_at=at(2026, 2, 1))
    f.row_patient_group(a, created_at=at(2026, 5, 1))  # after the period
    rows = _xlsx(_get(center_client, "reviews", "xlsx"))
    header, *body = rows
    assert header[3:] == [
        "期間中の精査（期限内）",
        "期間中の精査（期限後）",
        "期限内の割合（%）",
        "期末に利用中の患者グループ",
        "うち期限間近",
        "うち期限切れ",
    ]
    by_name = {row[1]: row[3:] for row in body}
    assert by_name["A病院"] == [1, 1, 50, 3, 0, 1]
    assert by_name["ネットワーク全体"] == [1, 1, 50, 3, 0, 1]


def test_the_state_now_agrees_with_the_dashboard():
    a = f.row_facility()
    now = timezone.now()
    for days in (5, 170, 175, 200, 400):
        g = f.row_patient_group(a, created_at=now - dt.timedelta(days=days + 30))
        f.row_review(g, now - dt.timedelta(days=days))
    f.row_patient_group(
        a,
        created_at=now - dt.timedelta(days=500),
        state="to_be_archived",
        end_reported_at=now - dt.timedelta(days=1),
    )
    past = {row["facility_id"]: row for row in selectors.review_states_at(now)}[a.pk]
    live = selectors.review_compliance(now=now).facilities[0]
    assert (past["groups"], past["due"], past["overdue"]) == (live.groups, live.due, live.overdue)
    assert (live.groups, live.due, live.overdue) == (5, 2, 2)


def test_text_that_excel_would_run_stays_text(center_client):
    f.row_facility(name='=HYPERLINK("http://evil.example")', created_at=at(2025, 5, 1))
    rows = _csv(_get(center_client, "facilities", "csv"))
    assert rows[1][1].startswith("'=")
    response = _get(center_client, "facilities", "xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_period_bounds_are_days_in_japan():
    period = exports.Period(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    assert period.start == at(2025, 4, 1, 0)
    assert period.end == at(2026, 4, 1, 0)
    assert period.contains(at(2026, 3, 31, 23)) and not period.contains(at(2026, 4, 1, 0))


@pytest.mark.parametrize("role", ["user", "mcs_admin", "group_manager"])
def test_only_the_center_exports(client_as, role):
    response = client_as(role).get(
        reverse("dashboard:reports"), {"report": "users", "format": "csv", **FISCAL_2025}
    )
    assert response.status_code == 403
