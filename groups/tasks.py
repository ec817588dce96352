"""Periodic jobs of the groups app. Tasks only call services; each run is safe to repeat."""

from consents import services as consent_services
from mcnet.jobs import job_task

from . import jobs, services


@job_task(time_limit=600, soft_time_limit=540)
def erase_expired_personal_data() -> dict:
    """別紙5 (3), 別紙6: personal data whose purpose ended — groups archived and consents ended
    past the retention period, patients never consented past the grace period — and the
    registrars' reminders before the latter. Works in batches until nothing is left; a second
    run finds nothing and tells no one again."""
    total = dict.fromkeys(services.ERASURE_COUNTS, 0)
    for erase in (services.retention_erase_expired, consent_services.unconsented_erase_expired):
        while True:
            done = erase()
            for key, value in done.items():
                total[key] = total.get(key, 0) + value
            if not done["patients"]:
                break
    total["reminders"] = consent_services.unconsented_erasure_remind()
    return total


@job_task
def send_group_reminders() -> dict:
    """Overdue supporter reviews (留意事項 1) and groups waiting for the archive (留意事項 2)."""
    return services.reminders_send()


# Named as when it lived in mcnet/reminders: beat's saved schedule and queued messages use it.
@job_task(name="mcnet.reminders.tasks.send_reminders", time_limit=900, soft_time_limit=840)
def send_reminders() -> dict:
    """Reviews coming due (留意事項 1), pledges and education (第7条), invitations about to
    lapse (第6条(4), 留意事項 4), dormant accounts (第6条(3)): groups.jobs.send_reminders."""
    return jobs.send_reminders()


@job_task
def expire_invitations() -> int:
    return services.invitations_expire()


@job_task
def send_attestation_reminders() -> dict:
    """Overdue attestations that MCS matches the portal (staff, group members)."""
    return services.attestation_reminders_send()
