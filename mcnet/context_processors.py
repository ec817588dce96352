from .models import NetworkSettings


def network(request):
    """The network's name and the center's contact, for every page's header and footer."""
    return {"network": NetworkSettings.load()}
