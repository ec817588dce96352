"""Request-wide rules: where a request came from (for the audit trail), idle logout (art. 11),
MFA for administrators (national guideline), and the content security policy."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from .audit import current_ip
from .models import NetworkSettings, request_memo


def client_ip(request) -> str | None:
    # Behind the production proxy the client is the first X-Forwarded-For hop.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded and getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


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
                session.set_expiry(minutes * 60)
                session[self.SESSION_KEY] = now
        return self.get_response(request)


class RequireMFAMiddleware:
    """Center staff and MCS administrators set up a second factor before anything else."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MCNET_REQUIRE_MFA and self._must_set_up(request):
            return redirect(reverse("mfa_index") + "?required=1")
        return self.get_response(request)

    def _must_set_up(self, request) -> bool:
        from allauth.mfa.models import Authenticator

        from facilities.selectors import user_requires_mfa
        from facilities.signals import MFA_SESSION_KEY

        user = request.user
        if not user.is_authenticated or request.path.startswith(self.ALLOWED_PREFIXES):
            return False
        if request.session.get(MFA_SESSION_KEY) == user.pk:
            return False
        if not user_requires_mfa(user):
            return False
        has_factor = (
            Authenticator.objects.filter(user=user)
            .exclude(type=Authenticator.Type.RECOVERY_CODES)
            .exists()
        )
        if has_factor:
            request.session[MFA_SESSION_KEY] = user.pk
        return not has_factor


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
