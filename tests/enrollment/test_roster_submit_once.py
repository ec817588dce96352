"""A 別紙3 request posted twice (a double click) is filed once: one request, one notice and
one mail to each of the center's staff (mcnet/submissions.py)."""

import datetime as dt
import re
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from enrollment import services
from enrollment.models import RosterRequest
from facilities import tasks as facility_tasks
from facilities.models import Invitation
from mcnet import outbox, submissions
from mcnet.models import Notification
from mcnet.tasks import deliver_notification_emails

from .test_roster import NEW_STAFF, abc_request, formset, url  # noqa: F401 (a fixture)

NOTICE = "enrollment.roster_submitted"


def _token(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def _center_notices(before: set[int]) -> list[int]:
    ids = set(Notification.objects.filter(kind=NOTICE).values_list("pk", flat=True))
    return sorted(ids - before)


def test_a_double_posted_besshi3_request_makes_one_request_one_notice_one_mail(client_as, abc):
    client = client_as("other_facility_user")  # ABC's facility manager
    requests_before = RosterRequest.objects.filter(facility=abc).count()
    notices_before = set(_center_notices(set()))
    page = client.get(url("roster_new", abc)).content.decode()
    data = {**formset(NEW_STAFF), submissions.FIELD: _token(page, submissions.FIELD)}
    first = client.post(url("roster_new", abc), data)
    second = client.post(url("roster_new", abc), data)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert RosterRequest.objects.filter(facility=abc).count() == requests_before + 1
    notices = _center_notices(notices_before)
    center_staff = Notification.objects.filter(pk__in=notices).values("recipient").distinct()
    assert len(notices) == center_staff.count() >= 1  # one notice per center staff member
    assert deliver_notification_emails(notices) == len(notices)
    assert deliver_notification_emails(notices) == 0
    assert len(mail.outbox) == len(notices)


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_the_same_moment_file_one_request(client_as, abc):
    """The real double click: the second post arrives while the first is still being done.
    Two threads, each with its own client and database connection, post the same form at
    once with the same session."""
    client = client_as("other_facility_user")
    requests_before = RosterRequest.objects.filter(facility=abc).count()
    notices_before = set(_center_notices(set()))
    address = url("roster_new", abc)
    page = client.get(address).content.decode()
    data = {**formset(NEW_STAFF), submissions.FIELD: _token(page, submissions.FIELD)}
    start = threading.Barrier(2)
    answers = []

    def post():
        browser = Client()
        browser.cookies = client.cookies  # the same session, as two tabs of one browser
        start.wait()
        try:
            answers.append(browser.post(address, data))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert RosterRequest.objects.filter(facility=abc).count() == requests_before + 1
    notices = _center_notices(notices_before)
    assert len(notices) >= 1
    assert len(notices) == len(
        {n.recipient_id for n in Notification.objects.filter(pk__in=notices)}
    )


def test_the_invitations_of_a_registered_besshi3_request_whose_messages_were_lost_are_mailed_once(
    abc_request,  # noqa: F811 (the fixture imported above)
    people,
    monkeypatch,
):
    """The center registers the request; the invitations' messages never reach a worker (the
    broker lost them, or was down). The mail sweep queues each once, with its current key."""
    Invitation.objects.update(emailed_at=timezone.now())  # the demo's: mailed long ago
    services.roster_register(actor=people["center"], roster_request=abc_request)
    invitations = list(
        Invitation.objects.filter(
            pk__in=abc_request.rows.values("invitation"), emailed_at__isnull=True
        )
    )
    assert invitations
    queued = []
    monkeypatch.setattr(facility_tasks, "enqueue", lambda task, *args: queued.append(args))
    monkeypatch.setattr(outbox, "broker_backlog", lambda: 0)  # the queue has drained
    later = timezone.now() + dt.timedelta(seconds=settings.MCNET_MAIL_SWEEP_AFTER_SECONDS + 60)
    assert outbox.requeue_unsent(now=later)["invitations"] == len(invitations)
    assert sorted(queued) == sorted((i.pk, i.key) for i in invitations)
    for pk, key in queued:
        assert facility_tasks.send_invitation_email(pk, key) == "sent"
        assert facility_tasks.send_invitation_email(pk, key) == "already sent"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(i.email for i in invitations)
    assert outbox.requeue_unsent(now=later)["invitations"] == 0
