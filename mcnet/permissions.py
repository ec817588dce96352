"""Permission checks shared by every app."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def center_staff_required(view):
    """The center's pages (上越地域在宅医療推進センター): signed in, and one of its staff."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_center_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
