"""Logins, failed logins, password and MFA changes are part of the access log (national
guideline)."""

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver

from mcnet.audit import AuditAction, audit_record
from mcnet.text import normalize_email

from .permissions import center_staff_group

MFA_SESSION_KEY = "mcnet_mfa_ok"

# The staff member's last membership ended: they work nowhere in the network any more. Apps
# above facilities end what the person holds there (groups: every membership), inside the
# sender's transaction, each receiver returning how many it ended. Arguments: user, actor,
# reason.
staff_left_network = Signal()

# A change of a facility's staff made in the portal (第4条2, 別紙4): someone joined or left it, or
# became or stopped being its MCS administrator (別紙4's 管理者 column). enrollment records each
# as a line of the facility's change notice, so no change bypasses the center's record, inside
# the sender's transaction. Arguments: facility, user, change (STAFF_CHANGES), actor, invitation
# (the accepted one, or None), via_notice (True when the change carries out a 別紙4 the center
# confirmed: its line is already there), reason, roles (those held until a removal).
staff_changed = Signal()
STAFF_ADDED, STAFF_REMOVED = "added", "removed"
ADMIN_APPOINTED, ADMIN_RELIEVED = "admin_appointed", "admin_relieved"
STAFF_CHANGES = (STAFF_ADDED, STAFF_REMOVED, ADMIN_APPOINTED, ADMIN_RELIEVED)

# The staff member left one facility (留意事項4, 第12条(10)): apps above end what they held through
# it (devices: BYOD approvals and take-outs, lent devices to return; groups: memberships joined
# through it), inside the sender's transaction. Arguments: user, facility, actor, reason,
# left_network.
staff_left = Signal()


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditAction.AUTH_LOGIN, target=user)


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=AuditAction.AUTH_LOGOUT, target=user)


@receiver(user_login_failed)
def record_login_failed(sender, credentials, request=None, **kwargs):
    attempted = normalize_email(str(credentials.get("email") or credentials.get("username") or ""))
    audit_record(
        actor=None,
        action=AuditAction.AUTH_LOGIN_FAILED,
        object_type="facilities.user",
        changes={"login": attempted[:254]},
    )


@receiver(password_changed)
@receiver(password_set)
@receiver(password_reset)
def record_password_change(sender, request, user, signal, **kwargs):
    # Only the person changes their password (the admin sets none); the trail says how.
    action = {
        password_changed: AuditAction.AUTH_PASSWORD_CHANGED,
        password_set: AuditAction.AUTH_PASSWORD_SET,
        password_reset: AuditAction.AUTH_PASSWORD_RESET,
    }[signal]
    audit_record(actor=user, action=action, target=user)


@receiver(authenticator_added)
def record_mfa_added(sender, request, user, authenticator, **kwargs):
    audit_record(
        actor=user,
        action=AuditAction.AUTH_MFA_ADDED,
        target=user,
        changes={"type": authenticator.type},
    )


@receiver(authenticator_removed)
def record_mfa_removed(sender, request, user, authenticator, **kwargs):
    # The middleware must check again whether this user still has a second factor.
    request.session.pop(MFA_SESSION_KEY, None)
    audit_record(
        actor=user,
        action=AuditAction.AUTH_MFA_REMOVED,
        target=user,
        changes={"type": authenticator.type},
    )


@receiver(post_migrate)
def sync_center_staff_permissions(sender, **kwargs):
    # After each app's permissions are created, so apps later in the list are included too.
    center_staff_group()
