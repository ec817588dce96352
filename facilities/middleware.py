"""Facilities' part of every request: administrators set up their second factor first."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .selectors import user_requires_mfa
from .signals import MFA_SESSION_KEY


class RequireMFAMiddleware:
    """Administrators (center staff, MCS administrators, facility managers) set up a second
    factor before anything else (selectors.user_requires_mfa)."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MCNET_REQUIRE_MFA and self._must_set_up(request):
            return redirect(reverse("mfa_index") + "?required=1")
        return self.get_response(request)

    def _must_set_up(self, request) -> bool:
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
