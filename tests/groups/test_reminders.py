"""The periodic reminders (留意事項 1, 4, 第6条, 第7条), with frozen time: before the deadline,
after it, and a second run that sends nothing (each reminder has a dedupe key; the run records
what it sent)."""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilities.models import (
    EducationSession,
    Facility,
    Invitation,
    StaffPledge,
    User,
)
from groups import services as group_services
from groups.jobs import send_reminders
from groups.models import Group, Membership
from mcnet.models import AuditEvent, NetworkSettings, Notification
from tests.demo_objects import DEMO_START
from tests.factories import row_patient_group

DAY = dt.timedelta(days=1)


# A fixed start (not the clock of the day the suite runs), so a month later is the same 年度.
START = DEMO_START


def sent(kind: str, **filters):
    return Notification.objects.filter(kind=kind, **filters)


def run_at(moment) -> dict:
    with time_machine.travel(moment, tick=False):
        return send_reminders()


def test_review_coming_due_reminds_the_manager_once_then_groups_takes_over(start, people):
    interval = dt.timedelta(days=NetworkSettings.load().review_interval_days)
    yamada = Group.objects.get(patient__name="山田太郎")
    due = yamada.last_reviewed_at + interval
    cm = people["group_manager"]

    # Long before the deadline: nothing.
    assert run_at(due - 30 * DAY)["review_due"] == 0
    # Within the notice period: the manager, once, with a link to the review page.
    first = run_at(due - 10 * DAY)
    assert first["review_due"] >= 1
    reminder = sent("reminders.review_due", recipient=cm).get(title__contains="山田太郎")
    assert reminder.url == reverse("groups:review", args=[yamada.pk])
    assert reminder.reason and reminder.dedupe_key.endswith(
        timezone.localdate(due).strftime("%Y%m%d")
    )
    # Run again, the same day and the next: nothing twice.
    assert run_at(due - 10 * DAY)["review_due"] == 0
    assert run_at(due - 9 * DAY)["review_due"] == 0
    # Overdue: the groups app's job reminds the manager again, later the MCS administrator.
    with time_machine.travel(due + DAY, tick=False):
        overdue = group_services.reminders_send()
        assert overdue["reviews"] >= 1 and overdue["escalations"] == 0
        assert group_services.reminders_send()["reviews"] == 0
    assert run_at(due + DAY)["review_due"] == 0  # this job stays quiet once overdue
    with time_machine.travel(due + 31 * DAY, tick=False):
        assert group_services.reminders_send()["escalations"] >= 1
    assert Notification.objects.filter(
        kind="groups.review_overdue_admin", recipient__email="cm@kasugano.example.jp"
    ).exists()  # 春日野's MCS administrator (the care manager is also that)
    # Reviewed: a new deadline, a new reminder when it comes.
    with time_machine.travel(due + 32 * DAY, tick=False):
        group_services.supporter_review_record(
            actor=cm, group=yamada, note="", timeline_checked=True
        )
    yamada.refresh_from_db()
    assert run_at(yamada.last_reviewed_at + interval - 5 * DAY)["review_due"] >= 1
    assert sent("reminders.review_due", recipient=cm, title__contains="山田太郎").count() == 2


def test_staff_without_pledge_or_education_remind_the_facility_manager_monthly(start, people):
    takada = Facility.objects.get(name="高田訪問看護ステーション")
    abc_manager = people["other_facility_user"]  # 山田花子, ABC's facility manager
    takada_manager = people["mcs_admin"]  # 高田次郎 is also 高田's facility manager
    # The demo: every pledge on file; 高田 held this 年度's education, ABC and 春日野 did not.
    result = run_at(start + DAY)
    assert result["staff_pledge_education"] == 2
    note = sent("reminders.staff_pledge_education", recipient=abc_manager).get()
    assert "ABCクリニック" in note.title
    assert (
        "令和8年度の教育を受けていない職員: 2 名" in note.body
        and "誓約書" not in note.body.split("\n")[0]
    )
    assert note.url == reverse(
        "facilities:staff", args=[Facility.objects.get(name="ABCクリニック").pk]
    )
    assert "第7条" in note.body and note.reason
    assert not sent("reminders.staff_pledge_education", recipient=takada_manager).exists()
    assert not sent("reminders.staff_pledge_education", recipient=people["user"]).exists()
    # The same month again: nothing.
    assert run_at(start + 2 * DAY)["staff_pledge_education"] == 0

    # 高田's nurse turns out to have no pledge on file: 高田's manager hears of it next month;
    # ABC, which still has not held its education, is reminded again.
    StaffPledge.objects.filter(user=people["user"], facility=takada).delete()
    assert run_at(start + 32 * DAY)["staff_pledge_education"] == 3
    note = sent("reminders.staff_pledge_education", recipient=takada_manager).get()
    assert "誓約書が未記録の職員: 1 名" in note.body and "教育" not in note.body.split("\n")[0]
    assert sent("reminders.staff_pledge_education", recipient=abc_manager).count() == 2
    # ABC holds its education: nothing more for ABC the month after.
    abc = Facility.objects.get(name="ABCクリニック")
    session = EducationSession.objects.create(
        facility=abc, held_on=timezone.localdate(start + 40 * DAY), topic="個人情報保護とIT機器"
    )
    session.attendees.set(User.objects.filter(memberships__facility=abc))
    run_at(start + 63 * DAY)
    assert sent("reminders.staff_pledge_education", recipient=abc_manager).count() == 2


