"""Celery tasks shared by every app. Tasks only call services and are safe to run twice."""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import NetworkSettings, Notification


@shared_task(
    acks_late=True, max_retries=5, default_retry_delay=60, time_limit=60, soft_time_limit=50
)
def deliver_notification_email(notification_id: int) -> str:
    """Send one notification by e-mail, once: the row is locked and marked in one transaction."""
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
        network = NetworkSettings.load()
        body = notification.body
        if notification.url:
            body += f"\n\n{settings.MCNET_BASE_URL.rstrip('/')}{notification.url}"
        if notification.reason:
            body += f"\n\n（この通知の理由: {notification.reason}）"
        send_mail(
            subject=f"[{network.name}] {notification.title}",
            message=body,
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return "sent"


@shared_task(acks_late=True, time_limit=300)
def redeliver_unsent_notifications() -> int:
    """Queue again the e-mails whose first publish failed (the broker was down)."""
    from .jobs import enqueue

    cutoff = timezone.now() - dt.timedelta(minutes=5)
    ids = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    for pk in ids:
        enqueue(deliver_notification_email, pk)
    return len(ids)


# Celery's autodiscovery imports only `<app>.tasks`: the printed forms' tasks are registered
# from here (mcnet/printing/tasks.py, mcnet/reminders/tasks.py).
from .printing import tasks as printing_tasks  # noqa: E402, F401
from .reminders import tasks as reminder_tasks  # noqa: E402, F401
