"""A page's one write, the same way on every page: the view binds its form and names the
service call; these run it and answer with a success message and a redirect, or show the
service's refusal where the user reads it (docs/architecture.md: thin views)."""

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect

from .forms import add_refusal

# What a write answers with: a response, or a function of what the service returned.
Then = HttpResponse | Callable[[Any], HttpResponse]
# The success message: text, or a function of what the service returned.
Success = str | Callable[[Any], str]


def _of(value, result):
    return value(result) if callable(value) else value


def form_action(
    request,
    form,
    act: Callable[[dict], Any],
    *,
    success: Success,
    then: Then,
    refusal_field: str | Mapping[str, str] | None = None,
    denied: Callable[[PermissionDenied], HttpResponse] | None = None,
) -> HttpResponse | None:
    """A POSTed valid form runs `act(cleaned_data)` (one service call), says `success` and
    answers `then`. A ValidationError from the service goes back onto the form: on the field
    its reason names, else on `refusal_field` (or the whole form; a mapping picks the field
    by the refusal's code). None: show the form (again).

    `denied` answers the service's PermissionDenied (the devices' 403 page that says why);
    without it the refusal reaches Django's 403 handler."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = act(form.cleaned_data)
    except PermissionDenied as exc:
        if denied is None:
            raise
        return denied(exc)
    except ValidationError as exc:
        if isinstance(refusal_field, Mapping):
            add_refusal(form, exc, refusal_field.get(getattr(exc, "code", None)))
        else:
            add_refusal(form, exc, refusal_field)
        return None
    messages.success(request, _of(success, result))
    return _of(then, result)


def post_action(request, act: Callable[[], Any], *, success: Success, then: HttpResponse):
    """A button with nothing to fill in (cancel, submit, resend): run `act()`; a refusal is
    one error message, a success its message, and either way the user goes back to `then`."""
    try:
        result = act()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _of(success, result))
    return then


def detail_or_list(visible: QuerySet, pk: int, detail: str, fallback: str) -> HttpResponse:
    """After a write that may end the user's access (a handover, a consent entered in error):
    the object's page while the user still sees it, else the list."""
    if visible.filter(pk=pk).exists():
        return redirect(detail, pk=pk)
    return redirect(fallback)
