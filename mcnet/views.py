import ipaddress
from importlib import import_module

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from facilities.selectors import roles_of
from groups.selectors import group_link_gone

from .health import check_all
from .middleware import IdleTimeoutMiddleware
from .pagecache import holds_until, render_cached
from .selectors import inbox_for, notification_linking_to
from .services import inbox_mark_read

# Apps that put a section on the home page: `<app>.selectors.home_section(user)` returns the
# section's context (or None to show nothing) and `<app>/_home.html` renders it.
HOME_SECTION_APPS = ("groups", "consents", "facilities", "devices", "enrollment")


@login_required
def home(request):
    """What this user can do, by the roles they hold (each card links to where they do it).
    Kept rendered per user (mcnet.pagecache) while nothing it shows has changed: the
    triggers of groups migration 0009 and mcnet.dashboard migration 0003 bump the user's
    page generation with every change of it (docs/architecture.md, "Cached pages")."""
    return render_cached(request, lambda: _home_page(request))


def _home_page(request):
    sections = []
    for app in HOME_SECTION_APPS:
        home_section = getattr(import_module(f"{app}.selectors"), "home_section", None)
        context = home_section(request.user) if home_section else None
        # A section that changes by itself with time says when (a deadline passes).
        changes_at = context.pop("changes_at", None) if context else None
        if changes_at is not None:
            holds_until(request, changes_at)
        if context:
            sections.append({"template": f"{app}/_home.html", **context})
    # The roles with their facilities' names, read only for users who hold one.
    roles = list(roles_of(request.user)) if request.user.role_rows else []
    return render(request, "home.html", {"roles": roles, "sections": sections})


# The guides of mcnet templates/help/, in the order shown when the user holds none of the
# roles; the user's own come first (help_index).
HELP_GUIDES = ("center", "facility_manager", "mcs_admin", "group_manager", "staff")


def _own_guides(user) -> list[str]:
    own = ["center"] if user.is_center_staff else []
    own += [
        role for role in ("facility_manager", "mcs_admin", "group_manager") if user.holds_role(role)
    ]
    # Everyone signed in is a staff member who uses MCS (第7条, 第11条).
    return [*own, "staff"]


@login_required
@require_GET
def help_index(request):
    """A short guide per role, the user's own first, and the center's contact."""
    own = _own_guides(request.user)
    others = [guide for guide in HELP_GUIDES if guide not in own]
    return render(
        request,
        "help/index.html",
        {
            "own_guides": [f"help/_guide_{guide}.html" for guide in own],
            "other_guides": [f"help/_guide_{guide}.html" for guide in others],
        },
    )


@require_GET
def help_glossary(request):
    """The words of the rules and of MCS; open to everyone, as the sign-in and the
    application pages use them too (別紙1–7)."""
    return render(request, "help/glossary.html")


@login_required
def email_is_the_mcs_id(request):
    """Users do not add or change their address themselves: it is their MCS ID (別紙3, 別紙4)."""
    return render(request, "account/email.html")


@never_cache
@require_GET
def healthz(request):
    """Readiness for a load balancer or an operator: 200 when the database, the broker and the
    cache answer, 503 ("degraded") otherwise, always within 2 s (mcnet/health.py).

    Strangers learn only the status; which service is down is for the center's staff and for
    callers on this machine (docker's healthcheck, an operator's curl), never an exception.
    """
    checks = check_all()
    healthy = all(value == "ok" for value in checks.values())
    answer = {"status": "ok" if healthy else "degraded"}
    if _may_see_health_details(request):
        answer.update(checks)
    return JsonResponse(answer, status=200 if healthy else 503)


@never_cache
@require_GET
def livez(request):
    """Liveness: this process answers. Asks no dependency, so a Redis or database outage does
    not get healthy web processes restarted (that would not bring the dependency back)."""
    return JsonResponse({"status": "ok"})


def _may_see_health_details(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_center_staff", False):
        return True
    # Connected from this machine and not relayed by a proxy (a proxy on loopback adds
    # X-Forwarded-For; what it relays comes from strangers).
    try:
        loopback = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
    return loopback and not (
        request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("HTTP_FORWARDED")
    )


@login_required
def inbox(request):
    """The user's notifications, newest first; opening the inbox marks them read."""
    notifications = list(inbox_for(request.user)[:100])
    inbox_mark_read(user=request.user)
    return render(request, "inbox.html", {"notifications": notifications})


@login_required
@require_POST
def session_keepalive(request):
    """The idle warning's 「ログインを続ける」 (art. 11 (4)(5)): the idle clock starts again. From
    the page's script, no content; without script, back to the page."""
    IdleTimeoutMiddleware.refresh(request)
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    # A path of this site only, never a view name or another host.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, {request.get_host()}, request.is_secure()
    ):
        back = reverse("home")
    return HttpResponseRedirect(back)


# --- error pages: Japanese, in the base layout, with a way back (handler400/403/404/500) ------


def _stale_link(request) -> dict | None:
    """A page this user was sent a link to (a notification), gone since: what happened."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return None
    notification = notification_linking_to(user, request.path)
    if notification is None:
        return None
    stale = {"notification": notification}
    try:
        match = resolve(request.path)
    except Resolver404:
        return stale
    if match.namespace == "groups" and "pk" in match.kwargs:
        stale["group"] = group_link_gone(user, match.kwargs["pk"], match.url_name)
    return stale


def bad_request(request, exception):
    return render(request, "400.html", status=400)


def permission_denied(request, exception):
    return render(request, "403.html", {"stale": _stale_link(request)}, status=403)


def page_not_found(request, exception):
    return render(request, "404.html", {"stale": _stale_link(request)}, status=404)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    # The error page must not fail in turn: with the database or the cache away, the context
    # processors (menu, network settings) cannot run, so it is drawn without them.
    try:
        return render(request, "500.html", status=500)
    except Exception:
        return HttpResponse(loader.get_template("500.html").render({}), status=500)
