"""gunicorn and locust on loopback, shared by `make bench` and tests/load.

Both run as child processes: locust monkey-patches the standard library with gevent, which
must never happen inside the portal's own process.
"""

import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """The portal under gunicorn on 127.0.0.1:<port>, as docker-compose runs it."""

    def __init__(
        self, env: dict, *, workers: int = 3, port: int | None = None, log: Path | None = None
    ):
        self.env = {**os.environ, **env}
        self.workers = workers
        self.port = port or free_port()
        self.log_path = log or Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/accounts/login/", timeout: float = 60) -> "Gunicorn":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "mcnet.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as response:  # noqa: S310
                    if response.status < 500:
                        return self
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout} s: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@dataclass
class LoadResult:
    requests: int
    failures: int
    rps: float
    median_ms: float
    p95_ms: float
    seconds: float
    errors: str = ""

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def run_locust(
    host: str,
    paths: list[str],
    *,
    sessions: list[str] = (),
    path_mode: str = "cycle",
    users: int = 10,
    seconds: int = 10,
    expect_status: int = 200,
    timeout: float | None = None,
) -> LoadResult:
    """locust headless on loopback: `users` closed-loop users request `paths` in turn for
    `seconds`; each user holds its own session cookie from `sessions` (if any) and walks
    `paths` as `path_mode` says (bench/locustfile.py)."""
    with tempfile.TemporaryDirectory(prefix="locust-") as tmp:
        prefix = Path(tmp) / "run"
        env = {
            **os.environ,
            "BENCH_PATHS": ",".join(paths),
            "BENCH_PATH_MODE": path_mode,
            "BENCH_SESSIONS": ",".join(sessions),
            "BENCH_EXPECT_STATUS": str(expect_status),
        }
        started = time.monotonic()
        completed = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--host",
                host,
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{seconds}s",
                "--stop-timeout",
                "5",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--exit-code-on-error",
                "0",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout or seconds + 60,
            check=False,
        )
        elapsed = time.monotonic() - started
        stats_file = prefix.with_name("run_stats.csv")
        if completed.returncode != 0 or not stats_file.exists():
            raise RuntimeError(
                f"locust failed ({completed.returncode}): {completed.stderr[-3000:]}"
            )
        with stats_file.open() as f:
            rows = {row["Name"]: row for row in csv.DictReader(f)}
        total = rows["Aggregated"]
        failures_file = prefix.with_name("run_failures.csv")
        errors = failures_file.read_text()[:2000] if failures_file.exists() else ""
        return LoadResult(
            requests=int(total["Request Count"]),
            failures=int(total["Failure Count"]),
            rps=float(total["Requests/s"]),
            median_ms=float(total["Median Response Time"] or 0),
            p95_ms=float(total["95%"] if total.get("95%") not in (None, "N/A") else 0),
            seconds=round(elapsed, 1),
            errors=errors if int(total["Failure Count"]) else "",
        )
