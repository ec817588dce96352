from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from facilities.selectors import roles_of

from .health import broker_status


@login_required
def home(request):
    """What this user can do, by the roles they hold (each card links to where they do it)."""
    return render(request, "home.html", {"roles": list(roles_of(request.user))})


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
