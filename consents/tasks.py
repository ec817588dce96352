"""Celery tasks of the consents app (beat). They only call services; each is safe to repeat."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def remind_overdue_patient_requests() -> int:
    """別紙6 ご本人の照会: open requests past their due date remind their custodians, once
    per request and due date."""
    return services.patient_requests_remind_overdue()
