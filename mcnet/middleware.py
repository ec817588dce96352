"""Request-wide rules: where a request came from (for the audit trail), idle logout (art. 11),
MFA for administrators (national guideline), and the content security policy."""

import ipaddress
import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import render
from django.urls import Resolver404, resolve

from .audit import current_ip
from .models import NetworkSettings, request_memo


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address the request came from: the audit trail's IP, login throttling, the public
    form's rate limit all read this, nothing else.

    Each of our MCNET_TRUSTED_PROXIES proxies appends the address it was connected from to
    X-Forwarded-For, so the client is the entry that many places from the RIGHT. Entries left
    of it were written by the client and are never trusted. With no trusted proxy (the
    default), or a request that did not pass through all of them, the connecting address.
    """
    remote = _ip(request.META.get("REMOTE_ADDR"))
    trusted = settings.MCNET_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted:
        return remote
    return _ip(hops[-trusted]) or remote


class RequestBodyLimitMiddleware:
    """A body larger than its view takes is refused (413) before a byte of it is read.

    Django reads an upload to the end (to memory or a temporary file) before a form can check
    its size; a 200 MB "photo" would be written to disk in full first. The limit is the view's
    own (mcnet.uploads.request_body_limit) or settings.MCNET_MAX_REQUEST_BYTES. Placed after
    the session, auth and message middleware (the answer is a normal page) and before anything
    reads request.POST.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then either
        if length > 0:
            limit = self._limit(request)
            if length > limit:
                return self._too_large(request, limit)
        return self.get_response(request)

    @staticmethod
    def _limit(request) -> int:
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            view = None
        return getattr(view, "max_request_bytes", None) or settings.MCNET_MAX_REQUEST_BYTES

    @staticmethod
    def _too_large(request, limit: int):
        return render(
            request, "413.html", {"limit_mb": max(1, round(limit / 1024 / 1024))}, status=413
        )


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        memo_token = request_memo.set({})
        try:
            return self.get_response(request)
        finally:
            request_memo.reset(memo_token)
            current_ip.reset(token)


class IdleTimeoutMiddleware:
    """Art. 11 (4)(5): a session left idle ends by itself after the network's timeout.

    The expiry moves on with activity, but the session is written at most once a minute
    (REFRESH_SECONDS), not on every request: it may end up to a minute early, never late.
    """

    REFRESH_SECONDS = 60
    SESSION_KEY = "_mcnet_idle_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            minutes = NetworkSettings.load().idle_timeout_minutes
            session = request.session
            refreshed = session.get(self.SESSION_KEY)
            if refreshed is not None and now - refreshed > minutes * 60:
                # The session store's own expiry ends it too; this holds whatever the store
                # (sessions are read from the cache first, whose clock is not ours to trust).
                logout(request)
                return self.get_response(request)
            if (
                now - session.get(self.SESSION_KEY, 0) >= self.REFRESH_SECONDS
                or session.get("_session_expiry") != minutes * 60
            ):
                self.refresh(request, minutes=minutes, now=now)
        return self.get_response(request)

    @classmethod
    def refresh(cls, request, *, minutes: int | None = None, now: int | None = None) -> None:
        """Start the idle clock again (any request does, at most once a minute; the idle
        warning's 「ログインを続ける」 does at once)."""
        minutes = minutes or NetworkSettings.load().idle_timeout_minutes
        request.session.set_expiry(minutes * 60)
        request.session[cls.SESSION_KEY] = now or int(time.time())


class ContentSecurityPolicyMiddleware:
    """Nothing is loaded from another site; no inline scripts."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'self'; object-src 'none'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
