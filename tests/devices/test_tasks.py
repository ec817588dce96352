"""The periodic reminders: overdue take-outs and device checklists; safe to run twice."""

import datetime as dt

import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices import selectors, services, tasks
from devices.models import Device, TakeoutRequest
from mcnet.models import Notification
from tests.worker import wait_for


def _make_overdue(request_obj, days=1):
    today = timezone.localdate()
    TakeoutRequest.objects.filter(pk=request_obj.pk).update(
        period_start=today - dt.timedelta(days=10), period_end=today - dt.timedelta(days=days)
    )


def _overdue_notices(kind="devices.takeout_overdue"):
    return list(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def test_an_overdue_take_out_reminds_the_requester_and_the_administrator_once(
    people, approved, pending
):
    assert tasks.remind_overdue_takeouts() == 0  # the demo's take-out is still within its period
    _make_overdue(approved)
    assert tasks.remind_overdue_takeouts() == 2
    assert sorted(_overdue_notices()) == ["admin@takada.example.jp", "nurse@takada.example.jp"]
    nurse_notice = Notification.objects.get(
        kind="devices.takeout_overdue", recipient=people["user"]
    )
    assert "返却" in nurse_notice.title and nurse_notice.url.endswith(f"/{approved.pk}/")
    assert tasks.remind_overdue_takeouts() == 0  # run again: nothing twice
    assert len(_overdue_notices()) == 2


def test_the_reminder_repeats_the_next_week_until_returned(people, approved):
    _make_overdue(approved)
    services.takeouts_remind_overdue()
    with time_machine.travel(timezone.now() + dt.timedelta(days=7), tick=False):
        assert services.takeouts_remind_overdue() == 2
    services.takeout_mark_returned(actor=people["user"], request_obj=approved)
    with time_machine.travel(timezone.now() + dt.timedelta(days=14), tick=False):
        assert services.takeouts_remind_overdue() == 0


def test_pending_rejected_and_returned_requests_are_not_reminded(people, approved, pending):
    TakeoutRequest.objects.filter(pk=pending.pk).update(
        period_start=timezone.localdate() - dt.timedelta(days=5),
        period_end=timezone.localdate() - dt.timedelta(days=2),
    )
    assert services.takeouts_remind_overdue() == 0


def test_the_sweep_selects_with_a_fixed_number_of_queries(
    django_assert_num_queries, people, takada, approved
):
    for i in range(5):
        extra = services.takeout_file(
            actor=people["user"],
            facility=takada,
            kind="takeout",
            information=f"記録{i}",
            medium="タブレット",
            purpose="訪問",
            period_start=timezone.localdate(),
            period_end=timezone.localdate(),
        )
        services.takeout_decide(actor=people["mcs_admin"], request_obj=extra, approve=True)
        _make_overdue(extra)
    today = timezone.localdate()
    with django_assert_num_queries(2):
        overdue = list(selectors.overdue_takeouts(today))
        managers = selectors.device_managers_by_facility({r.facility_id for r in overdue})
        [r.requester.email for r in overdue]
    assert len(overdue) == 5 and [u.email for u in managers[takada.pk]] == [
        "admin@takada.example.jp"
    ]


def test_overdue_checklists_remind_the_administrator_once_a_week(people, takada):
    assert tasks.remind_overdue_device_checks() == 1  # the demo's office PC
    [notice] = Notification.objects.filter(kind="devices.check_overdue")
    assert notice.recipient == people["mcs_admin"]
    assert "1 台" in notice.title and "overdue=1" in notice.url
    assert tasks.remind_overdue_device_checks() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=7), tick=False):
        assert services.device_checks_remind_overdue() == 1
    # Once confirmed, nothing more.
    pc = Device.objects.get(facility=takada, label="事務所PC-01")
    services.device_checklist_confirm(
        actor=people["mcs_admin"], device=pc, items=[n for n, _l in Device.CHECKLIST]
    )
    with time_machine.travel(timezone.now() + dt.timedelta(days=14), tick=False):
        assert services.device_checks_remind_overdue() == 0


def test_the_jobs_are_scheduled_by_beat():
    tasks_by_entry = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "devices.tasks.remind_overdue_takeouts",
        "devices.tasks.remind_overdue_device_checks",
    } <= tasks_by_entry
    assert tasks.remind_overdue_takeouts.name == "devices.tasks.remind_overdue_takeouts"
    assert tasks.remind_overdue_device_checks.name == "devices.tasks.remind_overdue_device_checks"


def test_a_real_worker_runs_the_sweep(celery_worker, people, approved):
    _make_overdue(approved)
    with transaction.atomic():
        transaction.on_commit(lambda: tasks.remind_overdue_takeouts.delay())
    wait_for(
        lambda: Notification.objects.filter(
            kind="devices.takeout_overdue", recipient=people["user"]
        ).exists(),
        timeout=60,
        what=f"the worker to send the reminder\n{celery_worker.log()}",
    )
