from django.conf import settings

from .models import NetworkSettings
from .selectors import unread_count


def network(request):
    """The network's name and the center's contact, for every page's header and footer; and
    MCS's own address (its passwords are changed there, not here: 第12条(11))."""
    return {"network": NetworkSettings.load(), "mcs_url": settings.MCNET_MCS_URL}


def inbox(request):
    """The unread count in the header; computed only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Read with the user (facilities.selectors.signed_in_user) when the session loaded them.
    unread = getattr(user, "unread_notifications", None)
    if unread is not None:
        return {"inbox_unread": unread}
    return {"inbox_unread": lambda: unread_count(user)}


def idle_timeout(request):
    """The idle warning's clock (mcnet/static/mcnet/idle.js) and a form kept over a timeout
    (mcnet/keptforms.py), for the base layout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "idle_timeout_seconds": NetworkSettings.load().idle_timeout_minutes * 60,
        "kept_form": getattr(request, "kept_form", None),
    }
