"""The production Celery settings hold together (mcnet/settings/base.py, which production
imports unchanged): no message is handed out twice while its task still runs, nothing waits
on a hung Redis, and beat's jobs survive a restart."""

import datetime as dt

import pytest
from celery.schedules import crontab

from mcnet.settings import base

# A redeploy restarts beat; an interval schedule restarts from zero with it. Only sweeps this
# short may be intervals (a restart delays them by one interval at most); the rest are crontab.
LONGEST_INTERVAL = dt.timedelta(minutes=10)
DAILY_JOBS = {
    "groups.tasks.erase_expired_personal_data",  # 別紙6: retention
    "mcnet.printing.tasks.purge_old_documents",
    "enrollment.tasks.purge_unconfirmed_applications",
    "mcnet.reminders.tasks.send_reminders",
    "groups.tasks.send_group_reminders",
    "groups.tasks.send_attestation_reminders",  # MCS has no API: attestations
    "devices.tasks.remind_overdue_takeouts",
    "devices.tasks.remind_overdue_device_checks",
}


@pytest.fixture(scope="module")
def tasks():
    from mcnet.celery import app

    app.loader.import_default_modules()  # every app's tasks.py
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_the_visibility_timeout_outlasts_every_tasks_hard_limit(tasks):
    """A message unacknowledged for longer than the visibility timeout is handed to another
    worker: a task still running then would run twice at once."""
    visibility = base.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert len(tasks) > 10
    for name, task in tasks.items():
        limit = task.time_limit or base.CELERY_TASK_TIME_LIMIT
        assert limit, f"{name} has no hard time limit"
        assert limit < visibility, f"{name}: time limit {limit} s >= visibility {visibility} s"


def test_the_broker_and_the_cache_bound_reading_not_only_connecting():
    options = base.CELERY_BROKER_TRANSPORT_OPTIONS
    assert 0 < options["socket_timeout"] <= 1.0
    assert 0 < options["socket_connect_timeout"] <= 1.0
    assert options["max_retries"] == 0  # a publisher does not retry for seconds on end
    assert base.CELERY_BROKER_CONNECTION_TIMEOUT <= 3
    assert base.CELERY_RESULT_BACKEND is None  # no second Redis client to bound
    from mcnet.cache import ResilientRedisCache

    cache = ResilientRedisCache("redis://127.0.0.1:1/0", {})
    assert 0 < cache._options["socket_timeout"] <= 0.5
    assert 0 < cache._options["socket_connect_timeout"] <= 0.5


def test_every_periodic_job_survives_a_restart_of_beat(tasks):
    schedule = base.CELERY_BEAT_SCHEDULE
    scheduled = {entry["task"] for entry in schedule.values()}
    assert DAILY_JOBS <= scheduled
    for key, entry in schedule.items():
        assert entry["task"] in tasks, f"{key}: {entry['task']} is not a task"
        when = entry["schedule"]
        if entry["task"] in DAILY_JOBS:
            assert isinstance(when, crontab), f"{key} must run at fixed times (crontab)"
        if isinstance(when, crontab):
            continue
        seconds = when.total_seconds() if isinstance(when, dt.timedelta) else float(when)
        assert seconds <= LONGEST_INTERVAL.total_seconds(), (
            f"{key}: an interval of {seconds} s restarts from zero with beat; use a crontab"
        )


def test_the_daily_jobs_run_at_night_or_in_the_morning_in_japan():
    assert base.CELERY_TIMEZONE == "Asia/Tokyo"
    erase = base.CELERY_BEAT_SCHEDULE["groups-erase-expired-personal-data"]["schedule"]
    assert erase.hour == {2} and erase.minute == {30}


def test_the_document_sweep_runs_often_enough_to_recover_within_a_minute():
    from mcnet.printing import services

    sweep = base.CELERY_BEAT_SCHEDULE["documents-requeue-stalled"]["schedule"]
    lapse = services.CLAIM_LAPSES_AFTER.total_seconds()
    assert services.HEARTBEAT * 3 <= lapse  # three missed beats before a claim lapses
    assert float(sweep) + lapse <= 40  # cut off → queued again, leaving time to render


# Names a message already queued, or beat's saved schedule, may carry: they outlive a
# release, so a task of the apps inside mcnet/ (printing, dashboard), now found by autodiscovery as
# apps of their own, keeps the name it had when mcnet/tasks.py imported it; so does the
# reminders' task, now in groups.tasks.
QUEUED_NAMES = {
    "mcnet.printing.tasks.render_document",
    "mcnet.printing.tasks.requeue_stalled_documents",
    "mcnet.printing.tasks.purge_old_documents",
    "mcnet.dashboard.tasks.refresh_dashboard_figures",
    "mcnet.reminders.tasks.send_reminders",
    "mcnet.tasks.deliver_notification_emails",
    "mcnet.tasks.redeliver_unsent_mail",
    "mcnet.tasks.redeliver_unsent_notifications",
    "mcnet.tasks.seal_access_log",
}


def test_every_scheduled_and_routed_task_name_is_registered(tasks):
    scheduled = {entry["task"] for entry in base.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(tasks), sorted(scheduled - set(tasks))
    assert QUEUED_NAMES <= set(tasks), sorted(QUEUED_NAMES - set(tasks))
    # Every route's pattern sends at least one registered task to its queue (the PDFs' queue
    # has its own worker: a renamed render task would wait on the default queue).
    from fnmatch import fnmatch

    for pattern, route in base.CELERY_TASK_ROUTES.items():
        matched = [name for name in tasks if fnmatch(name, pattern)]
        assert matched, f"route {pattern} -> {route} matches no task"
    assert fnmatch("mcnet.printing.tasks.render_document", "*.render_*")


def test_the_apps_inside_mcnet_are_installed_apps_of_their_own():
    from django.apps import apps

    for label, name in [
        ("printing", "mcnet.printing"),
        ("dashboard", "mcnet.dashboard"),
        ("auditlog", "mcnet.auditlog"),
    ]:
        assert apps.get_app_config(label).name == name
    # Their tasks come from autodiscovery, not from imports at the end of mcnet/tasks.py.
    source = (base.BASE_DIR / "mcnet" / "tasks.py").read_text()
    assert "noqa: E402" not in source
