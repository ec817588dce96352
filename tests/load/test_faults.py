"""Faults against the production shape, short forms for CI: gunicorn, a Celery worker and beat
on the test's OWN Redis (and, for the database faults, its own PostgreSQL cluster), never the
machine's (tests/load/services.py). `make faults` (bench/faults.py) runs the long forms.

- a hung Redis (SIGSTOP): /healthz and a PDF request each answer within 2 s; the PDF is made
  once Redis thaws;
- Redis stopped and started without its data: the request is answered, the PDF made after;
- PostgreSQL restarted under load: gunicorn recovers by itself, nothing committed is lost;
- PostgreSQL restarted mid-render: the render is retried and the PDF made;
- the worker SIGKILLed mid-render: the PDF is made within a minute (heartbeat, sweep), not
  after the broker's visibility timeout.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.urls import reverse

from bench.loadrun import Gunicorn, run_locust
from facilities.models import User
from mcnet.demo import load_demo
from tests.worker import WorkerProcess, wait_for

from .conftest import database_url, existing_paths, session_keys
from .services import Beat, OwnPostgres, OwnRedis, frozen

pytestmark = [pytest.mark.faults, pytest.mark.load]
ROOT = Path(__file__).resolve().parents[2]
NURSE = "nurse@takada.example.jp"
# Each answer within this many seconds, whatever Redis does: a hung Redis must not hold a worker.
ANSWER_WITHIN = 2.0


class Stack:
    """gunicorn, a worker and beat against one database and the test's own Redis."""

    def __init__(
        self, tmp: Path, database: str, redis: OwnRedis, web_workers: int = 2, **extra_env
    ):
        self.tmp = tmp
        self.database = database
        self.redis = redis
        self.env = {
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": redis.url(0),
            "REDIS_URL": redis.url(1),
            "MEDIA_ROOT": str(tmp / "media"),
            **extra_env,
        }
        (tmp / "mail").mkdir(exist_ok=True)
        self.web = Gunicorn(self.env, workers=web_workers, log=tmp / "gunicorn.log")
        self.worker = WorkerProcess(tmp / "mail", env=self.env)
        self.beat = Beat(self.env, tmp / "beat.log")

    def start(self) -> "Stack":
        self.web.start()
        self.worker.start()
        self.beat.start()
        return self

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()
        self.web.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.tmp / name).read_text(errors='replace')[-2500:]}"
            for name in ("gunicorn.log", "worker.log", "beat.log")
            if (self.tmp / name).exists()
        )


class Browser:
    """A signed-in user on gunicorn over HTTP (session from the database, CSRF from a page)."""

    def __init__(self, base: str, session_key: str):
        self.base = base
        self.http = requests.Session()
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, session_key)
        self.token = ""

    def get(self, path: str, timeout: float = 10) -> tuple[requests.Response, float]:
        started = time.monotonic()
        response = self.http.get(self.base + path, timeout=timeout, allow_redirects=False)
        return response, time.monotonic() - started

    def fetch_token(self) -> None:
        page, _ = self.get(reverse("printing:index"))
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]

    def post(self, path: str, timeout: float = 10) -> tuple[requests.Response, float]:
        if not self.token:
            self.fetch_token()
        started = time.monotonic()
        response = self.http.post(
            self.base + path,
            data={"csrfmiddlewaretoken": self.token},
            timeout=timeout,
            allow_redirects=False,
        )
        return response, time.monotonic() - started


def _document_id(response: requests.Response) -> int:
    assert response.status_code == 302, (response.status_code, response.text[:500])
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _state(database: str, document_id: int) -> str:
    with psycopg.connect(database.replace("postgres://", "postgresql://"), connect_timeout=3) as db:
        row = db.execute("SELECT state FROM mcnet_generateddocument WHERE id = %s", [document_id])
        return row.fetchone()[0]


def _ready(database: str, document_id: int) -> bool:
    try:
        return _state(database, document_id) == "ready"
    except psycopg.OperationalError:
        return False  # the database is restarting


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with OwnRedis() as redis:
        yield redis


