"""The portal's URLs plus the minimal view the throughput ratio is taken against."""

from django.http import HttpResponse
from django.urls import path

from mcnet.urls import urlpatterns as portal_urlpatterns


def minimal(request):
    """The least a Django view can do: through the same middleware, no query, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal", minimal, name="bench_minimal"), *portal_urlpatterns]
