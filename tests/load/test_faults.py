"""Faults (issue 9): the machine's Redis stopped, PostgreSQL restarted under load.

These stop real services, so they run only against PostgreSQL (skip without DATABASE_URL) and
only when no other test run shares the machine (tests/load/services.py); every stop is undone
in a `finally`. Select them with `-m faults`.

A Celery worker SIGKILLed in the middle of a render (redelivered, completed, nothing sent
twice) is tests/printing/test_worker.py, the printed forms' own test: not repeated here.
"""

import datetime as dt
import threading
import time
import urllib.request

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.loadrun import run_locust
from facilities import services as facility_services
from facilities.models import User
from mcnet.audit import verify_chain
from mcnet.models import AuditEvent
from tests.worker import wait_for

from .conftest import existing_paths, session_keys
from .services import postgres_restart, redis_stopped, require_quiet_machine

pytestmark = [pytest.mark.faults, pytest.mark.load]


@pytest.fixture
def quiet_machine(transactional_db):
    require_quiet_machine()


def _documents_url(name: str, **kwargs) -> str:
    try:
        return reverse(f"documents:{name}", kwargs=kwargs)
    except NoReverseMatch:
        pytest.skip("the printed forms' pages (/documents/) are not there")


def test_redis_stopped_while_a_user_asks_for_a_pdf(quiet_machine, celery_worker, client_as):
    """The request is answered (no 500), the document is shown waiting; once Redis is back the
    sweep queues it and the worker makes it."""
    from mcnet.models import GeneratedDocument
    from mcnet.printing import services as printing_services

    client = client_as("user")
    request_url = _documents_url("request", code="besshi5")
    with redis_stopped():
        started = time.monotonic()
        response = client.post(request_url)
        assert response.status_code == 302, response.status_code
        assert time.monotonic() - started < 15, "the request waited too long for the broker"
        document = GeneratedDocument.objects.get()
        assert document.state == GeneratedDocument.State.QUEUED
        assert document.published_at is None  # the broker never took it

        # The page says it waits, in words and in the JSON the page polls.
        page = client.get(response.headers["Location"])
        assert page.status_code == 200
        status = client.get(_documents_url("status", pk=document.pk)).json()
        assert status["state"] == "queued" and status["waiting_for_worker"] is True
        # The rest of the portal answers too.
        for path in existing_paths("home", "groups:list", "inbox", "documents:index"):
            assert client.get(path).status_code == 200, path

    # Redis is back: the periodic sweep (beat) queues what was never published.
    later = timezone.now() + printing_services.PUBLISH_RETRY_AFTER + dt.timedelta(seconds=1)
    assert printing_services.documents_requeue_stalled(now=later)["unpublished"] == 1
    wait_for(
        lambda: GeneratedDocument.objects.get(pk=document.pk).state == "ready",
        timeout=90,
        what=f"the PDF to be made after Redis came back; worker log:\n{celery_worker.log()}",
    )
    download = client.get(_documents_url("download", pk=document.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def _get(url: str, cookie: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 — loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_postgres_restarted_under_load_recovers_by_itself(quiet_machine, portal_server):
    """Load on gunicorn, PostgreSQL restarted in the middle: the same gunicorn answers again
    without being touched (CONN_HEALTH_CHECKS drops the dead connections), and everything
    committed before the restart is still there, the audit chain intact."""
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    written = facility_services.user_create(
        actor=None, email="written-before-restart@example.jp", name="再起動前"
    )
    events_before = AuditEvent.objects.count()
    user = User.objects.get(email="nurse@takada.example.jp")
    sessions = session_keys(user, 4)
    paths = existing_paths("home", "groups:list", "inbox")

    during = {}

    def load():
        during["result"] = run_locust(
            portal_server.url, paths, sessions=sessions, users=4, seconds=20
        )

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(4)
        postgres_restart()
    finally:
        loader.join(timeout=90)
    assert during["result"].requests > 0

    # Recovered by itself: the next requests succeed on the same gunicorn.
    cookie = f"{settings.SESSION_COOKIE_NAME}={sessions[0]}"
    wait_for(
        lambda: _get(portal_server.url + "/", cookie) == 200,
        timeout=30,
        what=f"the portal to answer after the restart; log:\n{portal_server.log()[-3000:]}",
    )
    after = run_locust(portal_server.url, paths, sessions=sessions, users=4, seconds=5)
    assert after.failures == 0, after.errors
    assert after.requests >= 20

    # Nothing committed before the restart is lost.
    assert User.objects.filter(pk=written.pk, name="再起動前").exists()
    assert AuditEvent.objects.count() >= events_before
    assert verify_chain() is None