@pytest.fixture
def stack_on_test_db(transactional_db, own_redis, tmp_path):
    """The stack on the test database (machine's PostgreSQL, never faulted) and own Redis.
    One gunicorn worker, so the warm-up below reaches the process that is timed: a process's
    first request imports half the portal, which is no fault of Redis."""
    if connection.vendor != "postgresql":
        pytest.skip("gunicorn, the worker and beat need a shared database: set DATABASE_URL")
    load_demo()
    stack = Stack(tmp_path, database_url(), own_redis, web_workers=1).start()
    yield stack
    stack.stop()


def _browser(stack: Stack) -> Browser:
    return Browser(stack.web.url, session_keys(User.objects.get(email=NURSE), 1)[0])


def test_a_hung_redis_answers_healthz_and_a_pdf_request_within_two_seconds(stack_on_test_db):
    stack = stack_on_test_db
    browser = _browser(stack)
    # Warm: pages rendered, a PDF asked for (the broker's connection made) while Redis answers.
    warm, _ = browser.post(reverse("printing:request", args=["besshi7"]))
    assert warm.status_code == 302
    browser.get(warm.headers["Location"])
    with frozen(stack.redis):
        started = time.monotonic()
        health = requests.get(stack.web.url + "/healthz", timeout=10)
        assert time.monotonic() - started < ANSWER_WITHIN, stack.logs()
        assert health.status_code == 503
        assert health.json()["database"] == "ok"
        assert health.json()["broker"] in ("timeout", "down")
        assert health.json()["cache"] in ("timeout", "down")
        assert "Server" not in health.headers

        documents = []
        for code in ("besshi5", "besshi6", "besshi2"):
            response, seconds = browser.post(reverse("printing:request", args=[code]))
            assert seconds < ANSWER_WITHIN, (code, seconds, stack.logs())
            documents.append(_document_id(response))
            page, seconds = browser.get(response.headers["Location"])
            assert seconds < ANSWER_WITHIN and page.status_code == 200
            assert "処理サーバーにつながり次第" in page.text
        # Liveness answers at once: web is alive, its dependency is not.
        assert requests.get(stack.web.url + "/healthz/live", timeout=10).status_code == 200

    # Thawed: beat's sweep queues what was never published; the worker makes each one.
    for document_id in documents:
        wait_for(
            lambda document_id=document_id: _ready(stack.database, document_id),
            timeout=90,
            what=f"document {document_id} after Redis thawed\n{stack.logs()}",
        )
    assert requests.get(stack.web.url + "/healthz", timeout=10).status_code == 200


def test_redis_stopped_and_started_without_its_data_loses_no_pdf(stack_on_test_db):
    stack = stack_on_test_db
    browser = _browser(stack)
    browser.fetch_token()
    stack.redis.stop(keep_data=False)
    try:
        response, seconds = browser.post(reverse("printing:request", args=["besshi5"]))
        assert seconds < ANSWER_WITHIN, stack.logs()
        document_id = _document_id(response)
        status, _ = browser.get(reverse("printing:status", args=[document_id]))
        assert status.json()["waiting_for_worker"] is True
        for path in existing_paths("home", "groups:list", "inbox", "printing:index"):
            page, seconds = browser.get(path)
            assert page.status_code == 200 and seconds < ANSWER_WITHIN, path
    finally:
        stack.redis.start()
    wait_for(
        lambda: _ready(stack.database, document_id),
        timeout=90,
        what=f"the PDF after Redis came back empty\n{stack.logs()}",
    )


