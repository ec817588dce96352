"""Every mail once (mcnet/outbox.py): claimed, sent and marked per message; one sweep for all.

The faults with a real worker and a real broker are in tests/mcnet/test_mail_faults.py.
"""

import datetime as dt
import json
import secrets

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone

from enrollment import services as enrollment_services
from enrollment import tasks as enrollment_tasks
from enrollment.models import ApplicationEvent
from facilities import services as facility_services
from facilities import tasks as facility_tasks
from facilities.models import Invitation, Occupation
from mcnet import notifications, outbox, tasks
from mcnet.models import Notification
from mcnet.notifications import notify

REAL_BROKER_BACKLOG = outbox.broker_backlog
LATER = dt.timedelta(seconds=settings.MCNET_MAIL_SWEEP_AFTER_SECONDS + 60)
APPLICATION = {
    "facility_name": "名立クリニック",
    "postal_code": "949-1600",
    "prefecture": "新潟県",
    "city": "上越市",
    "town": "名立区",
    "address_line": "7-7",
    "phone": "025-777-7777",
    "kind": "clinic",
    "manager_name": "名立太郎",
    "manager_email": "taro@nadachi.example.jp",
    "pledge_affirmed": True,
}


def _invite(people, demo, email: str) -> Invitation:
    return facility_services.staff_invite(
        actor=people["mcs_admin"],
        facility=demo["takada"],
        email=email,
        name="看護 新",
        kana="かんご あらた",
        occupation=Occupation.NURSE,
    )


@pytest.fixture(autouse=True)
def broker_kept_its_data(monkeypatch):
    """The broker did not lose its data and its queue is empty (a test says otherwise where
    it means it)."""
    monkeypatch.setattr(outbox, "broker_forgot", lambda marker: False)
    monkeypatch.setattr(outbox, "broker_backlog", lambda: 0)


@pytest.fixture
def queued(monkeypatch) -> list:
    """What the sweep queues, by task name, instead of publishing it."""
    published = []

    def enqueue(task, *args, **kwargs):
        published.append((task.name, args))
        return True

    for module in (notifications, facility_tasks, enrollment_tasks):
        monkeypatch.setattr(module, "enqueue", enqueue)
    return published


def test_a_claim_lets_one_sender_through_until_it_runs_out(people):
    [notification] = notify(recipients=[people["user"]], kind="test", title="一通")
    token = outbox.claim(notifications.MAIL, notification.pk)
    assert token is not None
    assert outbox.claim(notifications.MAIL, notification.pk) is None  # in flight elsewhere
    assert tasks.deliver_notification_emails([notification.pk]) == 0
    assert mail.outbox == []
    # The sender died: once its claim runs out, another may send.
    with time_machine.travel(token + dt.timedelta(seconds=1)):
        assert tasks.deliver_notification_emails([notification.pk]) == 1
    assert tasks.deliver_notification_emails([notification.pk]) == 0
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None and notification.mail_claimed_until is None


def test_a_batch_marks_each_message_sent_before_sending_the_next(people, monkeypatch):
    """A worker killed mid-batch must leave every message it sent marked: the mark is written
    (committed, in production's autocommit) before the next message goes to the server."""
    recipients = [people["user"], people["mcs_admin"], people["other_mcs_admin"]]
    ids = sorted(n.pk for n in notify(recipients=recipients, kind="test", title="順に"))
    seen = []

    class Watching(locmem.EmailBackend):
        def send_messages(self, messages):
            seen.append(
                (
                    len(mail.outbox),
                    Notification.objects.filter(pk__in=ids, emailed_at__isnull=False).count(),
                    Notification.objects.filter(
                        pk__in=ids, mail_claimed_until__isnull=False
                    ).count(),
                )
            )
            return super().send_messages(messages)

    monkeypatch.setattr(tasks, "get_connection", lambda: Watching())
    assert tasks.deliver_notification_emails(ids) == 3
    # (mails sent so far, rows marked sent, rows claimed) as each message goes out
    assert seen == [(0, 0, 1), (1, 1, 1), (2, 2, 1)]


def test_a_failed_send_gives_its_claim_back(people, monkeypatch):
    [notification] = notify(recipients=[people["user"]], kind="test", title="失敗")

    class Down(locmem.EmailBackend):
        def send_messages(self, messages):
            raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(tasks, "get_connection", lambda: Down())
    with pytest.raises(ConnectionRefusedError):
        tasks.deliver_notification_emails([notification.pk])
    notification.refresh_from_db()
    assert notification.emailed_at is None and notification.mail_claimed_until is None
    monkeypatch.undo()
    assert tasks.deliver_notification_emails([notification.pk]) == 1  # the retry, at once


