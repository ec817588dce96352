"""第4条2, 別紙4: every change of a facility's staff made in the portal reaches the center.

A deactivation, an accepted invitation, an MCS administrator appointed or relieved becomes a line
of the facility's open 別紙4; the facility sends it in one action (or it goes by itself after
the network's number of days); the center confirms it without doing it a second time.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment import selectors, services
from enrollment.models import ChangeNotice, ChangeRow
from facilities import services as facility_services
from facilities.models import FacilityRole, User
from mcnet.models import AuditEvent, NetworkSettings, Notification
from mcnet.printing.forms import besshi4

Role = FacilityRole.Role


def deactivate_url(facility, user):
    return reverse("facilities:staff_deactivate", args=[facility.pk, user.pk])


def draft_of(facility) -> ChangeNotice:
    return ChangeNotice.objects.get(facility=facility, state=ChangeNotice.State.DRAFT)


def test_a_direct_deactivation_is_a_line_the_center_confirms(client_as, people, takada):
    nurse = people["user"]
    center_told = Notification.objects.filter(kind="enrollment.notice_submitted").count()
    client = client_as("mcs_admin")
    response = client.post(
        deactivate_url(takada, nurse), {"reason": "退職", "confirm": "on"}, follow=False
    )
    assert response.status_code == 302
    notice = draft_of(takada)
    row = notice.rows.get()
    assert (row.action, row.email, row.name, row.kana, row.occupation) == (
        ChangeRow.Action.DELETE,
        "nurse@takada.example.jp",
        "高田看子",
        nurse.kana,
        "nurse",
    )
    assert row.done_at is not None and row.done_by == people["mcs_admin"]
    assert row.note == "退職"
    assert AuditEvent.objects.filter(
        action="enrollment.notice.line_record", object_id=str(notice.pk)
    ).exists()
    # The facility's signers hear that a draft opened; the center does not yet.
    assert Notification.objects.filter(
        kind="enrollment.notice_draft_opened", recipient=people["mcs_admin"]
    ).exists()
    assert Notification.objects.filter(kind="enrollment.notice_submitted").count() == center_told

    # The facility sees it and sends it in one action.
    detail = client.get(reverse("enrollment:notice_detail", args=[notice.pk])).content.decode()
    assert "高田看子" in detail and "センターへ提出する" in detail
    response = client.post(reverse("enrollment:notice_draft_submit", args=[notice.pk]))
    assert response.status_code == 302
    # A second click sends nothing more and says it went.
    again = client.post(reverse("enrollment:notice_draft_submit", args=[notice.pk]), follow=True)
    assert "この届出は既に提出されています。" in again.content.decode()
    notice.refresh_from_db()
    assert notice.state == ChangeNotice.State.SUBMITTED and not notice.auto_submitted
    assert notice.submitted_by == people["mcs_admin"] and notice.submitted_at is not None
    assert (
        Notification.objects.filter(kind="enrollment.notice_submitted").count() == center_told + 1
    )
    assert (
        AuditEvent.objects.filter(
            action="enrollment.notice.submit", object_id=str(notice.pk)
        ).count()
        == 1
    )

    # The center's queue lists it; it confirms it there; the nurse is not deactivated twice.
    center = client_as("center")
    queue = center.get(
        reverse("admin:enrollment_changenotice_changelist") + "?state__exact=submitted"
    )
    assert "高田訪問看護ステーション" in queue.content.decode()
    deactivations = AuditEvent.objects.filter(action="staff.deactivate").count()
    response = center.post(
        reverse("admin:enrollment_changenotice_changelist"),
        {"action": "confirm", "_selected_action": [notice.pk], "apply": "1"},
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.state == ChangeNotice.State.CONFIRMED
    assert AuditEvent.objects.filter(action="staff.deactivate").count() == deactivations
    confirm = AuditEvent.objects.get(action="enrollment.notice.confirm", object_id=str(notice.pk))
    assert confirm.changes["done"] == ["recorded:delete:nurse@takada.example.jp"]
    # Confirming a line made no new draft.
    assert not ChangeNotice.objects.filter(facility=takada, state="draft").exists()

    # The printed 別紙4 comes from these lines.
    context = besshi4.for_notice(notice)
    printed = [c for c in context["changes"] if c.get("email")]
    assert [(c["name"], c["change"]) for c in printed] == [("高田看子", "delete")]


def test_an_accepted_invitation_is_one_line_with_the_administrator_mark(people, takada):
    invitation = facility_services.staff_invite(
        actor=people["mcs_admin"],  # 高田's facility manager too: may invite an administrator
        facility=takada,
        email="saburo@takada.example.jp",
        name="高田三郎",
        kana="たかだ さぶろう",
        occupation="physical_therapist",
        is_mcs_admin=True,
    )
    assert not ChangeNotice.objects.filter(facility=takada, state="draft").exists()
    facility_services.staff_invitation_accept(invitation=invitation, password="Takada-2026x")
    row = draft_of(takada).rows.get()
    assert (row.action, row.email, row.is_mcs_admin, row.invitation) == (
        ChangeRow.Action.ADD,
        "saburo@takada.example.jp",
        True,
        invitation,
    )


def test_an_administrator_appointed_and_relieved_are_change_lines(people, takada):
    nurse, manager = people["user"], people["mcs_admin"]
    facility_services.role_appoint(actor=manager, user=nurse, facility=takada, role=Role.MCS_ADMIN)
    facility_services.role_relieve(actor=manager, user=nurse, facility=takada, role=Role.MCS_ADMIN)
    # A group manager appointed is not a column of 別紙4: no line.
    facility_services.role_appoint(
        actor=manager, user=nurse, facility=takada, role=Role.GROUP_MANAGER
    )
    rows = list(draft_of(takada).rows.values_list("row_number", "action", "is_mcs_admin", "note"))
    assert rows == [
        (1, "change", True, "MCS管理者に任命"),
        (2, "change", False, "MCS管理者を解任"),
    ]


def test_the_center_carrying_out_a_notice_makes_no_second_line(people, takada):
    notice = services.notice_submit(
        actor=people["mcs_admin"],
        facility=takada,
        rows=[{"action": "delete", "name": "高田看子", "email": "nurse@takada.example.jp"}],
    )
    services.notice_confirm(actor=people["center"], notice=notice)
    assert User.objects.get(pk=people["user"].pk).state == User.State.LEFT
    assert not ChangeNotice.objects.filter(facility=takada, state="draft").exists()


def test_a_draft_goes_by_itself_after_the_network_days(people, takada):
    settings_row = NetworkSettings.load()
    settings_row.change_notice_auto_submit_days = 10
    settings_row.save()
    facility_services.staff_deactivate(
        actor=people["mcs_admin"], user=people["user"], facility=takada, reason="退職"
    )
    notice = draft_of(takada)
    now = timezone.now()
    assert services.notices_submit_overdue_drafts(now=now + dt.timedelta(days=9)) == 0
    assert services.notices_submit_overdue_drafts(now=now + dt.timedelta(days=10, hours=1)) == 1
    # A second run finds nothing to send.
    assert services.notices_submit_overdue_drafts(now=now + dt.timedelta(days=11)) == 0
    notice.refresh_from_db()
    assert notice.state == ChangeNotice.State.SUBMITTED and notice.auto_submitted
    assert AuditEvent.objects.filter(
        action="enrollment.notice.auto_submit", object_id=str(notice.pk), actor__isnull=True
    ).exists()
    assert Notification.objects.filter(
        kind="enrollment.notice_auto_submitted", recipient=people["mcs_admin"]
    ).exists()


def test_the_next_change_after_sending_opens_a_new_draft(people, takada):
    facility_services.staff_deactivate(
        actor=people["mcs_admin"], user=people["user"], facility=takada, reason="退職"
    )
    first = draft_of(takada)
    services.notice_draft_submit(actor=people["mcs_admin"], notice=first)
    facility_services.role_appoint(
        actor=people["center"], user=people["mcs_admin"], facility=takada, role=Role.MCS_ADMIN
    )  # already held, and made by the center: nothing
    invitation = facility_services.staff_invite(
        actor=people["mcs_admin"], facility=takada, email="new@takada.example.jp", name="新人"
    )
    facility_services.staff_invitation_accept(invitation=invitation, password="Takada-2026x")
    second = draft_of(takada)
    assert second.pk != first.pk
    assert list(second.rows.values_list("action", "email")) == [("add", "new@takada.example.jp")]


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "other_mcs_admin", "group_manager", "center"]
)
def test_nobody_else_sends_takadas_draft(client_as, people, takada, role):
    facility_services.staff_deactivate(
        actor=people["mcs_admin"], user=people["user"], facility=takada, reason="退職"
    )
    notice = draft_of(takada)
    client = client_as(role) if role != "user" else client_as("anonymous")
    response = client.post(reverse("enrollment:notice_draft_submit", args=[notice.pk]))
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/accounts/login/")
    assert ChangeNotice.objects.get(pk=notice.pk).state == ChangeNotice.State.DRAFT
    assert selectors.notices_for(people[role]).filter(pk=notice.pk).exists() is False


def test_a_removed_administrator_keeps_the_mark_on_the_deletion_line(people, demo):
    abc = demo["abc"]
    facility_services.staff_deactivate(
        actor=people["other_facility_user"],  # ABC's facility manager
        user=people["other_mcs_admin"],
        facility=abc,
        reason="退職",
    )
    row = draft_of(abc).rows.get()
    assert (row.action, row.email, row.is_mcs_admin) == ("delete", "admin@abc.example.jp", True)
