"""Writes of shared pieces."""

from django.utils import timezone

from .models import Notification


def mark_inbox_read(*, user) -> int:
    # Reading one's own inbox is not an audited write: it changes no record of the network.
    marked = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    user.unread_notifications = 0  # the count read with the user for the header is stale
    return marked
