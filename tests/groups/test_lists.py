"""Who sees which group in the working list, by role (deny by default)."""

import pytest
from django.urls import reverse

from groups import selectors

YAMADA, JOETSU, MYOKO = "山田太郎さんのグループ", "上越花子さんのグループ", "妙高次郎さんのグループ"
FREE = "春日野地区 多職種連絡会"


@pytest.mark.parametrize(
    ("role", "working", "invited"),
    [
        ("user", {YAMADA, FREE}, set()),
        ("other_facility_user", {YAMADA, JOETSU}, set()),
        ("mcs_admin", set(), {YAMADA}),  # invited: the invitation, not the group
        ("other_mcs_admin", set(), set()),
        ("group_manager", {YAMADA, JOETSU, FREE}, set()),
        ("center", set(), set()),
    ],
)
def test_each_role_sees_its_own_groups(demo, people, client_as, role, working, invited):
    user = people[role]
    assert {g.name for g in selectors.working_groups_of(user)} == working
    assert {m.group.name for m in selectors.invitations_for(user)} == invited
    visible = {g.name for g in selectors.groups_visible_to(user) if g.kind != "all_users"}
    # Access ends with care: 妙高次郎's archived group opens to nobody by membership (its
    # custodians open it with a purpose, tests/groups/test_care_ends.py).
    assert visible == working
    page = client_as(role).get(reverse("groups:list")).content.decode()
    for name in (YAMADA, JOETSU, FREE):
        assert (name in page) is (name in working or name in invited), (role, name)
    assert MYOKO not in page  # archived: gone from the working list


def test_the_anonymous_visitor_is_sent_to_log_in(demo, client):
    response = client.get(reverse("groups:list"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not selectors.groups_visible_to(type("Anon", (), {"is_authenticated": False})())


def _rows_of(response) -> str:
    page = response.content.decode()
    return page[page.index("<tbody>") : page.index("</tbody>")]


def _rendered(response) -> list[str]:
    return [template.name for template in response.templates]


def test_the_rows_are_rendered_once_for_what_they_show_and_anew_when_it_changes(
    demo, people, client_as
):
    """The working list's rows are kept rendered for exactly what they show (mcnet.fragments:
    rendering them was most of the page's time): the same data is served without rendering, a
    change is shown at once."""
    from groups import services
    from tests.demo_objects import membership, yamada_group

    client = client_as("group_manager")
    url = reverse("groups:list")
    first = client.get(url)
    assert "groups/_working_rows.html" in _rendered(first)
    again = client.get(url)
    assert "groups/_working_rows.html" not in _rendered(again)
    assert _rows_of(again) == _rows_of(first)

    yamada = yamada_group()
    members_before = yamada.memberships.filter(state="accepted").count()
    invited = membership(yamada, people["mcs_admin"].email)  # the demo's open invitation
    services.group_invitation_accept(actor=people["mcs_admin"], membership=invited)
    changed = client.get(url)
    assert "groups/_working_rows.html" in _rendered(changed)
    row = next(r for r in _rows_of(changed).split("<tr>") if YAMADA in r)
    assert f"<td>{members_before + 1}</td>" in row

    # Another member sees the same group, but not as its manager: their own rows.
    other = client_as("other_facility_user").get(url)
    assert "管理者" not in next(r for r in _rows_of(other).split("<tr>") if YAMADA in r)
