"""Periodic jobs of the groups app. Tasks only call services; each run is safe to repeat."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def erase_expired_personal_data() -> dict:
    """別紙5 (3), 別紙6: personal data of patients archived past the retention period.
    Works in batches until nothing is left; a second run finds nothing."""
    total = {"patients": 0, "groups": 0, "consents": 0, "notifications": 0}
    while True:
        done = services.retention_erase_expired()
        for key, value in done.items():
            total[key] += value
        if not done["patients"]:
            return total


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def send_group_reminders() -> dict:
    """Overdue supporter reviews (留意事項 1) and groups waiting for the archive (留意事項 2)."""
    return services.reminders_send()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def expire_invitations() -> int:
    return services.invitations_expire()
