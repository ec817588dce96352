"""Whole pages cached per user, for the pages people open many times a day (home, the group
list, a group's page).

A cached page is keyed by the user's page generation (mcnet.models.PageGeneration), which
database triggers bump in the same transaction as any change of what the page shows
(groups/migrations/0009_page_generation_triggers.py; for home also
mcnet/dashboard/migrations/0003_home_page_triggers.py), and by everything else it depends on:
the address, the language, the local date, the network's settings, the header's unread
count, center staff or not, the code and templates deployed. The generation is read with the
signed-in user in the request's first query, so a hit costs no query of its own.

What differs per request is never cached: the CSRF token and each form's one-time token
(mcnet/submissions.py) are put back fresh on every answer; a page with a message to show or a
form kept over a timeout is rendered anew. A view whose page changes with time marks until
when it holds (`holds_until`). Only the rendering is cached: the view's decorators (sign-in,
permission) run on every request before this one.
"""

import datetime as dt
import functools
import hashlib
import os
import re
import time

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import get_language

from .models import NetworkSettings
from .submissions import FIELD, new_token

PREFIX = "page:"
# A user's repeated views within a working session; the generation, not the time, keeps it
# fresh.
TTL_SECONDS = 10 * 60
CSRF_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
SUBMISSION_FIELD = re.compile(r'(name="' + re.escape(FIELD) + r'" value=")[^"]*(")')
CSRF_HOLE = "\x00csrf\x00"
SUBMISSION_HOLE = "\x00submission\x00"
_SOURCES = (".py", ".html", ".txt", ".mo")
_SKIP_DIRS = {".git", ".venv", "var", "tests", "node_modules", "__pycache__", "bench"}


def enabled() -> bool:
    # The generation triggers exist on PostgreSQL only (the demo's SQLite renders every time).
    return getattr(settings, "MCNET_PAGE_CACHE", True) and connection.vendor == "postgresql"


@functools.cache
def code_version() -> str:
    """A digest of the portal's code, templates and translations as deployed: a new release
    renders its pages anew (the cache outlives a restart)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(settings.BASE_DIR):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(_SOURCES):
                path = os.path.join(root, name)
                stat = os.stat(path)
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _network_version() -> str:
    network = NetworkSettings.load()
    values = [getattr(network, f.attname) for f in network._meta.concrete_fields]
    return hashlib.sha256(repr(values).encode()).hexdigest()


def _key(request) -> str:
    user = request.user
    material = (
        code_version(),
        user.pk,
        user.date_joined.isoformat(),  # a user id reused after a restore is someone else
        getattr(user, "page_generation", None) or 0,
        user.is_center_staff,
        getattr(user, "unread_notifications", None),
        request.get_full_path(),
        get_language(),
        timezone.localdate().isoformat(),
        _network_version(),
    )
    return PREFIX + hashlib.sha256(repr(material).encode()).hexdigest()


def _cacheable(request) -> bool:
    return (
        request.method == "GET"
        and enabled()
        and request.user.is_authenticated
        and hasattr(request.user, "page_generation")  # read by signed_in_user
        and getattr(request, "kept_form", None) is None
        and not len(get_messages(request))  # counting does not mark them shown
    )


def holds_until(request, moment: dt.datetime) -> None:
    """The page being rendered changes by itself at `moment` (a deadline passes)."""
    current = getattr(request, "page_holds_until", None)
    request.page_holds_until = moment if current is None else min(current, moment)


def _fill(html: str, request) -> str:
    csrf = get_token(request)
    html = html.replace(CSRF_HOLE, csrf)
    while SUBMISSION_HOLE in html:
        html = html.replace(SUBMISSION_HOLE, new_token(), 1)
    return html


def cached_page(view):
    """Serve the view's page from the user's cache while nothing it shows has changed."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        return render_cached(request, lambda: view(request, *args, **kwargs))

    return wrapper


def render_cached(request, render):
    """`render()`'s page, or its cached copy for this user while nothing it shows has changed.
    For a view that decides and records on every request itself (a group's page: permission
    and access log) and caches only the rendering."""
    if not _cacheable(request):
        return render()
    key = _key(request)
    entry = cache.get(key)
    if entry is not None and entry[1] > time.time():
        response = HttpResponse(_fill(entry[0], request), content_type=entry[2])
        response["X-Page-Cache"] = "hit"
        return response
    response = render()
    if (
        response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
    ):
        html = response.content.decode(response.charset)
        html = CSRF_FIELD.sub(lambda m: m[1] + CSRF_HOLE + m[2], html)
        html = SUBMISSION_FIELD.sub(lambda m: m[1] + SUBMISSION_HOLE + m[2], html)
        until = getattr(request, "page_holds_until", None)
        expires = time.time() + TTL_SECONDS
        if until is not None:
            expires = min(expires, until.timestamp())
        cache.set(key, (html, expires, response["Content-Type"]), TTL_SECONDS)
    return response
