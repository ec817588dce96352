"""Authentication backends: Django's and allauth's, loading the signed-in user once per
request together with what every page's header asks of them (facilities.selectors)."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend

from .selectors import signed_in_user


class _SignedInUser:
    def get_user(self, user_id):
        user = signed_in_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(_SignedInUser, ModelBackend):
    pass


class PortalAllauthBackend(_SignedInUser, AllauthBackend):
    pass
