"""The center's overview of every group: a page at a time, in the order of the index
group_center_order, never counted (a million groups), within the page budget of 8 queries."""

import pytest
from django.urls import reverse

from groups import selectors
from groups.models import Group

URL = reverse("groups:center")


@pytest.fixture
def pages_of_two(monkeypatch):
    monkeypatch.setattr(selectors, "CENTER_PAGE_SIZE", 2)


def _names(response) -> list[str]:
    assert response.status_code == 200
    return [group.name for group in response.context["page"]]


def test_the_pages_together_list_every_group_once_in_the_overviews_order(
    demo, client_as, pages_of_two
):
    expected = list(
        Group.objects.order_by("state", "kind", "name", "pk").values_list("name", flat=True)
    )
    assert len(expected) > 2
    client = client_as("center")
    seen, number = [], 1
    while True:
        response = client.get(URL, {"page": number})
        seen += _names(response)
        page = response.context["page"]
        assert page.has_previous == (number > 1)
        if not page.has_next:
            break
        assert f'href="?page={number + 1}"' in response.content.decode()
        number += 1
    assert seen == expected


def test_the_pager_keeps_the_filter(demo, client_as, pages_of_two):
    client = client_as("center")
    active = Group.objects.filter(state=Group.State.ACTIVE)
    assert active.count() > 2
    body = client.get(URL, {"state": "active"}).content.decode()
    assert 'href="?state=active&amp;page=2"' in body
    second = client.get(URL, {"state": "active", "page": 2})
    assert _names(second) and set(_names(second)) <= set(active.values_list("name", flat=True))


def test_a_page_number_that_is_not_one_shows_the_first_page(demo, client_as, pages_of_two):
    client = client_as("center")
    first = _names(client.get(URL))
    assert _names(client.get(URL, {"page": "x"})) == first
    assert _names(client.get(URL, {"page": "-3"})) == first
    beyond = client.get(URL, {"page": 999})
    assert _names(beyond) == [] and beyond.context["page"].has_previous


def test_the_overview_stays_within_8_queries(demo, client_as, django_assert_max_num_queries):
    client = client_as("center")
    client.get(URL)  # the session's first request settles MFA and the caches
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(URL, {"q": "山田", "kind": "patient", "page": 1}).status_code == 200
