"""Stopping and restarting this machine's PostgreSQL and Redis for the fault tests (issue 9).

Every stop is undone in a `finally`: whatever the test asserts, the service is running again
when the context exits, and the context waits until it answers. The fault tests share the
machine's services with every other test run, so they refuse to run (skip) while another
pytest process is alive, unless MCNET_FAULTS_FORCE=1.
"""

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, connections

REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
]


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return pids


def other_test_runs() -> list[str]:
    """Command lines of pytest processes that are not this one or its parents."""
    found = subprocess.run(["pgrep", "-fa", "pytest"], capture_output=True, text=True, check=False)
    mine = _ancestors()
    others = []
    for line in found.stdout.splitlines():
        pid, _, command = line.partition(" ")
        if pid.isdigit() and int(pid) not in mine and "pgrep" not in command:
            others.append(command)
    return others


def require_quiet_machine() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("fault tests need PostgreSQL and Redis: set DATABASE_URL (CI does)")
    if os.environ.get("MCNET_FAULTS_FORCE") == "1":
        return
    others = other_test_runs()
    if others:
        pytest.skip(
            "another test run shares this machine's PostgreSQL/Redis; not stopping them "
            f"(MCNET_FAULTS_FORCE=1 to insist): {others[0][:120]}"
        )


def redis_answers() -> bool:
    done = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() == "PONG"


def postgres_answers() -> bool:
    done = subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], capture_output=True, check=False
    )
    return done.returncode == 0


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come back within {timeout} s")


def redis_start() -> None:
    if not redis_answers():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    _wait(redis_answers, 30, "Redis")


@contextmanager
def redis_stopped():
    """Redis is down inside the block (it keeps nothing on disk: queued messages are lost,
    as in a real crash of a non-persistent broker); up again after it, whatever happened."""
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"],
        capture_output=True,
        check=False,
    )
    try:
        _wait(lambda: not redis_answers(), 10, "Redis shutdown")
        yield
    finally:
        redis_start()


def postgres_restart() -> None:
    """Restart the cluster (every connection is cut) and wait until it answers again."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    try:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        if not postgres_answers():
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
                capture_output=True,
                timeout=120,
            )
        _wait(postgres_answers, 60, "PostgreSQL")
        # This process's own connections died with the server: open new ones on next use.
        for conn in connections.all():
            conn.close_if_unusable_or_obsolete()
            try:
                conn.close()
            except Exception:  # noqa: S110 — a dead socket may refuse a clean close
                pass
