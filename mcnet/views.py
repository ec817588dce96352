from importlib import import_module

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from facilities.selectors import roles_of

from .health import broker_status
from .selectors import inbox_for
from .services import mark_inbox_read

# Apps that put a section on the home page: `<app>.selectors.home_section(user)` returns the
# section's context (or None to show nothing) and `<app>/_home.html` renders it.
HOME_SECTION_APPS = ("groups", "consents", "facilities", "devices", "enrollment")


@login_required
def home(request):
    """What this user can do, by the roles they hold (each card links to where they do it)."""
    sections = []
    for app in HOME_SECTION_APPS:
        home_section = getattr(import_module(f"{app}.selectors"), "home_section", None)
        context = home_section(request.user) if home_section else None
        if context:
            sections.append({"template": f"{app}/_home.html", **context})
    # The roles with their facilities' names, read only for users who hold one.
    roles = list(roles_of(request.user)) if request.user.role_rows else []
    return render(request, "home.html", {"roles": roles, "sections": sections})


@login_required
def email_is_the_mcs_id(request):
    """Users do not add or change their address themselves: it is their MCS ID (別紙3, 別紙4)."""
    return render(request, "account/email.html")


@never_cache
@require_GET
def healthz(request):
    """Database and broker status for the load balancer and docker compose: 200 or 503."""
    checks = {"database": _database_status(), "broker": broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


@login_required
def inbox(request):
    """The user's notifications, newest first; opening the inbox marks them read."""
    notifications = list(inbox_for(request.user)[:100])
    mark_inbox_read(user=request.user)
    return render(request, "inbox.html", {"notifications": notifications})
