"""Each figure of the dashboard against a network built for the test, at a fixed moment
(15 March 2026, 10:00 in Japan): the twelve months shown run from April 2025 to March 2026,
and this 年度 began on 1 April 2025."""

import datetime as dt

import pytest
import time_machine

from groups.selectors import review_status
from mcnet.dashboard import selectors
from tests import factories as f
from tests.factories import at

NOW = at(2026, 3, 15, 10)
pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _month(series, name, year, month) -> int:
    for m, values in series.rows():
        if m.key == (year, month):
            return values[name]
    raise AssertionError(f"{year}-{month} is not shown")


def _cell(matrix, row, column) -> int:
    columns = [value for value, _label in matrix.columns]
    return next(r for r in matrix.rows if r.value == row).cells[columns.index(column)]


def test_the_months_shown_are_the_last_twelve_in_japan():
    months = selectors.last_months(NOW)
    assert months[0].key == (2025, 4)
    assert months[-1].key == (2026, 3)
    assert len(months) == 12
    assert months[0].start == at(2025, 4, 1, 0)
    assert months[-1].end == at(2026, 4, 1, 0)


def test_an_empty_network_shows_zero_everywhere(center):
    d = selectors.dashboard(now=NOW)
    assert d.facilities.total == 0
    assert all(row.total == 0 for row in d.facilities.rows)
    # Only the center's own account exists.
    assert d.users.total == 1
    assert _cell(d.users, "center_staff", "active") == 1
    assert d.joined.total("facilities") == 0 and d.joined.total("users") == 1
    assert d.work.total == 0
    assert d.risks.totals.total == 0 and d.risks.facilities == [] and d.risks.facility_count == 0
    assert vars(d.groups) == {
        "patient_active": 0,
        "patient_to_be_archived": 0,
        "free_active": 0,
        "archived": 0,
    }
    assert d.group_months.total("created") == 0 and d.group_months.total("archived") == 0
    assert d.consent_months.total("recorded") == 0 and d.consent_months.total("withdrawn") == 0
    assert d.compliance.facilities == [] and d.compliance.totals.groups == 0
    assert d.compliance.totals.on_time_rate is None


def test_a_network_with_only_archived_groups():
    a, b = f.row_facility(), f.row_facility()
    archived = [
        f.row_patient_group(
            a, created_at=at(2025, 6, 1), state="archived", archived_at=at(2026, 1, 5)
        ),
        f.row_patient_group(
            a, created_at=at(2025, 7, 1), state="archived", archived_at=at(2026, 1, 20)
        ),
        f.row_patient_group(
            a, created_at=at(2024, 1, 1), state="archived", archived_at=at(2026, 2, 1)
        ),
    ]
    f.row_free_group(b, created_at=at(2025, 7, 9), state="archived", archived_at=at(2026, 3, 1))
    f.row_review(archived[0], at(2025, 9, 1))  # reviewed on time before it ended

    d = selectors.dashboard(now=NOW)
    assert vars(d.groups) == {
        "patient_active": 0,
        "patient_to_be_archived": 0,
        "free_active": 0,
        "archived": 4,
    }
    assert _month(d.group_months, "archived", 2026, 1) == 2
    assert _month(d.group_months, "archived", 2026, 2) == 1
    assert _month(d.group_months, "archived", 2026, 3) == 1
    assert d.group_months.total("archived") == 4
    assert _month(d.group_months, "created", 2025, 7) == 2
    assert d.group_months.total("created") == 3  # the one of 2024 is older than the chart
    # Nothing is working, so nothing is due; the review done before the end still counts.
    assert d.compliance.totals.groups == 0
    assert d.compliance.totals.due == 0 and d.compliance.totals.overdue == 0
    assert (d.compliance.totals.on_time, d.compliance.totals.late) == (1, 0)
    assert d.risks.totals.archives == 0


