"""Reads of shared pieces, scoped to the asking user."""

from .models import Notification


def inbox_for(user):
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
