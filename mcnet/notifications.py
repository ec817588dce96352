"""Telling people: an in-portal inbox row per recipient, and an e-mail sent by a Celery task.

Each notification records why it was sent (`reason`), so a user can see why they were told,
and an optional `dedupe_key` so a periodic job run twice sends nothing twice.

There is one way to send: `send_notifications`, set-based, so a periodic job telling 100,000
people costs a few queries per thousand; `notify` is its form for a handful of
recipients of one message.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from . import outbox, tasks
from .jobs import enqueue, enqueue_on_commit
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
    for ids in batched(notification_ids, MAIL_BATCH_SIZE):
        enqueue_on_commit(tasks.deliver_notification_emails, list(ids))


def _requeue_mail(notification_ids: list[int]) -> None:
    for ids in batched(notification_ids, MAIL_BATCH_SIZE):
        enqueue(tasks.deliver_notification_emails, list(ids))


# The notifications are the outbox of their own mail (mcnet/outbox.py).
MAIL = outbox.Outbox(
    name="notifications",
    model=Notification,
    sent_field="emailed_at",
    created_field="created_at",
    requeue=_requeue_mail,
)
outbox.register(MAIL)


# 別紙5 (2), 別紙6: a mail leaves the network (mail servers, phones, forwarding), so it never
# carries a patient's details. It says that there is something and links to it; what it is,
# is read after login. Only the kinds below keep their title in the subject: their titles are
# made of staff and facility names and fixed words only. Every other kind — anything about a
# group (a patient group is named after its patient), and any kind not listed here, so that a
# new kind is safe until someone looks at it — gets a neutral subject. No mail carries a
# notification's body: bodies hold free text (comments, reasons, descriptions).
MAIL_TITLE_KINDS = frozenset(
    {
        "devices.check_overdue",
        "devices.incident_acknowledged",
        "devices.incident_closed",
        "devices.incident_escalated",
        "devices.incident_reported",
        "devices.loss_acknowledged",
        "devices.loss_closed",
        "devices.loss_reported",
        "devices.takeout_decided",
        "devices.takeout_filed",
        "devices.takeout_overdue",
        "devices.takeout_returned",
        "enrollment.application_resubmitted",
        "enrollment.application_scan",
        "enrollment.application_submitted",
        "enrollment.facility_stopped",
        "enrollment.notice_confirmed",
        "enrollment.notice_returned",
        "enrollment.notice_submitted",
        "enrollment.roster_registered",
        "enrollment.roster_returned",
        "enrollment.roster_submitted",
        "facilities.facility_updated",
        "facilities.invitation_accepted",
        "facilities.role_appointed",
        "facilities.user_reinstated",
        "facilities.user_restricted",
        # The center's announcement (利用開始までの流れ 7①): the center sees no patient and
        # writes to everyone; its preview warns that the mail carries the text as written.
        "groups.announcement_mail",
        # A facility's name and fixed words.
        "groups.staff_attestation_overdue",
        "reminders.dormant_accounts",
        "reminders.invitation_expiring",
        "reminders.staff_pledge_education",
    }
)


# The one kind whose mail carries its body: the center's announcement, written for every user
# and previewed before it is sent (groups.services.announcement_mail_send).
MAIL_BODY_KINDS = frozenset({"groups.announcement_mail"})


def mail_subject_of(kind: str, title: str) -> str:
    """What a notification's mail says in its subject (see MAIL_TITLE_KINDS)."""
    if kind in MAIL_TITLE_KINDS:
        return title
    if kind in ("groups.invitation", "reminders.group_invitation_expiring"):
        return _("連携グループへの招待があります")
    if kind.startswith("groups.") or kind.startswith("reminders.review"):
        return _("連携グループについての通知があります")
    return _("新しい通知があります")