def test_invitations_about_to_lapse(start, people):
    takada = Facility.objects.get(name="高田訪問看護ステーション")
    admin = people["mcs_admin"]
    invitation = Invitation.objects.create(
        facility=takada,
        email="new-nurse@takada.example.jp",
        name="新人",
        created_by=admin,
        expires_at=start + 10 * DAY,
    )
    assert run_at(start + DAY)["invitations_expiring"] == 0
    assert run_at(start + 8 * DAY)["invitations_expiring"] >= 1
    note = sent("reminders.invitation_expiring", recipient=admin).get()
    assert "new-nurse@takada.example.jp" in note.title
    assert run_at(start + 9 * DAY)["invitations_expiring"] == 0
    # Sent again with a new expiry date: it may be recalled again.
    invitation.expires_at = start + 20 * DAY
    invitation.save()
    run_at(start + 18 * DAY)
    assert sent("reminders.invitation_expiring", recipient=admin).count() == 2


def test_group_invitation_about_to_lapse_reminds_the_invitee(start, people):
    expiry = dt.timedelta(days=NetworkSettings.load().invitation_expiry_days)
    membership = Membership.objects.get(
        state=Membership.State.INVITED, user=people["mcs_admin"], group__patient__name="山田太郎"
    )
    lapses = membership.invited_at + expiry
    assert run_at(lapses - 5 * DAY)["invitations_expiring"] == 0
    assert run_at(lapses - 2 * DAY)["invitations_expiring"] >= 1
    note = sent("reminders.group_invitation_expiring", recipient=people["mcs_admin"]).get()
    assert note.url == reverse("groups:invitation", args=[membership.group_id])
    assert "留意事項4" in note.body
    assert run_at(lapses - DAY)["invitations_expiring"] == 0


def test_dormant_accounts_are_listed_for_the_mcs_administrator(start, people):
    days = NetworkSettings.load().dormant_days
    assert run_at(start + (days - 1) * DAY)["dormant_accounts"] == 0
    later = start + (days + 1) * DAY
    assert run_at(later)["dormant_accounts"] >= 3  # one per facility's MCS administrator
    note = sent("reminders.dormant_accounts", recipient=people["mcs_admin"]).get()
    assert "高田看子" in note.body and "高田訪問看護ステーション" in note.title
    assert not sent("reminders.dormant_accounts", recipient=people["user"]).exists()
    assert run_at(later + DAY)["dormant_accounts"] == 0  # same month: nothing twice
    # The nurse logs in; next month she is not on the list.
    User.objects.filter(pk=people["user"].pk).update(last_login=later + DAY)
    run_at(later + 35 * DAY)
    latest = sent("reminders.dormant_accounts", recipient=people["mcs_admin"]).order_by("-pk")[0]
    assert "高田看子" not in latest.body and "高田次郎" in latest.body


def test_each_run_records_what_it_sent(start):
    result = run_at(start + DAY)
    event = AuditEvent.objects.filter(action="reminders.run").latest("id")
    assert event.changes == result
    assert event.actor_label == "system"


def test_reminders_are_in_the_inbox_with_their_reason(start, people, client_as):
    run_at(start + DAY)
    page = client_as("group_manager").get(reverse("inbox")).content.decode()
    assert "誓約書・教育が済んでいない職員がいます" in page
    assert "あなたがこの事業所の事業所管理者であるため" in page  # why they were told


def test_task_is_scheduled_by_beat(settings):
    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "mcnet.reminders.tasks.send_reminders" in entries


def test_queries_do_not_grow_with_the_reminders_due(start, people):
    """Set-based: as many queries for 30 reviews coming due as for 3."""
    interval = dt.timedelta(days=NetworkSettings.load().review_interval_days)
    moment = start + DAY
    kasugano = Facility.objects.get(name="春日野居宅介護支援事業所")
    managers = [people["group_manager"], people["other_facility_user"], people["mcs_admin"]]

    def groups_due(count: int) -> None:
        for i in range(count):
            group = row_patient_group(
                kasugano, last_reviewed_at=moment - interval + (5 + i % 7) * DAY
            )
            Group.objects.filter(pk=group.pk).update(manager=managers[i % 3])

    groups_due(3)
    with time_machine.travel(moment, tick=False):
        with CaptureQueriesContext(connection) as few:
            first = send_reminders()
        groups_due(30)
        with CaptureQueriesContext(connection) as many:
            second = send_reminders()
    assert first["review_due"] >= 3 and second["review_due"] == 30
    assert len(many) <= len(few)
