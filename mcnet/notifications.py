"""Telling people: an in-portal inbox row per recipient, and an e-mail sent by a Celery task.

Each notification records why it was sent (`reason`), so a user can see why they were told,
and an optional `dedupe_key` so a periodic job run twice sends nothing twice.
"""

from django.db import IntegrityError, transaction

from .jobs import enqueue_on_commit
from .models import Notification


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
    from .tasks import deliver_notification_email

    created = []
    for user in {r.pk: r for r in recipients if r is not None and r.is_active}.values():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=user,
                    kind=kind,
                    title=str(title)[:200],
                    body=str(body),
                    url=url,
                    reason=str(reason),
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:  # already sent under this dedupe key
            continue
        created.append(notification)
        enqueue_on_commit(deliver_notification_email, notification.pk)
    return created
