"""Celery tasks of the consents app (beat). They only call services; each is safe to repeat."""

from mcnet.jobs import job_task

from . import services


@job_task
def remind_overdue_patient_requests() -> int:
    """別紙6 ご本人の照会: open requests past their due date remind their custodians, once
    per request and due date."""
    return services.patient_requests_remind_overdue()