def test_a_worker_killed_mid_render_is_resumed_within_a_minute(
    transactional_db, own_redis, tmp_path
):
    """With the production visibility timeout (an hour): the document is made again because
    its claim lapses and beat's sweep queues it, not because the broker hands it back."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    load_demo()
    stack = Stack(tmp_path, database_url(), own_redis, MCNET_RENDER_TEST_DELAY="6").start()
    try:
        browser = _browser(stack)
        response, _ = browser.post(reverse("printing:request", args=["besshi5"]))
        document_id = _document_id(response)
        wait_for(
            lambda: _state(stack.database, document_id) == "rendering",
            timeout=30,
            interval=0.1,
            what=f"the worker to claim the document\n{stack.logs()}",
        )
        stack.worker.kill()
        killed = time.monotonic()
        stack.worker.start()  # as docker's restart policy does
        status, _ = browser.get(reverse("printing:status", args=[document_id]))
        assert status.json()["state"] == "rendering"
        wait_for(
            lambda: (
                browser.get(reverse("printing:status", args=[document_id]))[0].json()["label"]
                == "再開待ち"
            ),
            timeout=30,
            what="the page to say 再開待ち",
        )
        wait_for(
            lambda: _ready(stack.database, document_id),
            timeout=75,
            what=f"the PDF after the worker was killed\n{stack.logs()}",
        )
        assert time.monotonic() - killed < 60
    finally:
        stack.stop()


# --- PostgreSQL of the test's own --------------------------------------------------------------
@pytest.fixture
def own_postgres(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    load_demo()
    cluster = OwnPostgres()
    try:
        cluster.start()
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        cluster.close()
        pytest.skip(f"cannot start a PostgreSQL cluster of our own: {exc}")
    try:
        # The demo network and a row written before any fault, copied into the own cluster.
        yield cluster, cluster.copy_database(database_url(), "portal")
    finally:
        cluster.close()


def _manage_py(database: str, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "DATABASE_URL": database,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]  # after the shell's own notices


def test_postgres_restarted_under_load_recovers_by_itself(own_postgres, own_redis, tmp_path):
    """Load on gunicorn, its PostgreSQL restarted (fast) in the middle: the same gunicorn
    answers again untouched, everything committed before is there, the audit chain intact."""
    cluster, database = own_postgres
    written = _manage_py(
        database,
        "from facilities import services as s; "
        "print(s.user_create(actor=None, email='written-before@example.jp', name='再起動前').pk)",
    )
    # Sessions for the load, written into the own cluster.
    keys = _manage_py(
        database,
        "from django.test import Client; from facilities.models import User; "
        f"u = User.objects.get(email='{NURSE}'); cs = [Client() for _ in range(4)]; "
        "[c.force_login(u) for c in cs]; "
        f"print(','.join(c.cookies['{settings.SESSION_COOKIE_NAME}'].value for c in cs))",
    ).split(",")
    web = Gunicorn(
        {
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": own_redis.url(0),
            "REDIS_URL": own_redis.url(1),
        },
        workers=2,
        log=tmp_path / "gunicorn.log",
    ).start()
    try:
        paths = existing_paths("home", "groups:list", "inbox")
        during = {}
        loader = threading.Thread(
            target=lambda: during.setdefault(
                "result", run_locust(web.url, paths, sessions=keys, users=4, seconds=12)
            )
        )
        loader.start()
        time.sleep(3)
        cluster.restart("fast")
        loader.join(timeout=90)
        assert during["result"].requests > 0
        browser = Browser(web.url, keys[0])
        wait_for(
            lambda: browser.get("/")[0].status_code == 200,
            timeout=30,
            what=f"gunicorn to answer after the restart\n{web.log()[-3000:]}",
        )
        after = run_locust(web.url, paths, sessions=keys, users=4, seconds=4)
        assert after.failures == 0, after.errors
    finally:
        web.stop()
    assert _manage_py(
        database, f"from facilities.models import User; print(User.objects.get(pk={written}).name)"
    ) == ("再起動前")
    assert _manage_py(database, "from mcnet.audit import verify_chain; print(verify_chain())") == (
        "None"
    )


def test_postgres_restarted_mid_render_is_retried(own_postgres, own_redis, tmp_path):
    """The database restarts (immediate: a crash) while the worker renders: the connection
    error is retried with back-off, and the PDF is made."""
    cluster, database = own_postgres
    key = _manage_py(
        database,
        "from django.test import Client; from facilities.models import User; "
        f"c = Client(); c.force_login(User.objects.get(email='{NURSE}')); "
        f"print(c.cookies['{settings.SESSION_COOKIE_NAME}'].value)",
    )
    stack = Stack(tmp_path, database, own_redis, MCNET_RENDER_TEST_DELAY="4").start()
    try:
        browser = Browser(stack.web.url, key)
        response, _ = browser.post(reverse("printing:request", args=["besshi5"]))
        document_id = _document_id(response)
        wait_for(
            lambda: _state(database, document_id) == "rendering",
            timeout=30,
            interval=0.1,
            what=f"the worker to claim the document\n{stack.logs()}",
        )
        cluster.restart("immediate")
        wait_for(
            lambda: _ready(database, document_id),
            timeout=90,
            what=f"the PDF after PostgreSQL restarted mid-render\n{stack.logs()}",
        )
        assert "OperationalError" in stack.worker.log() or "InterfaceError" in stack.worker.log()
    finally:
        stack.stop()
