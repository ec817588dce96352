"""The group list is searched (name or number), filtered working/archived, sorted by a
whitelisted order and paged without a count; a search finds only the groups the user may see,
and a patient group the user is not in never shows its name (別紙5 (2))."""

import pytest
from django.urls import reverse

from groups import services, views
from groups.models import Group
from tests.demo_objects import group_named, joetsu_group, yamada_group

YAMADA, JOETSU, MYOKO = "山田太郎さんのグループ", "上越花子さんのグループ", "妙高次郎さんのグループ"
FREE = "春日野地区 多職種連絡会"


def rows(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_search_finds_by_name_and_by_number(demo, client_as):
    client = client_as("group_manager")
    url = reverse("groups:list")
    by_name = rows(client.get(url, {"q": "山田"}))
    assert YAMADA in by_name and JOETSU not in by_name and FREE not in by_name
    by_number = rows(client.get(url, {"q": f"No.{joetsu_group().pk}"}))
    assert JOETSU in by_number and YAMADA not in by_number
    nothing = rows(client.get(url, {"q": "存在しない"}))
    assert "該当するグループはありません" in nothing


@pytest.mark.parametrize("role", ["user", "other_mcs_admin", "center", "mcs_admin"])
def test_a_search_never_finds_a_group_the_user_is_not_in(demo, client_as, role):
    """高田's nurse is not in 上越花子's group; ABC's and 高田's administrators and the center are
    in no patient group (高田's administrator only invited: the invitation, not the group)."""
    client = client_as(role)
    url = reverse("groups:list")
    for state in ("working", "archived"):
        for query in ("上越", "さんのグループ", str(joetsu_group().pk), f"No.{joetsu_group().pk}"):
            body = rows(client.get(url, {"q": query, "state": state}))
            assert "上越花子" not in body, (role, state, query)
        body = rows(client.get(url, {"q": "妙高", "state": state}))
        assert "妙高次郎" not in body, (role, state)


def test_the_archived_tab_shows_what_the_archive_shows(demo, people, client_as):
    """The custodian (the manager) finds the archived group; a former member does not (they keep
    a neutral line on the archive page)."""
    url = reverse("groups:list")
    manager = rows(client_as("group_manager").get(url, {"state": "archived"}))
    assert MYOKO in manager and YAMADA not in manager
    working = rows(client_as("group_manager").get(url))
    assert MYOKO not in working and YAMADA in working


def test_an_archived_free_group_is_found_on_the_archived_tab_by_its_members(
    demo, people, client_as
):
    free = group_named(FREE)
    services.group_archive(actor=people["group_manager"], group=free, reason="care_ended")
    client = client_as("user")  # a member of the free group
    url = reverse("groups:list")
    assert FREE not in rows(client.get(url, {"q": "連絡会"}))
    assert FREE in rows(client.get(url, {"q": "連絡会", "state": "archived"}))


def test_sort_orders_and_a_bad_sort_or_state_is_ignored(demo, client_as):
    client = client_as("group_manager")
    url = reverse("groups:list")
    by_name = rows(client.get(url, {"q": "さんのグループ"}))
    assert by_name.index(JOETSU) < by_name.index(YAMADA)  # 上 before 山
    reverse_name = rows(client.get(url, {"q": "さんのグループ", "sort": "-name"}))
    assert reverse_name.index(YAMADA) < reverse_name.index(JOETSU)
    for bad in ("password", "-manager__email", "name;drop", ""):
        body = rows(client.get(url, {"q": "さんのグループ", "sort": bad, "state": bad}))
        assert body.index(JOETSU) < body.index(YAMADA)


def test_the_list_pages_and_keeps_the_search(demo, client_as, monkeypatch):
    monkeypatch.setattr(views, "GROUPS_PER_PAGE", 1)
    client = client_as("group_manager")
    url = reverse("groups:list")
    first = client.get(url, {"q": "さんのグループ"})
    assert JOETSU in rows(first) and YAMADA not in rows(first)
    body = first.content.decode()
    assert "page=2" in body and "state=working" in body and "sort=name" in body
    second = client.get(url, {"q": "さんのグループ", "page": 2})
    assert YAMADA in rows(second) and JOETSU not in rows(second)
    assert "次へ" not in second.content.decode()
    assert client.get(url, {"page": "x'"}).status_code == 200


def test_the_all_users_group_heads_only_the_first_unsearched_page(demo, client_as):
    client = client_as("user")
    url = reverse("groups:list")
    all_users = Group.objects.get(kind=Group.Kind.ALL_USERS).name
    assert all_users in rows(client.get(url))
    assert all_users not in rows(client.get(url, {"q": "山田"}))
    assert yamada_group().name in rows(client.get(url, {"q": "山田"}))
