"""Consequential one-click actions ask first (辞退, 招待の取り消し, 届出の取り下げ, 解任): the
button opens a question saying what will happen, without JavaScript; only the POST from that
page acts. Nobody else even sees the question."""

import re

import pytest
from django.urls import reverse

from devices.models import TakeoutRequest
from facilities.models import FacilityRole, Invitation
from groups.models import Membership
from tests.demo_objects import yamada_group

NOBODY_ELSE = ["other_facility_user", "other_mcs_admin", "center"]


def _form_action(html: str) -> str:
    """The POST form of the confirmation page (not the header's language or logout forms)."""
    section = html[html.index('class="confirm"') :]
    return re.search(r'<form method="post" action="([^"]+)"', section).group(1)


def _ask_then_do(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "実行すると、次のようになります" in html and "やめて戻る" in html
    assert _form_action(html) == url
    return html


def test_declining_a_group_invitation_asks_first(demo, people, client_as):
    group = yamada_group()
    url = reverse("groups:invitation_decline", args=[group.pk])
    client = client_as("mcs_admin")  # invited to 山田's group in the demo
    invitation_page = client.get(reverse("groups:invitation", args=[group.pk])).content.decode()
    assert f'<form method="get" action="{url}">' in invitation_page
    html = _ask_then_do(client, url)
    assert "招待を辞退しますか" in html and "この操作は元に戻せません" in html
    membership = Membership.objects.get(group=group, user=people["mcs_admin"])
    assert membership.state == Membership.State.INVITED  # asking changed nothing
    assert client.post(url).status_code == 302
    membership.refresh_from_db()
    assert membership.state == Membership.State.DECLINED


@pytest.mark.parametrize("role", ["user", *NOBODY_ELSE])
def test_only_the_invitee_sees_the_decline_question(demo, client_as, role):
    url = reverse("groups:invitation_decline", args=[yamada_group().pk])
    assert client_as(role).get(url).status_code == 404


def test_revoking_a_staff_invitation_asks_first(demo, client_as):
    invitation = Invitation.objects.get(facility=demo["takada"])
    url = reverse("facilities:invitation_revoke", args=[demo["takada"].pk, invitation.pk])
    client = client_as("mcs_admin")
    listing = client.get(reverse("facilities:invitations", args=[demo["takada"].pk]))
    assert f'<form method="get" action="{url}">' in listing.content.decode()
    html = _ask_then_do(client, url)
    assert f"{invitation.email} への招待を取り消しますか" in html
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.PENDING
    client.post(url)
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED


@pytest.mark.parametrize("role", ["user", *NOBODY_ELSE])
def test_only_the_facilitys_administrator_sees_the_revoke_question(demo, client_as, role):
    invitation = Invitation.objects.get(facility=demo["takada"])
    url = reverse("facilities:invitation_revoke", args=[demo["takada"].pk, invitation.pk])
    assert client_as(role).get(url).status_code == 404


def test_withdrawing_a_takeout_request_asks_first(demo, client_as):
    pending = TakeoutRequest.objects.get(facility=demo["takada"], state="pending")
    url = reverse("devices:takeout_withdraw", args=[pending.pk])
    client = client_as("user")  # the requester
    detail = client.get(reverse("devices:takeout_detail", args=[pending.pk])).content.decode()
    assert f'<form method="get" action="{url}">' in detail
    html = _ask_then_do(client, url)
    assert "取り下げますか" in html
    pending.refresh_from_db()
    assert pending.state == "pending"
    client.post(url)
    pending.refresh_from_db()
    assert pending.state == "withdrawn"


@pytest.mark.parametrize("role", ["mcs_admin", *NOBODY_ELSE])
def test_only_the_requester_sees_the_withdraw_question(demo, client_as, role):
    pending = TakeoutRequest.objects.get(facility=demo["takada"], state="pending")
    url = reverse("devices:takeout_withdraw", args=[pending.pk])
    assert client_as(role).get(url).status_code in (403, 404)


def test_relieving_an_mcs_administrator_asks_first(demo, people, client_as):
    takada = demo["takada"]
    row = FacilityRole.objects.get(
        facility=takada, user=people["mcs_admin"], role=FacilityRole.Role.MCS_ADMIN
    )
    url = reverse("facilities:role_relieve", args=[takada.pk, row.pk])
    client = client_as("mcs_admin")  # also 高田's facility manager
    roles_page = client.get(reverse("facilities:roles", args=[takada.pk])).content.decode()
    assert f'<form method="get" action="{url}"' in roles_page
    html = _ask_then_do(client, url)
    assert "MCS管理者から解任しますか" in html
    assert "職員の登録・招待、機器の管理、グループのアーカイブができなくなります" in html
    assert "同じ役割にもう一度任命します" in html  # how to undo it
    assert FacilityRole.objects.filter(pk=row.pk).exists()
    client.post(url)
    assert not FacilityRole.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("role", ["user", *NOBODY_ELSE])
def test_only_the_facility_manager_sees_the_relieve_question(demo, people, client_as, role):
    takada = demo["takada"]
    row = FacilityRole.objects.get(
        facility=takada, user=people["mcs_admin"], role=FacilityRole.Role.MCS_ADMIN
    )
    url = reverse("facilities:role_relieve", args=[takada.pk, row.pk])
    assert client_as(role).get(url).status_code == 404
