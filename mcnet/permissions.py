"""Permission checks shared by every app."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def is_center_staff(user) -> bool:
    """Signed in as one of the center's staff (上越地域在宅医療推進センター)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_center_staff)


def center_staff_required(view):
    """The center's pages (上越地域在宅医療推進センター): signed in, and one of its staff."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_center_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
