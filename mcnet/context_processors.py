from .models import NetworkSettings
from .selectors import unread_count


def network(request):
    """The network's name and the center's contact, for every page's header and footer."""
    return {"network": NetworkSettings.load()}


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
