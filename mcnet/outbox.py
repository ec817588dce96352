"""Outgoing mail, each message sent once whatever fails: the rows are the outbox.

Every mail the portal sends is a row written in the transaction of the action that causes it
(a Notification, a facility Invitation, an applicant's ApplicationEvent), before anything is
queued: a broker that is down or loses its data loses no mail, the row stays unsent and
`requeue_unsent` (beat) queues it again. Each kind registers its table here (`register`, from
its app's ready()), so that one sweep covers every kind without this base layer importing the
apps above it.

Sending one message (`send_once`), each step committed on its own (never inside a transaction):

1. claim: a conditional UPDATE sets the row's claim (`mail_claimed_until`) to now + MAIL_CLAIM
   only if the row is unsent and not claimed by someone else (or their claim ran out); zero
   rows updated means sent already or in flight, and nothing is sent;
2. send it to the mail server;
3. mark it sent (the row's sent column), which also clears the claim.

A worker killed before 2 leaves a claim that runs out; the sweep then queues the row again. A
worker killed between the mail server's accept (2) and the mark (3) is the one window where a
message goes twice: no mail server takes part in our transaction, so the mark can only follow
the accept. It is one message wide, never a batch: each message is marked as soon as it is sent.
"""

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import InterfaceError, OperationalError
from django.db.models import Model, Q
from django.utils import timezone

from .jobs import broker_forgot

logger = logging.getLogger(__name__)

CLAIM_FIELD = "mail_claimed_until"
# Sending one message on a connection not yet open: connect, EHLO, STARTTLS, EHLO, AUTH, MAIL
# FROM, RCPT TO (one recipient), DATA, the message; each waits at most EMAIL_TIMEOUT.
SMTP_STEPS_PER_MESSAGE = 9
# The tasks that send mail (by name: this base layer does not import the apps' tasks). The
# sweep's backlog counts only their messages.
MAIL_TASKS = frozenset(
    {
        "mcnet.tasks.deliver_notification_emails",
        "facilities.tasks.send_invitation_email",
        "enrollment.tasks.send_application_mail",
    }
)
# How many queued messages the sweep reads to count the mail among them; a longer queue is a
# large run draining and counts as a backlog whatever it holds.
BACKLOG_SCAN = 1000
# A mail task that lost the database (restarted, failed over) tries again after 2, 4, 8, 16,
# 30 s: a restart takes seconds, and the message should not wait a minute.
DB_ERRORS = (OperationalError, InterfaceError)
RETRY_BACKOFF = 2
RETRY_BACKOFF_MAX = 30


# How every task that sends an outbox's mail runs: acknowledged after it ends (a worker killed
# mid-send leaves the message for another), bounded in time, and retried on a lost database.
MAIL_TASK_OPTIONS = {
    "acks_late": True,
    "time_limit": 60,
    "soft_time_limit": 50,
    "autoretry_for": DB_ERRORS,
    "max_retries": 5,
    "retry_backoff": RETRY_BACKOFF,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": False,
}


def retry_countdown(retries: int) -> int:
    """Seconds before retry number `retries` + 1 (as Celery's retry_backoff, without jitter)."""
    return min(RETRY_BACKOFF_MAX, RETRY_BACKOFF * 2**retries)


def claim_duration() -> dt.timedelta:
    """How long a claim holds. A claim covers ONE message (a batch claims each in turn), so it
    must outlast sending one message, not a whole task: at most SMTP_STEPS_PER_MESSAGE socket
    operations, each bounded by EMAIL_TIMEOUT (tests/mcnet/test_outbox.py checks it). A
    short claim lets the sweep take over soon after a worker died mid-send."""
    return dt.timedelta(seconds=settings.MCNET_MAIL_CLAIM_SECONDS)


def sweep_after() -> dt.timedelta:
    """How old an unsent row must be before the sweep queues it again: its first message may
    still be on its way through the queue."""
    return dt.timedelta(seconds=settings.MCNET_MAIL_SWEEP_AFTER_SECONDS)


@dataclass(frozen=True)
class Outbox:
    """One kind of outgoing mail: its table, its columns, and how to queue rows again."""

    name: str
    model: type[Model]
    sent_field: str  # set when the mail server took the message
    created_field: str  # when the row last asked for a mail (the sweep waits from there)
    requeue: Callable[[list[int]], None]  # queue the send task(s) for these ids
    # Rows that no longer want their mail (an invitation revoked or accepted) are left out.
    still_wanted: Callable[[], Q] = Q

    def unsent(self):
        return self.model._default_manager.filter(**{f"{self.sent_field}__isnull": True})