def test_facilities_by_kind_and_state():
    for _ in range(2):
        f.row_facility(kind="hospital", state="active")
    f.row_facility(kind="hospital", state="applying")
    f.row_facility(kind="pharmacy", state="withdrawn")
    f.row_facility(kind="municipality", state="suspended")
    m = selectors.facilities_by_kind_and_state()
    assert _cell(m, "hospital", "active") == 2
    assert _cell(m, "hospital", "applying") == 1
    assert _cell(m, "pharmacy", "withdrawn") == 1
    assert _cell(m, "municipality", "suspended") == 1
    assert _cell(m, "clinic", "active") == 0
    assert next(r for r in m.rows if r.value == "hospital").total == 3
    assert m.column_totals == [1, 2, 1, 1]  # applying, active, suspended, withdrawn
    assert m.total == 5
    assert len(m.rows) == 11  # every kind is shown, zeros included


def test_users_by_occupation(center):
    f.row_user(occupation="doctor")
    f.row_user(occupation="doctor")
    f.row_user(occupation="doctor", state="left")
    f.row_user(occupation="nurse", state="restricted")
    f.row_user(occupation="care_manager", state="banned")
    m = selectors.users_by_occupation()
    assert _cell(m, "doctor", "active") == 2
    assert _cell(m, "doctor", "left") == 1
    assert _cell(m, "nurse", "restricted") == 1
    assert _cell(m, "care_manager", "banned") == 1
    assert _cell(m, "center_staff", "active") == 1
    assert m.total == 6


def test_new_facilities_and_users_per_month_in_japanese_time():
    f.row_facility(created_at=at(2026, 3, 1, 0))  # 00:00 JST on 1 March is still February in UTC
    f.row_facility(created_at=at(2026, 3, 10))
    f.row_facility(created_at=at(2026, 2, 28, 23))
    f.row_facility(created_at=at(2025, 4, 1, 0))  # the first month shown
    f.row_facility(created_at=at(2025, 3, 31, 23))  # before it
    f.row_user(
        date_joined=at(
            2026,
            1,
            31,
            23,
        )
    )
    f.row_user(date_joined=at(2026, 2, 1, 0))
    f.row_user(date_joined=at(2024, 12, 1))
    series = selectors.new_facilities_and_users(selectors.last_months(NOW))
    assert _month(series, "facilities", 2026, 3) == 2
    assert _month(series, "facilities", 2026, 2) == 1
    assert _month(series, "facilities", 2025, 4) == 1
    assert series.total("facilities") == 4
    assert _month(series, "users", 2026, 1) == 1
    assert _month(series, "users", 2026, 2) == 1
    assert series.total("users") == 2


def test_groups_now_and_per_month():
    a = f.row_facility()
    f.row_patient_group(a, created_at=at(2026, 3, 2))
    f.row_patient_group(a, created_at=at(2026, 2, 2))
    f.row_patient_group(
        a, created_at=at(2026, 2, 3), state="to_be_archived", end_reported_at=at(2026, 3, 1)
    )
    f.row_patient_group(a, created_at=at(2025, 5, 3), state="archived", archived_at=at(2026, 2, 10))
    f.row_free_group(a, created_at=at(2026, 3, 3))
    f.row_free_group(a, created_at=at(2025, 12, 3), state="archived", archived_at=at(2026, 3, 3))
    counts = selectors.group_counts()
    assert vars(counts) == {
        "patient_active": 2,
        "patient_to_be_archived": 1,
        "free_active": 1,
        "archived": 2,
    }
    series = selectors.groups_per_month(selectors.last_months(NOW))
    assert _month(series, "created", 2026, 3) == 2
    assert _month(series, "created", 2026, 2) == 2
    assert _month(series, "created", 2025, 12) == 1
    assert _month(series, "created", 2025, 5) == 1
    assert _month(series, "archived", 2026, 2) == 1
    assert _month(series, "archived", 2026, 3) == 1


