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
    return {"inbox_unread": lambda: unread_count(user)}
