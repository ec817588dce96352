"""Telling people: an in-portal inbox row per recipient, and an e-mail sent by a Celery task.

Each notification records why it was sent (`reason`), so a user can see why they were told,
and an optional `dedupe_key` so a periodic job run twice sends nothing twice.

There is one way to send: `send_notifications`, set-based, so a periodic job telling 100,000
people costs a few queries per thousand (issue 9); `notify` is its form for a handful of
recipients of one message.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from .jobs import enqueue_on_commit
from .models import Notification

# Notifications created per round of queries (a few IN lists of this size: well below
# SQLite's limit on parameters, few round trips on PostgreSQL).
BATCH_SIZE = 2000
# Notifications mailed by one task.
MAIL_BATCH_SIZE = 200


@dataclass(frozen=True, slots=True)
class Message:
    """One notification to send to one user, unless that user already got its dedupe key."""

    recipient_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    reason: str = ""
    dedupe_key: str = ""


def batched(items: Iterable, size: int) -> Iterator[tuple]:
    """itertools.batched of Python 3.12 (the project still runs on 3.11)."""
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def send_notifications(messages: Iterable[Message]) -> Counter:
    """Create the notifications not sent before and queue their mail; how many of each kind.

    Inactive recipients get nothing. A (recipient, dedupe_key) pair already sent is filtered
    out up front, one query per batch; the unique constraint stays the guard against a run
    going on at the same time."""
    sent = Counter()
    for _created_at, created in _send_in_batches(messages):
        sent.update(kind for _pk, _recipient_id, kind in created)
    return sent


def notify(
    *,
    recipients,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    reason: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Create one notification per recipient (inactive users are skipped) and queue the mail.

    With `dedupe_key`, a recipient who already has a notification with that key gets nothing.
    """
    users = {r.pk: r for r in recipients if r is not None}
    message = Message(
        recipient_id=0,
        kind=kind,
        title=title,
        body=body,
        url=url,
        reason=reason,
        dedupe_key=dedupe_key,
    )
    notifications = []
    for created_at, created in _send_in_batches(replace(message, recipient_id=pk) for pk in users):
        for pk, recipient_id, _kind in created:
            notification = Notification(
                pk=pk, recipient=users[recipient_id], created_at=created_at, **_columns(message)
            )
            notification._state.adding = False  # as if read from the database
            notification._state.db = connection.alias
            notifications.append(notification)
    return notifications


def _columns(message: Message) -> dict:
    return {
        "kind": str(message.kind),
        "title": str(message.title)[:200],
        "body": str(message.body),
        "url": str(message.url),
        "reason": str(message.reason),
        "dedupe_key": str(message.dedupe_key),
    }


def _send_in_batches(messages: Iterable[Message]) -> Iterator[tuple]:
    """Per batch: when it was created, and (id, recipient_id, kind) of each notification."""
    limit = connection.features.max_query_params  # SQLite's, as Django counts it
    size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit // 2 - 1)
    for batch in batched(messages, size):
        now = timezone.now()
        created = _create(batch, now=now)
        if created:
            _queue_mail([pk for pk, _recipient_id, _kind in created])
        yield now, created