def test_consents_recorded_and_withdrawn_per_month():
    a = f.row_facility()
    f.row_consent(a, recorded_at=at(2026, 3, 2))
    f.row_consent(a, recorded_at=at(2026, 3, 3), status="entered-in-error")  # recorded all the same
    f.row_consent(
        a, recorded_at=at(2026, 2, 3), status="inactive", withdrawn_on=dt.date(2026, 3, 2)
    )
    f.row_consent(
        a, recorded_at=at(2024, 2, 3), status="inactive", withdrawn_on=dt.date(2025, 4, 1)
    )
    f.row_consent(
        a, recorded_at=at(2024, 2, 3), status="inactive", withdrawn_on=dt.date(2025, 3, 31)
    )
    series = selectors.consents_per_month(selectors.last_months(NOW))
    assert _month(series, "recorded", 2026, 3) == 2
    assert _month(series, "recorded", 2026, 2) == 1
    assert series.total("recorded") == 3
    assert _month(series, "withdrawn", 2026, 3) == 1
    assert _month(series, "withdrawn", 2025, 4) == 1
    assert series.total("withdrawn") == 2
    # The list behind a number says the same, without the patient.
    march = selectors.parse_month("2026-03")
    rows = list(selectors.consent_list("recorded", march))
    assert len(rows) == 2
    patient_keys = {k for k in rows[0] if k.startswith("patient__")}
    assert patient_keys == {"patient__facility_id", "patient__facility__name"}


def test_supporter_review_compliance_per_facility():
    a, b = f.row_facility(name="A事業所"), f.row_facility(name="B事業所")
    ok = f.row_patient_group(a, created_at=NOW - 10 * DAY)
    due = f.row_patient_group(a, created_at=NOW - 360 * DAY)
    f.row_review(due, NOW - 340 * DAY)  # deadline: creation + 180 days → on time
    f.row_review(due, NOW - 170 * DAY)  # deadline: previous review + 180 days → on time
    overdue = f.row_patient_group(a, created_at=NOW - 400 * DAY)
    f.row_review(overdue, NOW - 200 * DAY)  # deadline was creation + 180 = 220 days ago → late
    never = f.row_patient_group(a, created_at=NOW - 181 * DAY)
    f.row_patient_group(a, created_at=NOW - 400 * DAY, state="archived")
    f.row_patient_group(
        a, created_at=NOW - 400 * DAY, state="to_be_archived", end_reported_at=NOW - DAY
    )
    f.row_free_group(a, created_at=NOW - 400 * DAY)
    recent = f.row_patient_group(b, created_at=NOW - 100 * DAY)
    f.row_review(recent, NOW - DAY)
    old = f.row_patient_group(b, created_at=NOW - 700 * DAY)
    f.row_review(old, NOW - 500 * DAY)  # before the twelve months: not counted as done
    f.row_review(old, NOW - 100 * DAY)  # previous review + 180 = 320 days ago → late

    c = selectors.review_compliance(now=NOW)
    by_name = {e.name: e for e in c.facilities}
    first = by_name["A事業所"]
    assert (first.groups, first.ok, first.due, first.overdue) == (4, 1, 1, 2)
    assert (first.on_time, first.late, first.on_time_rate) == (2, 1, 67)
    second = by_name["B事業所"]
    assert (second.groups, second.ok, second.due, second.overdue) == (2, 2, 0, 0)
    assert (second.on_time, second.late) == (1, 1)
    assert (c.totals.groups, c.totals.due, c.totals.overdue) == (6, 1, 2)
    assert (c.totals.on_time, c.totals.late) == (3, 2)
    assert [e.name for e in c.facilities] == ["A事業所", "B事業所"]  # the worst first

    # The groups app tells each group's state the same way.
    expected = {ok.pk: "ok", due.pk: "due", overdue.pk: "overdue", never.pk: "overdue"}
    for group in (ok, due, overdue, never):
        group.refresh_from_db()
        assert review_status(group, now=NOW).state == expected[group.pk]
    # The lists behind the numbers hold exactly those.
    overdue_ids = {g["pk"] for g in selectors.review_group_list("overdue", facility_id=a.pk)}
    assert overdue_ids == {overdue.pk, never.pk}
    assert {g["pk"] for g in selectors.review_group_list("ok")} == {ok.pk, recent.pk, old.pk}
    late = list(selectors.review_list(False))
    assert {r["group_id"] for r in late} == {overdue.pk, old.pk}


