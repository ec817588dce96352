"""「あなたの支援チーム」 (別紙5 (2)): a dated notice for the patient and family of the
facilities (name, kind, phone) and professions in the team; the group page says when the team
has changed since the last notice was printed and offers the new one."""

from unittest import mock

from django.urls import reverse

from groups import selectors, services
from groups.models import Group, TeamNotice
from mcnet.models import AuditEvent, GeneratedDocument, NetworkSettings
from mcnet.printing import registry
from mcnet.printing.forms import team_notice
from mcnet.printing.renderer import render_pdf
from tests.demo_objects import user, yamada_group
from tests.factories import made_membership
from tests.printing import pdf

REQUEST = "printing:request_for"


def print_notice(client, group: Group):
    return client.post(reverse(REQUEST, args=["team_notice", group.pk]), {"model": "groups.Group"})


def notice_text(group: Group) -> str:
    with mock.patch.object(NetworkSettings, "load", return_value=NetworkSettings()):
        context = team_notice.for_group(group)
        return pdf.text(render_pdf(registry.get("team_notice").template, context))


def test_the_notice_lists_the_teams_facilities_and_professions_dated(demo):
    group = yamada_group()  # 春日野 (care manager), ABC (doctor), 高田 (nurse)
    text = pdf.normalize(notice_text(group))
    assert pdf.normalize("あなたの支援チーム") in text
    assert pdf.normalize("山田太郎様・ご家族様") in text
    for key in ("kasugano", "abc", "takada"):
        facility = demo[key]
        assert pdf.normalize(facility.name) in text
        assert pdf.normalize(facility.get_kind_display()) in text
        assert pdf.normalize(facility.phone) in text
    for profession in ("医師", "看護師", "介護支援専門員"):
        assert profession in text
    assert "現在" in text and "令和" in text
    # Only the team: no birth date, address or the members' names.
    for detail in ("1938", "春日野1-10-1", "025-555-0101"):
        assert detail not in text


def test_printing_records_the_team_and_the_page_flags_a_change(demo, people, client_as):
    group = yamada_group()
    client = client_as("group_manager")
    page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "支援チームのお知らせをまだ印刷していません" in page
    response = print_notice(client, group)
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(form_code="team_notice")
    assert response.url == reverse("printing:detail", args=[document.pk])
    notice = TeamNotice.objects.get(group=group)
    assert notice.printed_by == people["group_manager"]
    assert notice.team == [list(pair) for pair in selectors.team_key(group)]
    assert all(isinstance(facility_id, int) for facility_id, _code in notice.team)
    assert AuditEvent.objects.filter(action="group.team_notice", object_id=str(group.pk)).exists()
    page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "支援チームは変わっていません" in page
    assert "支援チーム（事業所・職種）が変わりました" not in page

    # Another nurse of 高田 joins: same facility, same profession — the notice still holds.
    admin = people["mcs_admin"]
    membership = group.memberships.get(user=admin, state="invited")
    services.group_invitation_accept(actor=admin, membership=membership)
    assert not selectors.team_notice_status(group)["changed"]
    # The ABC doctor leaves: a facility leaves the team, and the page says so.
    services.membership_leave(actor=user("doctor@abc.example.jp"), group=group)
    page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "支援チーム（事業所・職種）が変わりました" in page
    assert "「あなたの支援チーム」を印刷する" in page
    print_notice(client, group)
    assert TeamNotice.objects.filter(group=group).count() == 2
    assert not selectors.team_notice_status(group)["changed"]
    assert demo["abc"].name not in notice_text(group)


def test_a_new_facility_joining_changes_the_team(demo, people):
    group = yamada_group()
    services.team_notice_record(actor=people["group_manager"], group=group)
    made_membership(group, people["group_manager"], user("admin@abc.example.jp"))  # ABC, a nurse
    assert selectors.team_notice_status(group)["changed"]


def test_only_the_groups_manager_prints_the_notice(demo, client_as):
    group = yamada_group()
    for role in ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"):
        client = client_as(role)
        response = print_notice(client, group)
        assert response.status_code == 404, role
        page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
        assert "あなたの支援チーム" not in page
    assert not TeamNotice.objects.exists()


def test_a_free_group_has_no_team_notice(demo, people, client_as):
    group = services.group_create_free(actor=people["group_manager"], name="勉強会")
    made_membership(group, people["group_manager"], people["user"])
    assert selectors.team_notice_status(group) is None
    assert print_notice(client_as("group_manager"), group).status_code == 404
