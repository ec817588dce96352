"""Logins, failed logins and MFA changes are part of the access log (national guideline)."""

from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from mcnet.audit import audit_record
from mcnet.text import normalize_email

MFA_SESSION_KEY = "mcnet_mfa_ok"


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="auth.login", target=user)


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user)


@receiver(user_login_failed)
def record_login_failed(sender, credentials, request=None, **kwargs):
    attempted = normalize_email(str(credentials.get("email") or credentials.get("username") or ""))
    audit_record(
        actor=None,
        action="auth.login_failed",
        object_type="facilities.user",
        changes={"login": attempted[:254]},
    )


@receiver(authenticator_added)
def record_mfa_added(sender, request, user, authenticator, **kwargs):
    audit_record(
        actor=user, action="auth.mfa_added", target=user, changes={"type": authenticator.type}
    )


@receiver(authenticator_removed)
def record_mfa_removed(sender, request, user, authenticator, **kwargs):
    # The middleware must check again whether this user still has a second factor.
    request.session.pop(MFA_SESSION_KEY, None)
    audit_record(
        actor=user, action="auth.mfa_removed", target=user, changes={"type": authenticator.type}
    )


@receiver(post_migrate)
def sync_center_staff_permissions(sender, **kwargs):
    # After each app's permissions are created, so apps later in the list are included too.
    from .services import center_staff_group

    center_staff_group()
