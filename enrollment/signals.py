"""When an invitation this app sent is accepted, finish what the paper asked (services)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from facilities.models import Invitation
from facilities.signals import staff_changed

from . import services
from .services import invitation_accepted


@receiver(post_save, sender=Invitation, dispatch_uid="enrollment.invitation_accepted")
def on_invitation_saved(sender, instance, created, update_fields=None, **kwargs):
    if instance.state != Invitation.State.ACCEPTED or instance.accepted_user_id is None:
        return
    if update_fields is not None and "state" not in update_fields:
        return
    invitation_accepted(invitation=instance)


@receiver(staff_changed, dispatch_uid="enrollment.staff_changed")
def on_staff_changed(
    sender,
    *,
    facility,
    user,
    change,
    actor,
    invitation=None,
    via_notice=False,
    reason="",
    roles=(),
    **kw,
):
    # 第4条2: a change made in the portal becomes a line of the facility's 別紙4; one the center
    # carries out from a confirmed 別紙4 already is one.
    if via_notice:
        return None
    return services.notice_line_record(
        actor=actor,
        facility=facility,
        user=user,
        change=change,
        invitation=invitation,
        reason=reason,
        roles=roles,
    )
