"""Celery tasks of the facilities app. They only read rows and send; safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from mcnet import outbox
from mcnet.jobs import enqueue
from mcnet.models import NetworkSettings

from .models import Invitation, User


def _requeue_invitations(invitation_ids: list[int]) -> None:
    rows = Invitation.objects.filter(pk__in=invitation_ids).values_list("pk", "key")
    for pk, key in rows:
        enqueue(send_invitation_email, pk, key)


# The invitations are the outbox of their own mail (mcnet/outbox.py): an invitation made while
# the broker is down, or whose message the broker lost, is mailed by the sweep. `sent_at` is
# when it was last (re)issued: a re-sent invitation waits for its new message first.
INVITATION_MAIL = outbox.Outbox(
    name="invitations",
    model=Invitation,
    sent_field="emailed_at",
    created_field="sent_at",
    requeue=_requeue_invitations,
    still_wanted=lambda: Q(state=Invitation.State.PENDING, expires_at__gt=timezone.now()),
)
outbox.register(INVITATION_MAIL)


def _invitation_mail(invitation: Invitation, key: str) -> EmailMessage | str:
    if invitation.key != key:
        return "superseded"
    if invitation.state != Invitation.State.PENDING:
        return "closed"
    network = NetworkSettings.load()
    context = {
        "invitation": invitation,
        "existing_account": User.objects.filter(email=invitation.email).exists(),
        "network": network,
        "url": settings.MCNET_BASE_URL.rstrip("/") + invitation.get_accept_url(),
    }
    return EmailMessage(
        subject=render_to_string("facilities/email/invitation_subject.txt", context).strip(),
        body=render_to_string("facilities/email/invitation_body.txt", context),
        to=[invitation.email],
    )


# The database restarted: again after 2, 4, 8, 16, 30 s (mcnet/outbox.py), then the sweep.
@shared_task(**outbox.MAIL_TASK_OPTIONS)
def send_invitation_email(invitation_id: int, key: str) -> str:
    """Send the invitation's link once per key (mcnet/outbox.py): a re-sent invitation has a
    new key, and the message for an older key (still queued) is dropped rather than sending a
    dead link."""
    return outbox.send_once(
        INVITATION_MAIL,
        invitation_id,
        lambda invitation: _invitation_mail(invitation, key),
        load=lambda pk: (
            Invitation.objects.select_related("facility", "created_by").filter(pk=pk).first()
        ),
    )