_OUTBOXES: dict[str, Outbox] = {}


def register(outbox: Outbox) -> None:
    _OUTBOXES[outbox.name] = outbox


def outboxes() -> list[Outbox]:
    return list(_OUTBOXES.values())


def _free(now) -> Q:
    return Q(**{f"{CLAIM_FIELD}__isnull": True}) | Q(**{f"{CLAIM_FIELD}__lt": now})


def claim(outbox: Outbox, pk: int):
    """Claim one unsent row: the claim's expiry (the caller's token), or None when the row is
    sent already, gone, or claimed by a live sender."""
    now = timezone.now()
    until = now + claim_duration()
    claimed = outbox.unsent().filter(_free(now), pk=pk).update(**{CLAIM_FIELD: until})
    return until if claimed else None


def mark_sent(outbox: Outbox, pk: int) -> None:
    outbox.model._default_manager.filter(pk=pk).update(
        **{outbox.sent_field: timezone.now(), CLAIM_FIELD: None}
    )


def release(outbox: Outbox, pk: int, token) -> None:
    """Give a claim back at once (the row was not sent), unless someone took it over since."""
    outbox.model._default_manager.filter(pk=pk, **{CLAIM_FIELD: token}).update(
        **{CLAIM_FIELD: None}
    )


def send_once(
    outbox: Outbox,
    pk: int,
    compose: Callable[[Model], "EmailMessage | str"],
    *,
    connection=None,
    load: Callable[[int], Model | None] | None = None,
) -> str:
    """Claim, send, mark: "sent", "already sent" (or in flight elsewhere), or the reason
    `compose` gave for not sending (it returns a string instead of a message)."""
    token = claim(outbox, pk)
    if token is None:
        return "already sent" if outbox.model._default_manager.filter(pk=pk).exists() else "missing"
    try:
        row = load(pk) if load else outbox.model._default_manager.filter(pk=pk).first()
        message = "missing" if row is None else compose(row)
        if isinstance(message, str):
            release(outbox, pk, token)
            return message
        (connection or get_connection()).send_messages([message])
    except BaseException:
        release(outbox, pk, token)  # not sent: a retry (or the sweep) may take it at once
        raise
    mark_sent(outbox, pk)
    return "sent"


def broker_backlog() -> int:
    """How many mail messages wait in the broker's default queue (the mail tasks' queue); 0
    when that cannot be told (not Redis, or Redis unreachable: nothing can be queued then
    anyway). Other tasks' messages do not count: a busy queue must not hold back the mail of
    a worker that died. A queue longer than BACKLOG_SCAN counts whole (a large run draining)."""
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return 0
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        waiting = int(client.llen(queue))
        if waiting > BACKLOG_SCAN:
            return waiting
        return sum(_is_mail(raw) for raw in client.lrange(queue, 0, BACKLOG_SCAN - 1))
    except redis.RedisError:
        return 0
    finally:
        client.close()


def _is_mail(raw: bytes) -> bool:
    """A kombu message in Redis is JSON; the task's name is in its headers (protocol 2)."""
    try:
        headers = json.loads(raw).get("headers") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(headers, dict) and headers.get("task") in MAIL_TASKS


def requeue_unsent(*, now=None, limit: int = 10_000) -> dict[str, int]:
    """Queue again, for every kind, the rows left unsent for longer than `sweep_after()` (or
    all of them when the broker lost its data) and not claimed by a live sender: their first
    message never reached the broker, the broker lost it, or the worker sending it died.
    Queuing one twice costs nothing: the claim lets one send through."""
    now = now or timezone.now()
    queued = {}
    if broker_forgot("mail"):
        # A broker that lost its data (restarted empty, flushed) lost every message it held:
        # the unsent rows are queued again at once, however recent.
        cutoff = now
    elif broker_backlog() > 0:
        # Mail messages still wait in the queue (a large reminder run drains for many minutes):
        # the rows they carry are not lost, and queuing them again would only lengthen it.
        # What was lost is queued once the queue has drained.
        return {outbox.name: 0 for outbox in outboxes()}
    else:
        cutoff = now - sweep_after()
    for outbox in outboxes():
        ids = list(
            outbox.unsent()
            .filter(_free(now), outbox.still_wanted())
            .filter(**{f"{outbox.created_field}__lt": cutoff})
            .order_by(outbox.created_field)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            outbox.requeue(ids)
        queued[outbox.name] = len(ids)
    return queued
