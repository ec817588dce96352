"""When an invitation this app sent is accepted, finish what the paper asked (services)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from facilities.models import Invitation


@receiver(post_save, sender=Invitation, dispatch_uid="enrollment.invitation_accepted")
def on_invitation_saved(sender, instance, created, update_fields=None, **kwargs):
    if instance.state != Invitation.State.ACCEPTED or instance.accepted_user_id is None:
        return
    if update_fields is not None and "state" not in update_fields:
        return
    from .services import invitation_accepted

    invitation_accepted(invitation=instance)