# What happened and what to do, in words that name no patient nor group (a patient group is
# named after its patient, 別紙5 (2)): the mail of a kind whose title cannot travel.
MAIL_SUMMARIES = {
    "groups.invitation": _lazy(
        "連携グループへの招待が届きました。参加することがふさわしいかを判断してから、受理または辞退してください（留意事項4）。"
    ),
    "reminders.group_invitation_expiring": _lazy(
        "連携グループへの招待の期限が近づいています。受理または辞退してください。"
    ),
    "groups.accepted": _lazy(
        "あなたが管理する連携グループへの招待が受理され、支援チームに新しいメンバーが加わりました。グループのページで支援チームを確認してください。"
    ),
    "groups.declined": _lazy(
        "あなたが管理する連携グループへの招待が辞退されました。必要であれば、別の方を招待してください。"
    ),
    "groups.invitation_expired": _lazy(
        "あなたが管理する連携グループへの招待が、回答のないまま期限切れになりました。必要であれば、もう一度招待してください。"
    ),
    "groups.left": _lazy("あなたが管理する連携グループから、メンバーが退出しました。"),
    "groups.removed": _lazy("連携グループのメンバーから解除されました。"),
    "groups.removed_by_admin": _lazy(
        "あなたが管理する連携グループのメンバーが、事業所のMCS管理者により解除されました。"
    ),
    "groups.member_ended": _lazy("連携グループのメンバーが外れました。"),
    "groups.handover": _lazy("連携グループの管理者が引き継がれました。"),
    "groups.manager_missing": _lazy(
        "あなたの事業所が管理する連携グループの管理者が不在になりました。管理者を引き継いでください（留意事項1）。"
    ),
    "groups.to_be_archived": _lazy(
        "あなたの事業所が管理する連携グループの利用終了が報告されました。速やかにアーカイブしてください（留意事項2）。"
    ),
    "groups.archive_overdue": _lazy(
        "利用を終了した連携グループがアーカイブを待っています。速やかにアーカイブしてください（留意事項2）。"
    ),
    "groups.archived": _lazy("あなたが参加していた連携グループがアーカイブされました。"),
    "groups.consent_withdrawn": _lazy(
        "あなたが参加している連携グループの患者さんの同意が撤回されました。"
    ),
    "groups.review_overdue": _lazy(
        "あなたが管理する連携グループのサポーター精査の期限が過ぎています。参加しているサポーターが適切か精査してください（留意事項1）。"
    ),
    "groups.review_overdue_admin": _lazy(
        "あなたの事業所が管理する連携グループのサポーター精査が大幅に遅れています。グループ管理者に精査を促してください（留意事項1）。"
    ),
    "reminders.review_due": _lazy(
        "連携グループのサポーター精査の時期が近づいています（留意事項1）。"
    ),
    "consents.unconsented_erasure": _lazy(
        "同意書（別紙7）が記録されていない患者の情報が、まもなく削除されます（別紙6）。同意を得ている場合は、それまでに同意書を記録してください。"
    ),
    "consents.patient_request_overdue": _lazy(
        "ご本人からの請求の回答期限を過ぎています。速やかに対応してください。"
    ),
}


def mail_body_of(
    *, url: str, reason: str, base_url: str, kind: str = "", title: str = "", body: str = ""
) -> str:
    """What happened (the title when it may travel, else the kind's neutral summary), where to
    act, and why this person was told; never the notification's body (free text), except for
    the kinds whose body is written to be mailed (the center's announcements)."""
    if kind in MAIL_BODY_KINDS:
        lines = [body]
    elif kind in MAIL_TITLE_KINDS and title:
        lines = [str(title), _("詳しくはポータルにログインしてご確認ください。")]
    elif kind in MAIL_SUMMARIES:
        lines = [
            str(MAIL_SUMMARIES[kind]),
            _("詳しくはポータルにログインしてご確認ください。"),
            _("（患者さんの情報はメールではお送りしません。）"),
        ]
    else:
        lines = [
            _("ポータルに新しい通知があります。内容はログインしてからご確認ください。"),
            _("（患者さんの情報はメールではお送りしません。）"),
        ]
    if url:
        lines += ["", f"{base_url.rstrip('/')}{url}"]
    if reason:
        lines += ["", _("（この通知の理由: %(reason)s）") % {"reason": reason}]
    return "\n".join(lines)


def link_by_pk(viewname: str) -> Callable[[int], str]:
    """`reverse(viewname, args=[pk])` for many pks at the cost of one reverse()."""
    sentinel = 987654321987654321
    before, after = reverse(viewname, args=[sentinel]).split(str(sentinel))
    return lambda pk: f"{before}{int(pk)}{after}"


def notifications_scrub(*, links=(), texts=(), title: str) -> int:
    """別紙6: blank the notifications that link under one of `links` (URL prefixes) or quote
    one of `texts` (an erased patient's name), keeping the row, its link and whom it was for.
    One UPDATE whose regular expressions are matched once per row, however many patients a
    retention run erases (a LIKE per name and column would read the table that many times)."""
    links, texts = [link for link in links if link], [text for text in texts if text]
    query = Q(pk__in=[])
    if links:
        query |= Q(url__regex="^(" + "|".join(re.escape(link) for link in links) + ")")
    if texts:
        quoted = "|".join(re.escape(text) for text in texts)
        query |= Q(title__regex=quoted) | Q(body__regex=quoted) | Q(reason__regex=quoted)
    return Notification.objects.filter(query).update(title=title, body="", reason="")