def _create(messages: tuple[Message, ...], *, now) -> list[tuple[int, int, str]]:
    active = set(
        get_user_model()
        .objects.filter(pk__in={m.recipient_id for m in messages}, is_active=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    sent = _sent_by_key({(m.recipient_id, m.dedupe_key) for m in messages if m.dedupe_key})
    rows = []
    for m in messages:
        if m.recipient_id not in active:
            continue
        if m.dedupe_key:
            pair = (m.recipient_id, m.dedupe_key)
            if pair in sent:
                continue
            sent[pair] = None
        rows.append(m)
    return _insert(rows, now=now) if rows else []


# The columns a notification is created with (_columns between the first and the last);
# read_at and emailed_at stay NULL.
_INSERTED = ("recipient_id", "kind", "title", "body", "url", "reason", "dedupe_key", "created_at")


def _insert(messages: list[Message], *, now) -> list[tuple[int, int, str]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the unique constraint skips a pair that a run
    going on at the same time sent since the check, and only the rows inserted come back, with
    their ids (bulk_create(ignore_conflicts=True) returns no ids). PostgreSQL gets one array per
    column (as bulk_create does there: a short statement however many rows); SQLite, rows of
    parameters within its limit."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(_INSERTED)
    returning = "ON CONFLICT DO NOTHING RETURNING id, recipient_id, kind"
    created_at = connection.ops.adapt_datetimefield_value(now)
    rows = [(m.recipient_id, *_columns(m).values(), created_at) for m in messages]
    created = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = [list(column) for column in zip(*rows, strict=True)][:-1]
            types = ("bigint", "text", "text", "text", "text", "text", "text")
            unnest = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (names from the model)
                f"SELECT *, %s FROM unnest({unnest}) {returning}",
                [created_at, *arrays],
            )
            return cursor.fetchall()
        limit = connection.features.max_query_params or 999
        for chunk in batched(rows, limit // len(_INSERTED)):
            values = ", ".join(["(" + ", ".join(["%s"] * len(_INSERTED)) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} {returning}",  # noqa: S608
                [value for row in chunk for value in row],
            )
            created += cursor.fetchall()
    return created


def _sent_by_key(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The ids of the notifications sent under these (recipient, dedupe_key) pairs, in one
    query that the unique index notification_once_per_key answers, one probe per pair,
    however large the table grows: the pairs joined as rows (the ORM cannot write a list of
    pairs, and two IN lists, of recipients and of keys, match far more rows than asked for).
    PostgreSQL gets them as two arrays, SQLite as a VALUES list."""
    if not pairs:
        return {}
    # Names from the model, every value a parameter.
    table = connection.ops.quote_name(Notification._meta.db_table)
    if connection.vendor == "postgresql":
        recipients, keys = zip(*pairs, strict=True)
        pair_rows = "SELECT * FROM unnest(%s::bigint[], %s::text[])"
        params = [list(recipients), list(keys)]
    else:
        pair_rows = "VALUES " + ", ".join(["(%s, %s)"] * len(pairs))
        params = [value for pair in pairs for value in pair]
    sql = (
        f"SELECT id, recipient_id, dedupe_key FROM {table} "  # noqa: S608
        "WHERE dedupe_key <> %s "  # the index's condition, so that it is used
        f"AND (recipient_id, dedupe_key) IN ({pair_rows})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["", *params])
        return {(recipient, key): pk for pk, recipient, key in cursor.fetchall()}


def _queue_mail(notification_ids: list[int]) -> None:
    from .tasks import deliver_notification_emails

    for ids in batched(notification_ids, MAIL_BATCH_SIZE):
        enqueue_on_commit(deliver_notification_emails, list(ids))


def role_holder_ids(facility_ids, role: str) -> dict[int, list[int]]:
    """The ids of the active holders of a facility role (FacilityRole.Role) at each facility,
    in one query: those a role-addressed notification goes to. `facility_ids` may be a
    queryset (a subquery)."""
    from facilities.models import FacilityRole

    holders = defaultdict(list)
    rows = (
        FacilityRole.objects.filter(facility_id__in=facility_ids, role=role, user__is_active=True)
        .order_by("facility_id", "user_id")
        .values_list("facility_id", "user_id")
    )
    for facility_id, user_id in rows:
        holders[facility_id].append(user_id)
    return holders


def link_by_pk(viewname: str) -> Callable[[int], str]:
    """`reverse(viewname, args=[pk])` for many pks at the cost of one reverse()."""
    sentinel = 987654321987654321
    before, after = reverse(viewname, args=[sentinel]).split(str(sentinel))
    return lambda pk: f"{before}{int(pk)}{after}"