def _all_mailed_so_far() -> None:
    """The demo's own rows count as mailed: the test counts only what it makes."""
    now = timezone.now()
    Notification.objects.update(emailed_at=now)
    Invitation.objects.update(emailed_at=now)
    ApplicationEvent.objects.update(mailed_at=now)


def test_one_sweep_queues_every_kind_of_unsent_mail_and_nothing_else(people, demo, queued):
    _all_mailed_so_far()
    waiting = notify(recipients=[people["user"]], kind="test", title="待ち")[0]
    sent = notify(recipients=[people["mcs_admin"]], kind="test", title="送信済み")[0]
    in_flight = notify(recipients=[people["other_mcs_admin"]], kind="test", title="送信中")[0]
    invitation = _invite(people, demo, "new1@takada.example.jp")
    revoked = _invite(people, demo, "new2@takada.example.jp")
    facility_services.invitation_revoke(actor=people["mcs_admin"], invitation=revoked)
    event = enrollment_services.application_create(data=APPLICATION).events.get()
    Notification.objects.filter(pk=sent.pk).update(emailed_at=timezone.now())

    assert tasks.redeliver_unsent_mail() == {  # too recent: their first message may come
        "notifications": 0,
        "invitations": 0,
        "application_events": 0,
    }
    with time_machine.travel(timezone.now() + LATER):
        outbox.claim(notifications.MAIL, in_flight.pk)  # a live sender holds it
        assert tasks.redeliver_unsent_mail() == {
            "notifications": 1,
            "invitations": 1,
            "application_events": 1,
        }
    assert sorted(queued) == sorted(
        [
            ("mcnet.tasks.deliver_notification_emails", ([waiting.pk],)),
            ("facilities.tasks.send_invitation_email", (invitation.pk, invitation.key)),
            ("enrollment.tasks.send_application_mail", (event.pk,)),
        ]
    )
    # The former names of the sweep run the same one sweep.
    queued.clear()
    with time_machine.travel(timezone.now() + LATER):
        assert tasks.redeliver_unsent_notifications()["invitations"] == 1
        assert enrollment_tasks.redeliver_unsent_application_mails()["notifications"] == 1


def test_after_the_broker_lost_its_data_even_a_fresh_mail_is_queued_again_at_once(
    people, queued, monkeypatch
):
    _all_mailed_so_far()
    [fresh] = notify(recipients=[people["user"]], kind="test", title="できたて")
    assert tasks.redeliver_unsent_mail()["notifications"] == 0  # its message may be queued
    monkeypatch.setattr(outbox, "broker_forgot", lambda marker: marker == "mail")
    assert tasks.redeliver_unsent_mail()["notifications"] == 1  # it is not: the broker lost it
    assert queued == [("mcnet.tasks.deliver_notification_emails", ([fresh.pk],))]


def test_while_messages_wait_in_the_queue_nothing_is_queued_again_unless_the_broker_forgot(
    people, queued, monkeypatch
):
    """A large run still draining is not lost mail: queuing its rows again every sweep would
    only lengthen the queue."""
    _all_mailed_so_far()
    notify(recipients=[people["user"]], kind="test", title="順番待ち")
    monkeypatch.setattr(outbox, "broker_backlog", lambda: 5000)
    with time_machine.travel(timezone.now() + LATER):
        assert tasks.redeliver_unsent_mail()["notifications"] == 0
        monkeypatch.setattr(outbox, "broker_forgot", lambda marker: True)
        assert tasks.redeliver_unsent_mail()["notifications"] == 1
    assert len(queued) == 1


def _kombu_message(task: str) -> str:
    """A message as kombu stores it in Redis (the body is irrelevant to the backlog)."""
    return json.dumps({"body": "", "headers": {"lang": "py", "task": task, "id": "x"}})


def test_the_backlog_counts_the_mail_waiting_in_the_brokers_queue_and_nothing_else(settings):
    """Other tasks waiting (a busy queue) must not hold back the mail of a worker that died:
    only mail messages count, unless the queue is so long that it is a large run draining."""
    import redis

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the broker is not Redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    settings.CELERY_TASK_DEFAULT_QUEUE = queue = f"test-backlog-{secrets.token_hex(4)}"
    try:
        client.rpush(
            queue,
            _kombu_message("mcnet.tasks.deliver_notification_emails"),
            _kombu_message("facilities.tasks.send_invitation_email"),
            _kombu_message("mcnet.tasks.purge_form_submissions"),
            "not json",
        )
    except redis.RedisError:
        pytest.skip("no broker")
    try:
        assert REAL_BROKER_BACKLOG() == 2
        client.delete(queue)
        client.rpush(queue, _kombu_message("mcnet.dashboard.tasks.refresh_figures"))
        assert REAL_BROKER_BACKLOG() == 0  # only other work waits: the sweep may run
        client.rpush(queue, *["x"] * outbox.BACKLOG_SCAN)
        assert REAL_BROKER_BACKLOG() == outbox.BACKLOG_SCAN + 1  # a large run draining
    finally:
        client.delete(queue)
    assert REAL_BROKER_BACKLOG() == 0
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens: cannot tell
    assert REAL_BROKER_BACKLOG() == 0


