"""Redis and PostgreSQL of the fault tests' own, on free loopback ports in temporary directories.

The machine's PostgreSQL (5432) and Redis (6379) are shared by every test run and every other
user of the machine: a fault test never stops, freezes or flushes them. It starts its own
servers here, points gunicorn and a Celery worker at them, and faults those. Every server is
stopped (and thawed first, if frozen) when its context exits, whatever the test asserted.

Also used by bench/faults.py (`make faults`).
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("MCNET_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll until `predicate()` is truthy; the seconds it took. RuntimeError after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    raise RuntimeError(f"{what} did not happen within {timeout} s")


class OwnRedis:
    """redis-server on 127.0.0.1:<free port>. `persistent`: an append-only file in its own
    directory, so a restart keeps the data (as the compose file's broker does)."""

    def __init__(self, *, persistent: bool = False):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mcnet-redis-"))
        self.persistent = persistent
        self.process: subprocess.Popen | None = None
        self.frozen = False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "OwnRedis":
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
                "--appendfsync",
                "always",
                "--maxmemory",
                "256mb",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 20, f"redis-server on {self.port} to answer")
        return self

    def cli(self, *args: str, timeout: float = 5) -> str:
        done = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout.strip()

    def answers(self) -> bool:
        try:
            return self.cli("ping", timeout=2) == "PONG"
        except subprocess.TimeoutExpired:
            return False

    def stop(self, *, keep_data: bool = True) -> None:
        """Stop the server. keep_data=False also deletes its files (a restart starts empty),
        as when a server without persistence crashes."""
        self.thaw()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if not keep_data:
            for child in self.dir.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()

    def restart(self, *, keep_data: bool = True) -> float:
        """Stop and start again; the seconds it was away."""
        started = time.monotonic()
        self.stop(keep_data=keep_data)
        self.start()
        return time.monotonic() - started

    def flushall(self) -> None:
        self.cli("flushall")

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections; nothing is ever answered."""
        self.process.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        self.frozen = False

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def _as_postgres_user() -> list[str]:
    """initdb and the server refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class OwnPostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory, trust on loopback)."""

    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mcnet-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*_as_postgres_user(), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            cwd=self.root,
        )

    def _ctl(self, *args: str, timeout: float = 120) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            *args,
            timeout=timeout,
        )

    def start(self) -> "OwnPostgres":
        if not self.data.exists():
            self._run(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        self._ctl("start")
        return self

    def answers(self) -> bool:
        done = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def restart(self, mode: str = "fast") -> float:
        """pg_ctl restart -m fast|immediate (every connection cut); seconds until it answers."""
        started = time.monotonic()
        self._ctl("restart", "-m", mode)
        wait_until(self.answers, 60, "PostgreSQL to answer after the restart")
        return time.monotonic() - started

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass  # not running

    def copy_database(self, source_url: str, name: str) -> str:
        """A database here with the schema and rows of `source_url` (pg_dump | psql)."""
        subprocess.run(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
        )
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            capture_output=True,
            check=True,
        )
        subprocess.run(
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
            input=dump.stdout,
            capture_output=True,
            check=True,
        )
        return self.url(name)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


@contextmanager
def frozen(redis: OwnRedis):
    """Redis hung (SIGSTOP) inside the block; thawed after it, whatever happened."""
    redis.freeze()
    try:
        yield
    finally:
        redis.thaw()


class Beat:
    """celery beat with its schedule file in a temporary directory, as the compose file runs it
    (there on a volume)."""

    def __init__(self, env: dict, log: Path):
        self.env = {**os.environ, **env}
        self.log_path = log
        self.dir = Path(tempfile.mkdtemp(prefix="mcnet-beat-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> "Beat":
        import sys

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mcnet",
                "beat",
                "--schedule",
                str(self.dir / "celerybeat-schedule"),
                "-l",
                "info",
            ],
            cwd=Path(__file__).resolve().parents[2],
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
