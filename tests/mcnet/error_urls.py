"""The portal's URLs plus three views that fail, for the error pages' tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from mcnet.urls import handler400, handler403, handler404, handler500, urlpatterns


def _refused(request):
    raise PermissionDenied


def _bad(request):
    raise SuspiciousOperation("bad")


def _broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("__test__/refused/", _refused),
    path("__test__/bad/", _bad),
    path("__test__/broken/", _broken),
    *urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
