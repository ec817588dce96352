"""Beat computes the dashboard's figures ahead of the clerks, so no view waits for them; a view
that still finds none computes them once, under a lock, while the others wait briefly or show
the last figures: a page never waits on the figures. Without the cache:
tests/load/test_cache_unreachable.py."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mcnet.dashboard import selectors, tasks
from tests import factories as f

from .test_queries import WARM_BUDGET

URL = reverse("dashboard:index")
LOCK = selectors.FIGURES_LOCK_KEY.format(language="ja")


@pytest.fixture
def settled(center_client):
    """The session's first request settles MFA and the caches; the figures are forgotten."""
    center_client.get(URL)
    selectors.forget_figures()
    return center_client


def computing_forbidden():
    """The view must not compute the figures itself."""
    return mock.patch.object(
        selectors,
        "unlabelled_dashboard",
        side_effect=AssertionError("the view computed the figures"),
    )


def test_the_task_computes_every_language_and_the_next_view_only_reads_them(settled):
    f.row_facility(kind="pharmacy")
    assert tasks.refresh_dashboard_figures() == [code for code, _name in settings.LANGUAGES]
    with (
        computing_forbidden(),
        CaptureQueriesContext(connection) as queries,
    ):
        response = settled.get(URL)
    assert response.status_code == 200 and len(queries) <= WARM_BUDGET
    assert response.context["d"].facilities.total == 1
    with computing_forbidden():
        english = settled.get(URL, HTTP_ACCEPT_LANGUAGE="en").context["d"]
    # Each language its own entry: the tables' labels were translated when computed.
    labels = {row.value: row.label for row in english.facilities.rows}
    assert labels["pharmacy"] == "Pharmacy"
    assert "薬局" in response.content.decode()


def test_the_task_is_scheduled_by_beat_more_often_than_the_figures_go_stale():
    [entry] = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "mcnet.dashboard.tasks.refresh_dashboard_figures"
    ]
    assert tasks.refresh_dashboard_figures.name == entry["task"]
    assert entry["schedule"] == selectors.FIGURES_EVERY < selectors.FIGURES_FRESH
    assert entry["options"]["expires"] <= entry["schedule"]  # a late run is not queued twice
    assert selectors.FIGURES_FRESH < selectors.FIGURES_KEEP


def test_a_run_repeated_or_overlapping_a_view_is_harmless(settled):
    tasks.refresh_dashboard_figures()
    assert tasks.refresh_dashboard_figures() == ["ja", "en"]
    cache.add(LOCK, True)  # a view is computing the Japanese figures at this moment
    assert tasks.refresh_dashboard_figures() == ["en"]  # left to it, not computed twice


def test_a_miss_computes_the_figures_once_for_every_language(settled):
    f.row_facility(kind="pharmacy")
    response = settled.get(URL)  # a miss: this view computes them
    assert "薬局" in response.content.decode()
    with computing_forbidden():
        english = settled.get(URL, HTTP_ACCEPT_LANGUAGE="en").context["d"]
    assert english.now == response.context["d"].now
    assert {row.value: row.label for row in english.facilities.rows}["pharmacy"] == "Pharmacy"
    assert not any(cache.get(selectors.FIGURES_LOCK_KEY.format(language=c)) for c in ("ja", "en"))


def test_a_miss_leaves_a_language_another_process_is_computing_to_it(settled):
    english_lock = selectors.FIGURES_LOCK_KEY.format(language="en")
    cache.add(english_lock, True)
    selectors.store_figures("ja")
    assert cache.get(selectors.FIGURES_KEY.format(language="en")) is None
    assert cache.get(english_lock)  # still the other process's


def test_a_miss_while_another_computes_waits_for_its_figures(settled):
    figures = selectors.store_figures("ja")  # what the other process is about to store …
    selectors.forget_figures()
    assert cache.add(LOCK, True)  # … while holding the lock

    def other_process_finishes(_seconds):
        cache.set(selectors.FIGURES_KEY.format(language="ja"), figures, selectors.FIGURES_KEEP)
        cache.delete(LOCK)

    with (
        computing_forbidden(),
        mock.patch.object(selectors.time, "sleep", side_effect=other_process_finishes) as sleep,
    ):
        response = settled.get(URL)
    assert response.status_code == 200
    assert response.context["d"].now == figures.now  # its figures, none computed here
    assert sleep.call_count == 1


def test_a_miss_whose_figures_never_come_computes_them_itself(settled, monkeypatch):
    """The one holding the lock died: after FIGURES_WAIT the page still has its figures."""
    monkeypatch.setattr(selectors, "FIGURES_WAIT", 0)
    cache.add(LOCK, True)
    response = settled.get(URL)
    assert response.status_code == 200
    assert "集計時刻" in response.content.decode()


def test_stale_figures_are_computed_again_by_one_view_the_others_show_them(settled):
    computed = timezone.now().replace(microsecond=0)
    with time_machine.travel(computed, tick=False):
        tasks.refresh_dashboard_figures()
    f.row_facility()
    later = computed + dt.timedelta(seconds=selectors.FIGURES_FRESH - 60)
    with time_machine.travel(later, tick=False):  # one run of beat late: still shown
        assert settled.get(URL).context["d"].now == computed
    stale = computed + dt.timedelta(seconds=selectors.FIGURES_FRESH + 60)  # beat stopped
    with time_machine.travel(stale, tick=False):
        cache.add(LOCK, True)  # another view is computing them: the last figures meanwhile
        with computing_forbidden():
            d = settled.get(URL).context["d"]
        assert d.now == computed and d.facilities.total == 0
        cache.delete(LOCK)
        d = settled.get(URL).context["d"]  # this view computes them
        assert d.now == stale and d.facilities.total == 1
        assert settled.get(URL).context["d"].now == stale  # and keeps them for the next
