"""The dashboard's pages: who gets them, what they show, and that every number links to the list
behind it — followed here, the list holds exactly that many rows."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mcnet.dashboard import selectors, views
from tests import factories as f

COUNT_LINK = re.compile(r'<a href="([^"]+)" class="count">([\d,]+)</a>')
DAY = dt.timedelta(days=1)


def _a_busy_network():
    """Something in every figure: the queues, the risks, groups in every state, consents,
    reviews on time and late, over several months."""
    now = timezone.now()
    a = f.row_facility(kind="hospital", name="A病院", created_at=now - 40 * DAY)
    b = f.row_facility(kind="pharmacy", name="B薬局", created_at=now - 70 * DAY)
    f.row_facility(kind="clinic", state="applying")
    f.row_facility(kind="clinic", state="withdrawn")
    admin, nurse, clerk = f.row_staff(a), f.row_staff(a, occupation="doctor"), f.row_staff(b)
    f.row_role(admin, a)
    f.row_role(clerk, b)
    f.row_role(f.row_staff(b), b)
    f.row_pledge(admin, a)
    f.row_education(a, timezone.localdate(), admin)
    f.row_user(occupation="nurse", state="left", date_joined=now - 100 * DAY)
    f.row_application()
    f.row_roster(a)
    f.row_notice(b)
    f.row_incident(a, nurse)
    f.row_device(a, confirmed_on=timezone.localdate() - 800 * DAY)
    f.row_patient_group(b, state="to_be_archived", end_reported_at=now - 30 * DAY)
    f.row_patient_group(a, created_at=now - 10 * DAY)
    due = f.row_patient_group(a, created_at=now - 171 * DAY)
    late = f.row_patient_group(b, created_at=now - 300 * DAY)
    f.row_review(late, now - 60 * DAY)
    f.row_review(due, now - 170 * DAY)
    f.row_patient_group(a, created_at=now - 200 * DAY)
    f.row_patient_group(a, created_at=now - 80 * DAY, state="archived", archived_at=now - 35 * DAY)
    f.row_free_group(b, created_at=now - 50 * DAY)
    f.row_consent(a, recorded_at=now - 45 * DAY)
    f.row_consent(
        b, recorded_at=now - 2 * DAY, status="inactive", withdrawn_on=timezone.localdate()
    )


def _listed(client, url: str) -> int | None:
    """How many rows the list at `url` holds (None for a page that is not a counted list)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    context = response.context
    if "cl" in context:  # an admin change list, filtered by the link's query
        assert "e=1" not in url
        return context["cl"].result_count
    if "page" in context and hasattr(context["page"], "paginator"):
        return context["page"].paginator.count
    return None


def test_every_number_links_to_the_list_behind_it(center_client):
    _a_busy_network()
    response = center_client.get(reverse("dashboard:index"))
    links = [
        (html.unescape(url), int(n.replace(",", "")))
        for url, n in COUNT_LINK.findall(response.content.decode())
    ]
    assert len(links) > 150  # every cell of every table
    assert sum(n for _url, n in links) > 0
    checked = 0
    for url, number in set(links):
        listed = _listed(center_client, url)
        if listed is not None:
            assert listed == number, f"{url}: the dashboard says {number}, the list has {listed}"
            checked += 1
    assert checked >= len(set(links)) - 5  # all but the devices overview (counts per facility)


@pytest.mark.parametrize("name", ["dashboard:compliance", "dashboard:risks"])
def test_the_full_lists_link_their_numbers_too(center_client, name):
    _a_busy_network()
    page = center_client.get(reverse(name)).content.decode()
    links = {(html.unescape(u), int(n.replace(",", ""))) for u, n in COUNT_LINK.findall(page)}
    assert links
    for url, number in links:
        listed = _listed(center_client, url)
        assert listed in (None, number), url


@pytest.mark.parametrize("name", ["dashboard:compliance", "dashboard:risks"])
def test_the_full_lists_come_a_page_at_a_time_with_the_totals(center_client, monkeypatch, name):
    _a_busy_network()
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    first = center_client.get(reverse(name)).content.decode()
    second = center_client.get(reverse(name) + "?page=2").content.decode()
    for page in (first, second):
        assert page.count('<th scope="row">') == 2  # one facility, and the network's totals
        assert "ネットワーク全体" in page
    assert "page=2" in first and "page=1" in second  # next and previous
    assert ("A病院" in first) != ("A病院" in second)


