"""Celery tasks shared by every app. Tasks only call services and are safe to run twice."""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from .models import NetworkSettings, Notification


def _email_of(notification: Notification, network: NetworkSettings) -> EmailMessage:
    body = notification.body
    if notification.url:
        body += f"\n\n{settings.MCNET_BASE_URL.rstrip('/')}{notification.url}"
    if notification.reason:
        body += f"\n\n（この通知の理由: {notification.reason}）"
    return EmailMessage(
        subject=f"[{network.name}] {notification.title}",
        body=body,
        to=[notification.recipient.email],
    )


@shared_task(
    acks_late=True, max_retries=5, default_retry_delay=60, time_limit=60, soft_time_limit=50
)
def deliver_notification_email(notification_id: int) -> str:
    """Send one notification by e-mail, once: the row is locked and marked in one transaction.
    (Notifications are now mailed in batches, below; this stays for tasks already queued.)"""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "missing"
        if notification.emailed_at is not None:
            return "already sent"
        _email_of(notification, NetworkSettings.load()).send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return "sent"


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=5,
    default_retry_delay=60,
    time_limit=300,
    soft_time_limit=270,
)
def deliver_notification_emails(self, notification_ids: list[int]) -> int:
    """Send these notifications by e-mail, each once, over one SMTP connection; how many.

    The rows not mailed yet are locked; those a copy of this task holds are skipped (it mails
    them). Each one mailed is marked in the same transaction, so a task delivered again mails
    only what is left; should the mail server fail half-way, those mailed so far stay marked
    and the task is retried for the rest."""
    network = NetworkSettings.load()
    mailed, failure = [], None
    with transaction.atomic():
        pending = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk__in=notification_ids, emailed_at__isnull=True)
            .order_by("pk")
        )
        try:
            with get_connection() as connection:
                for notification in pending:
                    connection.send_messages([_email_of(notification, network)])
                    mailed.append(notification.pk)
        except Exception as exc:  # the mail server: the rest waits for the retry
            failure = exc
        Notification.objects.filter(pk__in=mailed).update(emailed_at=timezone.now())
    if failure is not None:
        raise self.retry(exc=failure)
    return len(mailed)


@shared_task(acks_late=True, time_limit=300)
def redeliver_unsent_notifications() -> int:
    """Queue again the e-mails whose first publish failed (the broker was down)."""
    from .jobs import enqueue
    from .notifications import MAIL_BATCH_SIZE, batched

    cutoff = timezone.now() - dt.timedelta(minutes=5)
    ids = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    for batch in batched(ids, MAIL_BATCH_SIZE):
        enqueue(deliver_notification_emails, list(batch))
    return len(ids)


# Celery's autodiscovery imports only `<app>.tasks`: the printed forms' tasks are registered
# from here (mcnet/printing/tasks.py, mcnet/reminders/tasks.py, mcnet/dashboard/tasks.py).
from .dashboard import tasks as dashboard_tasks  # noqa: E402, F401
from .printing import tasks as printing_tasks  # noqa: E402, F401
from .reminders import tasks as reminder_tasks  # noqa: E402, F401
