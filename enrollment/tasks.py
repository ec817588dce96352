"""Mail to applicants, who have no account and so no inbox: one e-mail per application step.

Idempotent: the event row is locked and marked in the transaction that sends it, so a
redelivered task (acks_late) sends nothing twice.
"""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mcnet.jobs import enqueue
from mcnet.models import NetworkSettings

from . import selectors
from .models import ApplicationEvent


def _absolute(path: str) -> str:
    return f"{settings.MCNET_BASE_URL.rstrip('/')}{path}"


@shared_task(
    acks_late=True, max_retries=5, default_retry_delay=60, time_limit=60, soft_time_limit=50
)
def send_application_mail(event_id: int) -> str:
    with transaction.atomic():
        event = (
            ApplicationEvent.objects.select_for_update()
            .select_related("application")
            .filter(pk=event_id)
            .first()
        )
        if event is None:
            return "missing"
        if event.mailed_at is not None:
            return "already sent"
        application = event.application
        network = NetworkSettings.load()
        context = {
            "event": event,
            "application": application,
            "network": network,
            "confirm_days": selectors.CONFIRM_MAX_AGE_DAYS,
        }
        if event.kind == ApplicationEvent.Kind.CONFIRM_EMAIL:
            context["link"] = _absolute(selectors.application_confirm_path(application))
        else:
            context["link"] = _absolute(selectors.application_status_path(application))
        with translation.override("ja"):
            body = render_to_string("enrollment/mail/application_event.txt", context)
            subject = f"[{network.name}] {event.get_kind_display()}: {application.facility_name}"
        send_mail(
            subject=subject,
            message=body,
            from_email=None,
            recipient_list=[application.manager_email],
        )
        event.mailed_at = timezone.now()
        event.save(update_fields=["mailed_at"])
    return "sent"


@shared_task(acks_late=True, time_limit=300)
def redeliver_unsent_application_mails() -> int:
    """Queue again the applicants' mails whose first publish failed (the broker was down)."""
    cutoff = timezone.now() - dt.timedelta(minutes=5)
    ids = list(
        ApplicationEvent.objects.filter(mailed_at__isnull=True, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    for pk in ids:
        enqueue(send_application_mail, pk)
    return len(ids)


@shared_task(acks_late=True, time_limit=300)
def purge_unconfirmed_applications() -> int:
    from .services import applications_purge_unconfirmed

    return applications_purge_unconfirmed()