def test_a_resent_invitation_is_swept_with_its_new_key_and_the_old_message_is_dropped(
    people, demo, queued
):
    _all_mailed_so_far()
    invitation = _invite(people, demo, "new3@takada.example.jp")
    old_key = invitation.key
    resent = facility_services.invitation_resend(actor=people["mcs_admin"], invitation=invitation)
    with time_machine.travel(timezone.now() + LATER):
        tasks.redeliver_unsent_mail()
    assert ("facilities.tasks.send_invitation_email", (resent.pk, resent.key)) in queued
    assert facility_tasks.send_invitation_email(resent.pk, old_key) == "superseded"
    assert Invitation.objects.get(pk=resent.pk).mail_claimed_until is None  # given back
    assert facility_tasks.send_invitation_email(resent.pk, resent.key) == "sent"
    assert [m.to for m in mail.outbox] == [["new3@takada.example.jp"]]


def test_an_application_mail_is_claimed_like_the_others(db, mailoutbox):
    event = enrollment_services.application_create(data=APPLICATION).events.get()
    assert outbox.claim(enrollment_tasks.APPLICATION_MAIL, event.pk) is not None
    assert enrollment_tasks.send_application_mail(event.pk) == "already sent"  # in flight
    assert mailoutbox == []
    ApplicationEvent.objects.filter(pk=event.pk).update(mail_claimed_until=None)
    assert enrollment_tasks.send_application_mail(event.pk) == "sent"
    assert len(mailoutbox) == 1


SENDERS = [
    tasks.deliver_notification_emails,
    facility_tasks.send_invitation_email,
    enrollment_tasks.send_application_mail,
]


def test_a_claim_outlasts_sending_one_message_and_runs_out_within_a_minute():
    """A claim covers one message (a batch claims each in turn): it must outlast every SMTP
    step of one message, each bounded by EMAIL_TIMEOUT, else the sweep would hand a message
    still being sent to a second worker; and it must be short, since the mail of a worker
    killed mid-send waits for it to run out."""
    from mcnet.settings import base

    assert 0 < base.EMAIL_TIMEOUT <= 10
    one_message = outbox.SMTP_STEPS_PER_MESSAGE * base.EMAIL_TIMEOUT
    assert base.MCNET_MAIL_CLAIM_SECONDS >= one_message + 10  # a margin for the database
    assert base.MCNET_MAIL_CLAIM_SECONDS <= 60
    assert {task.name for task in SENDERS} == outbox.MAIL_TASKS
    assert {o.name for o in outbox.outboxes()} == {
        "notifications",
        "invitations",
        "application_events",
    }


def test_the_sweep_recovers_a_dead_workers_mail_within_about_a_minute():
    from mcnet.settings import base

    every = base.CELERY_BEAT_SCHEDULE["redeliver-unsent-mail"]["schedule"]
    assert 20 <= every <= 30
    assert base.MCNET_MAIL_SWEEP_AFTER_SECONDS <= 30
    # The claim of the message in flight runs out, then the next sweep queues it.
    assert base.MCNET_MAIL_CLAIM_SECONDS + every <= 90


def test_a_mail_task_that_lost_the_database_tries_again_within_seconds():
    assert [outbox.retry_countdown(n) for n in range(6)] == [2, 4, 8, 16, 30, 30]
    for task in SENDERS:
        assert task.max_retries == 5, task.name
        if task is tasks.deliver_notification_emails:
            continue  # retries by itself, with outbox.retry_countdown (below)
        assert set(task.autoretry_for) == set(outbox.DB_ERRORS), task.name
        assert (task.retry_backoff, task.retry_backoff_max, task.retry_jitter) == (2, 30, False)


def test_a_batch_that_lost_the_database_is_retried_after_two_seconds(people, monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    [notification] = notify(recipients=[people["user"]], kind="test", title="DB 再起動")

    def down(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(outbox, "claim", down)
    retried = {}
    monkeypatch.setattr(
        tasks.deliver_notification_emails,
        "retry",
        lambda **kwargs: retried.update(kwargs) or Retry(),
    )
    with pytest.raises(Retry):
        tasks.deliver_notification_emails([notification.pk])
    assert retried["countdown"] == 2
    assert isinstance(retried["exc"], OperationalError)


def test_beat_runs_the_one_mail_sweep():
    from mcnet.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    sweeps = [e["task"] for e in schedule.values() if "redeliver" in e["task"]]
    assert sweeps == ["mcnet.tasks.redeliver_unsent_mail"]
    app.loader.import_default_modules()
    assert "mcnet.tasks.redeliver_unsent_mail" in app.tasks