def test_the_page_shows_the_figures_as_charts_and_tables(center_client):
    _a_busy_network()
    response = center_client.get(reverse("dashboard:index"))
    page = response.content.decode()
    assert page.count('role="img"') >= 6  # the charts, each with its name
    assert page.count("<caption>") >= 9  # and its table
    assert page.count("<figure") == page.count("<figcaption>")
    # CSP: no inline script (the site's own files only), no style attribute (SVG presentation
    # attributes only).
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page)
    assert "<script" in page and not inline and "style=" not in page
    d = response.context["d"]
    assert d.work.applications == 1 and d.risks.totals.archives == 1
    assert d.compliance.totals.due == 1 and d.compliance.totals.late == 1


def test_names_are_shown_as_text_in_tables_and_charts(center_client):
    # The tables and charts are drawn by template tags (dashboard_tags): escaped as the
    # templates' autoescape would.
    evil = f.row_facility(name='<b>"悪意"&病院</b>')
    f.row_patient_group(evil, created_at=timezone.now() - 200 * DAY)  # overdue: in the chart
    page = center_client.get(reverse("dashboard:index")).content.decode()
    escaped = "&lt;b&gt;&quot;悪意&quot;&amp;病院&lt;/b&gt;"
    assert "<b>" not in page
    assert f">{escaped}</a></th>" in page  # the compliance table's row header
    assert f"<title>{escaped} " in page  # a bar of the compliance chart
    assert f'fill="#1a1a1a">{escaped}</text>' in page  # its label


def test_counts_only_no_patient_detail(center_client):
    _a_busy_network()
    pages = [reverse(n) for n in ("dashboard:index", "dashboard:compliance", "dashboard:risks")]
    month = f"{timezone.localdate():%Y-%m}"
    pages += [
        reverse("dashboard:reviews") + "?state=all",
        reverse("dashboard:reviews") + "?done=late",
        reverse("dashboard:consents") + f"?what=withdrawn&month={month}",
    ]
    for url in pages:
        page = center_client.get(url).content.decode()
        assert "試験患者" not in page, url  # the patients' names (and their groups' names)
        assert "さんのグループ" not in page, url


def test_an_empty_network_renders(center_client):
    response = center_client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "センターの対応を待っているものはありません" in page
    for name in ("dashboard:compliance", "dashboard:risks", "dashboard:reports"):
        assert center_client.get(reverse(name)).status_code == 200


def test_a_network_with_only_archived_groups_renders(center_client):
    a = f.row_facility()
    for _ in range(3):
        f.row_patient_group(a, state="archived")
    response = center_client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    assert response.context["d"].groups.archived == 3
    assert response.context["d"].compliance.facilities == []


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "group_manager"]
)
def test_nobody_but_the_center_gets_the_dashboard(client_as, role):
    client = client_as(role)
    for name in ("dashboard:index", "dashboard:compliance", "dashboard:reports"):
        assert client.get(reverse(name)).status_code == 403


def test_the_demo_center_gets_it_and_anonymous_is_sent_to_login(client, client_as):
    assert client.get(reverse("dashboard:index")).status_code == 302
    assert client_as("center").get(reverse("dashboard:index")).status_code == 200


def test_bad_filters_are_named_in_japanese(center_client):
    page = center_client.get(reverse("dashboard:consents") + "?what=recorded&month=2026-13")
    assert "月は「2026-04」の形で入力してください。" in page.content.decode()
    page = center_client.get(reverse("dashboard:staff_gaps") + "?gap=pledge&facility=x")
    assert "整数" in page.content.decode() or "数値" in page.content.decode()


def test_the_lists_behind_numbers_page_through_many_rows(center_client):
    a = f.row_facility()
    for _ in range(120):
        f.row_staff(a)
    url = reverse("dashboard:staff_gaps") + f"?gap=pledge&facility={a.pk}"
    first = center_client.get(url)
    assert first.context["page"].paginator.count == 120
    assert len(first.context["page"].object_list) == 100
    second = center_client.get(url + "&page=2")
    assert len(second.context["page"].object_list) == 20
    assert selectors.staff_gap_list("pledge", facility_id=a.pk).count() == 120
