"""Mail to applicants, who have no account and so no inbox: one e-mail per application step.

Idempotent: each event is claimed, sent and marked on its own (mcnet/outbox.py), so a
redelivered task (acks_late) or the sweep sends nothing twice.
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from mcnet import outbox
from mcnet.jobs import enqueue, job_task
from mcnet.models import NetworkSettings

from . import selectors, services
from .models import ApplicationEvent


def _absolute(path: str) -> str:
    return f"{settings.MCNET_BASE_URL.rstrip('/')}{path}"


def _requeue_application_mails(event_ids: list[int]) -> None:
    for pk in event_ids:
        enqueue(send_application_mail, pk)


# The application's events are the outbox of the applicant's mail (mcnet/outbox.py).
APPLICATION_MAIL = outbox.Outbox(
    name="application_events",
    model=ApplicationEvent,
    sent_field="mailed_at",
    created_field="created_at",
    requeue=_requeue_application_mails,
)
outbox.register(APPLICATION_MAIL)


def _application_mail(event: ApplicationEvent) -> EmailMessage:
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
    return EmailMessage(subject=subject, body=body, to=[application.manager_email])


# The database restarted: again after 2, 4, 8, 16, 30 s (mcnet/outbox.py), then the sweep.
@shared_task(**outbox.MAIL_TASK_OPTIONS)
def send_application_mail(event_id: int) -> str:
    """Send one step's mail to the applicant, once (mcnet/outbox.py)."""
    return outbox.send_once(
        APPLICATION_MAIL,
        event_id,
        _application_mail,
        load=lambda pk: (
            ApplicationEvent.objects.select_related("application").filter(pk=pk).first()
        ),
    )


@job_task
def redeliver_unsent_application_mails() -> dict[str, int]:
    """The sweep's former name (a beat schedule saved by an older release may still use it):
    one sweep now covers every kind of mail (mcnet.tasks.redeliver_unsent_mail)."""
    return outbox.requeue_unsent()


@job_task
def purge_unconfirmed_applications() -> int:
    return services.applications_purge_unconfirmed()


@job_task(soft_time_limit=280)
def submit_overdue_change_notices() -> int:
    """第4条2: drafts of 別紙4 past the network's number of days go to the center (beat)."""
    return services.notices_submit_overdue_drafts()
