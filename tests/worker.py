"""A real Celery worker against the real broker (Redis) and the test database (PostgreSQL).

Tests that use `celery_worker` need `transactional_db`: the worker is another process and
sees only committed rows. SQLite's in-memory test database cannot be shared, so those tests
are skipped without DATABASE_URL (CI always sets it).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    def __init__(self, mail_dir: Path, queues: str = "celery,pdf", env: dict | None = None):
        self.mail_dir = mail_dir
        self.queues = queues
        # Overrides (tests/load/test_faults.py: the test's own Redis and PostgreSQL).
        self.overrides = env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = mail_dir.parent / "worker.log"

    def env(self) -> dict:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            **self.overrides,
        }

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mcnet",
                "worker",
                "-Q",
                self.queues,
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--prefetch-multiplier",
                "1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: the worker dies without acknowledging (acks_late) what it was doing."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what=""):
    """Poll `predicate` until it is truthy; fail with `what` (a text, or a function giving
    the state to report) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    what = what() if callable(what) else what
    pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a shared database: set DATABASE_URL (CI does)")
    from mcnet.celery import app

    app.control.purge()  # messages left by earlier tests point at rows that no longer exist
    worker = WorkerProcess(tmp_path / "mail")
    worker.mail_dir.mkdir()
    worker.start()
    yield worker
    worker.stop()
