"""Reads of shared pieces, scoped to the asking user."""

from .models import Notification


def inbox_for(user):
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_linking_to(user, path: str) -> Notification | None:
    """The newest of this user's own notifications that links to `path` (a stale link)."""
    return Notification.objects.filter(recipient=user, url=path).order_by("-pk").first()
