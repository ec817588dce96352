"""Celery tasks shared by every app. Tasks only call services and are safe to run twice."""

import time

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import audit, notifications, outbox
from .jobs import job_task
from .models import NetworkSettings, Notification
from .submissions import purge_old


def _email_of(notification: Notification, network: NetworkSettings) -> EmailMessage:
    """The mail of a notification: never a patient's details (notifications.mail_subject_of)."""
    subject = notifications.mail_subject_of(notification.kind, notification.title)
    return EmailMessage(
        subject=f"[{network.name}] {subject}",
        body=notifications.mail_body_of(
            kind=notification.kind,
            title=notification.title,
            url=notification.url,
            reason=notification.reason,
            base_url=settings.MCNET_BASE_URL,
            body=notification.body,
        ),
        to=[notification.recipient.email],
    )


def _notification(pk: int) -> Notification | None:
    return Notification.objects.select_related("recipient").filter(pk=pk).first()


def _pause_between_messages() -> None:
    """Tests only (tests/mcnet/test_mail_faults.py): MCNET_MAIL_TEST_DELAY seconds after each
    message, so that a test can kill the worker in the middle of a batch."""
    delay = float(getattr(settings, "MCNET_MAIL_TEST_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=5,
    time_limit=300,
    soft_time_limit=270,
)
def deliver_notification_emails(self, notification_ids: list[int]) -> int:
    """Send these notifications by e-mail, each once, over one SMTP connection; how many.

    Each message is claimed, sent and marked on its own (mcnet/outbox.py), so a worker killed
    half-way leaves the ones it sent marked, and whoever comes next (this task delivered again,
    or the sweep) sends only the rest. Should the mail server fail, the task is retried for
    the rest."""
    network = NetworkSettings.load()
    mailed = 0
    connection = get_connection()
    try:
        for pk in sorted(notification_ids):
            sent = outbox.send_once(
                notifications.MAIL,
                pk,
                lambda n: _email_of(n, network),
                connection=connection,
                load=_notification,
            )
            if sent == "sent":
                mailed += 1
                _pause_between_messages()
    except Exception as exc:  # the mail server or the database: the rest waits for the retry
        # again after 2, 4, 8, 16, 30 s: a restarted database is back within seconds
        raise self.retry(exc=exc, countdown=outbox.retry_countdown(self.request.retries)) from exc
    finally:
        connection.close()
    return mailed


@job_task
def redeliver_unsent_mail() -> dict[str, int]:
    """Queue again every kind of mail left unsent (mcnet/outbox.py): its publish failed, the
    broker lost it, or the worker sending it died."""
    return outbox.requeue_unsent()


@job_task
def purge_form_submissions() -> int:
    """Forget the one-time tokens of forms posted more than a day ago (mcnet/submissions.py)."""
    return purge_old()


@job_task
def redeliver_unsent_notifications() -> dict[str, int]:
    """The sweep's former name (a beat schedule saved by an older release may still use it)."""
    return outbox.requeue_unsent()


@job_task
def seal_access_log() -> int:
    """Seal the access log's pending records into the audit chain (mcnet.audit); how many.
    Safe twice, or two at once: each record is sealed once, under the chain's lock."""
    return audit.access_log_seal()
