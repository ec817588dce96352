"""Celery tasks of the facilities app. They only read rows and send; safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mcnet.models import NetworkSettings

from .models import Invitation, User


@shared_task(
    acks_late=True, max_retries=5, default_retry_delay=60, time_limit=60, soft_time_limit=50
)
def send_invitation_email(invitation_id: int, key: str) -> str:
    """Send the invitation's link once per key: a re-sent invitation has a new key, and the
    message for an older key (still queued) is dropped rather than sending a dead link."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("facility", "created_by")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.key != key:
            return "superseded"
        if invitation.state != Invitation.State.PENDING:
            return "closed"
        if invitation.emailed_at is not None:
            return "already sent"
        network = NetworkSettings.load()
        context = {
            "invitation": invitation,
            "existing_account": User.objects.filter(email=invitation.email).exists(),
            "network": network,
            "url": settings.MCNET_BASE_URL.rstrip("/") + invitation.get_accept_url(),
        }
        send_mail(
            subject=render_to_string("facilities/email/invitation_subject.txt", context).strip(),
            message=render_to_string("facilities/email/invitation_body.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
        invitation.emailed_at = timezone.now()
        invitation.save(update_fields=["emailed_at"])
    return "sent"
