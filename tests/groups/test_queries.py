"""The pages of a user in 50 groups run as many queries as for 5."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import urlencode

from groups import services
from tests.factories import made_membership, made_patient_group


def make_groups(demo, people, count: int, start: int) -> list:
    cm, doctor = people["group_manager"], people["other_facility_user"]
    groups = []
    for i in range(start, start + count):
        group = made_patient_group(manager=cm, facility=demo["kasugano"], name=f"患者{i:03d}")
        made_membership(group, cm, doctor)
        groups.append(group)
    return groups


def queries(client, url: str) -> int:
    client.get(url)  # warm: the session's first request settles MFA and the cache
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context)


PAGES = [
    ("other_facility_user", "groups:list"),
    ("other_facility_user", "home"),
    ("other_facility_user", "consents:patient_list"),
    ("group_manager", "groups:list"),
    ("group_manager", "home"),
    ("group_manager", "consents:patient_list"),
    ("center", "groups:center"),
]


def test_working_pages_run_constant_queries_for_5_and_50_groups(
    demo, people, client_as, django_assert_max_num_queries
):
    make_groups(demo, people, 5, 0)
    counts = {}
    for role, name in PAGES:
        counts[(role, name)] = queries(client_as(role), reverse(name))
    make_groups(demo, people, 45, 5)
    for role, name in PAGES:
        client = client_as(role)
        client.get(reverse(name))
        with django_assert_max_num_queries(counts[(role, name)]):
            response = client.get(reverse(name))
        body = response.content.decode()
        if role == "center":  # 別紙5 (2): the center sees neutral labels, never the name
            assert "患者0" not in body
            assert body.count("患者グループ No.") >= 50
        elif name != "home":  # the home page shows only what needs doing
            assert body.count("患者0") >= 50, (role, name)


@pytest.mark.parametrize("role", ["other_facility_user", "group_manager"])
def test_the_archive_runs_constant_queries_for_5_and_50_groups(
    demo, people, client_as, role, django_assert_max_num_queries
):
    cm = people["group_manager"]
    first = make_groups(demo, people, 5, 0)
    for group in first:
        services.group_archive(actor=cm, group=group, reason="care_ended")
    url = reverse("groups:archive")
    five = queries(client_as(role), url)
    for group in make_groups(demo, people, 45, 5):
        services.group_archive(actor=cm, group=group, reason="care_ended")
    client = client_as(role)
    client.get(url)
    with django_assert_max_num_queries(five):
        page = client.get(url)
    body = page.content.decode()
    if role == "group_manager":  # the custodian keeps the record (留意事項 取り扱い (2))
        assert body.count("患者0") >= 50
    else:  # a former member keeps a line without the patient's name
        assert "患者0" not in body
        assert body.count("患者グループ No.") >= 50


def test_the_archive_queue_runs_constant_queries(
    demo, people, client_as, django_assert_max_num_queries
):
    cm = people["group_manager"]
    for group in make_groups(demo, people, 5, 0):
        services.group_report_end(actor=cm, group=group, reason="moved")
    url = reverse("groups:archive_queue")
    five = queries(client_as("group_manager"), url)
    for group in make_groups(demo, people, 45, 5):
        services.group_report_end(actor=cm, group=group, reason="moved")
    client = client_as("group_manager")
    client.get(url)
    with django_assert_max_num_queries(five):
        page = client.get(url)
    assert page.content.decode().count("患者0") >= 50


@pytest.mark.parametrize(
    "params",
    [{"q": "患者"}, {"q": "患者", "sort": "newest"}, {"state": "archived", "sort": "-name"}],
)
def test_the_searched_and_archived_list_runs_constant_queries(
    demo, people, client_as, params, django_assert_max_num_queries
):
    cm = people["group_manager"]
    url = f"{reverse('groups:list')}?{urlencode(params)}"
    for group in make_groups(demo, people, 5, 0):
        services.group_archive(actor=cm, group=group, reason="care_ended")
    make_groups(demo, people, 5, 100)
    five = queries(client_as("group_manager"), url)
    for group in make_groups(demo, people, 45, 5):
        services.group_archive(actor=cm, group=group, reason="care_ended")
    make_groups(demo, people, 45, 105)
    client = client_as("group_manager")
    client.get(url)
    with django_assert_max_num_queries(five):
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count("患者") >= 50
