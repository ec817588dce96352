"""Reads of shared pieces, scoped to the asking user."""

from django.http import Http404

from .models import Notification


def first_or_404(queryset):
    """The first row of a queryset already scoped to the asker, or Http404: a `<noun>_for(user,
    pk)` answers "not found" alike when the row does not exist and when it is not theirs, so
    another facility learns nothing, not even that the id exists."""
    found = queryset.first()
    if found is None:
        raise Http404
    return found


def inbox_for(user):
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_linking_to(user, path: str) -> Notification | None:
    """The newest of this user's own notifications that links to `path` (a stale link)."""
    return Notification.objects.filter(recipient=user, url=path).order_by("-pk").first()