def test_work_waiting_for_the_center():
    for state in ("submitted", "submitted", "returned", "unconfirmed", "accepted"):
        f.row_application(state)
    a = f.row_facility()
    f.row_roster(a)
    f.row_roster(a, "registered")
    f.row_notice(a)
    f.row_notice(a, "confirmed")
    f.row_notice(a, "returned")
    reporter = f.row_staff(a)
    f.row_incident(a, reporter)
    f.row_incident(a, reporter, state="acknowledged")
    f.row_incident(a, reporter, state="closed")
    f.row_incident(a, reporter, escalated=False)
    # a: no MCS administrator; one with one; one with two; an applying one without (not yet).
    one, two = f.row_facility(), f.row_facility()
    f.row_role(f.row_staff(one), one)
    f.row_role(f.row_staff(two), two)
    f.row_role(f.row_staff(two), two)
    f.row_facility(state="applying")
    work = selectors.center_work()
    assert vars(work) == {
        "applications": 2,
        "rosters": 1,
        "notices": 1,
        "incidents": 2,
        "no_mcs_admin": 1,
        "several_mcs_admins": 1,
    }
    assert work.total == 8


def test_facilities_at_risk():
    a, b = f.row_facility(name="A事業所"), f.row_facility(name="B事業所")
    done = f.row_staff(a)
    f.row_pledge(done, a)
    last_year = f.row_staff(a)  # no pledge; education only in the previous 年度
    no_education = f.row_staff(a)
    f.row_pledge(no_education, a)
    f.row_education(a, dt.date(2025, 5, 1), done)
    f.row_education(a, dt.date(2025, 3, 31), last_year)
    f.row_staff(a, active=False)  # left the facility: not counted
    f.row_staff(a, user_active=False)  # account closed: not counted
    withdrawn = f.row_facility(state="withdrawn")
    f.row_staff(withdrawn)  # a withdrawn facility is not followed up
    f.row_device(a, confirmed_on=dt.date(2025, 3, 1))  # older than a year: to confirm
    f.row_device(a, confirmed_on=dt.date(2026, 1, 5))
    f.row_device(a, confirmed_on=dt.date(2020, 1, 5), state="disposed")
    f.row_patient_group(
        b, state="to_be_archived", end_reported_at=NOW - 20 * DAY
    )  # deadline 14 days
    f.row_patient_group(b, state="to_be_archived", end_reported_at=NOW - 3 * DAY)

    risks = selectors.facilities_at_risk(now=NOW)
    assert risks.year_start == dt.date(2025, 4, 1)
    by_name = {e.name: e for e in risks.facilities}
    assert vars(by_name["A事業所"]) | {"facility_id": None} == {
        "facility_id": None,
        "name": "A事業所",
        "pledge": 1,
        "education": 2,
        "devices": 1,
        "archives": 0,
    }
    assert (by_name["B事業所"].archives, by_name["B事業所"].total) == (1, 1)
    assert [e.name for e in risks.facilities] == ["A事業所", "B事業所"]
    assert (risks.totals.pledge, risks.totals.education) == (1, 2)
    assert (risks.totals.devices, risks.totals.archives) == (1, 1)
    assert risks.facility_count == 2
    names = {r["user_id"] for r in selectors.staff_gap_list("education", facility_id=a.pk)}
    assert names == {last_year.pk, no_education.pk}
    assert [r["user_id"] for r in selectors.staff_gap_list("pledge")] == [last_year.pk]
    # Limited to the worst, the totals still cover every facility.
    top = selectors.facilities_at_risk(now=NOW, limit=1)
    assert [e.name for e in top.facilities] == ["A事業所"]
    assert top.totals.total == 5 and top.facility_count == 2
