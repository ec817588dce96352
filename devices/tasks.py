"""Periodic jobs of the devices app (beat: mcnet/settings/base.py). They only call services;
each run is safe to repeat: notify's dedupe keys send nothing twice."""

from mcnet.jobs import job_task

from . import services


@job_task
def remind_overdue_takeouts() -> int:
    """Art. 12 (9): take-outs past their period without a return → requester and MCS admins."""
    return services.takeouts_remind_overdue()


@job_task
def remind_overdue_device_checks() -> int:
    """Art. 12: device checklists not confirmed within the network's interval → MCS admins."""
    return services.device_checks_remind_overdue()


@job_task
def remind_leak_deadlines() -> int:
    """個人情報保護法 §26, 規則8条: 速報 and 確報 deadlines coming → MCS admins, once each."""
    return services.leak_deadlines_remind()
