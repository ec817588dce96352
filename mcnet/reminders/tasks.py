"""The reminders as one Celery task (beat); it only calls jobs.send_reminders."""

from celery import shared_task

from . import jobs


@shared_task(acks_late=True, time_limit=900, soft_time_limit=840)
def send_reminders() -> dict:
    return jobs.send_reminders()
