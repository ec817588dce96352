"""The production shape an operator runs (docker-compose.yml, Dockerfile, gunicorn.conf.py).

PyYAML is not a dependency, so the compose file is read as text, one service's block at a time
(its lines indented under `  <name>:`); anchors are followed by name (`<<: *app`).
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = (ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _block(text: str, key: str, indent: int) -> str:
    """The lines under `<indent spaces><key>:` that are indented deeper (comments kept out)."""
    lines = text.splitlines()
    head = re.compile(rf"^ {{{indent}}}{re.escape(key)}:(\s|$)")
    for number, line in enumerate(lines):
        if head.match(line):
            body = [line]
            for following in lines[number + 1 :]:
                stripped = following.strip()
                if stripped and not stripped.startswith("#"):
                    if len(following) - len(following.lstrip()) <= indent:
                        break
                if not stripped.startswith("#"):
                    body.append(following)
            return "\n".join(body)
    raise AssertionError(f"no {key!r} at indent {indent}")


def service(name: str) -> str:
    return _block(_block(COMPOSE, "services", 0), name, 2)


SERVICES = re.findall(r"^  ([a-z][a-z0-9_-]*):\s*$", _block(COMPOSE, "services", 0), re.M)
APP = _block(COMPOSE, "x-app", 0)


def _inherits_app(text: str) -> bool:
    return "<<: *app" in text


def _seconds(value: str) -> int:
    total = 0
    for number, unit in re.findall(r"(\d+)([hms])", value):
        total += int(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def _longest_task_limit() -> int:
    from mcnet.celery import app
    from mcnet.settings import base

    app.loader.import_default_modules()
    return max(
        task.time_limit or base.CELERY_TASK_TIME_LIMIT
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    )


def test_every_service_is_there():
    assert {"migrate", "web", "worker", "beat", "db", "broker", "cache"} <= set(SERVICES)


def test_images_are_pinned_to_exact_versions():
    images = re.findall(r"^\s+image:\s*(\S+)", COMPOSE, re.M)
    external = [image for image in images if not image.startswith("mcnet-portal:")]
    assert external
    for image in external:
        assert re.fullmatch(r"(postgres:16\.\d+|redis:7\.\d+\.\d+)(-[a-z]+)?", image), image
    base_image = re.search(r"^FROM\s+(\S+)", DOCKERFILE, re.M).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base_image), base_image
    # Dependencies from the hashed lock file, never from ranges.
    assert "--require-hashes" in DOCKERFILE and "requirements.lock" in DOCKERFILE


def test_broker_and_cache_are_separate_redis_servers_with_their_own_limits():
    env = _block(COMPOSE, "x-app-env", 0)
    broker_host = re.search(r"CELERY_BROKER_URL:\s*redis://([^:/]+)", env).group(1)
    cache_host = re.search(r"REDIS_URL:\s*redis://([^:/]+)", env).group(1)
    assert broker_host != cache_host
    broker, cache = service(broker_host), service(cache_host)
    # The broker: a memory ceiling, and full means "refuse", never "drop a queued task".
    assert re.search(r'"--maxmemory",\s*"\d+[mg]b"', broker)
    assert re.search(r'"--maxmemory-policy",\s*"noeviction"', broker)
    assert re.search(r'"--appendonly",\s*"yes"', broker)
    assert re.search(r'"--maxmemory",\s*"\d+[mg]b"', cache)
    assert re.search(r'"--maxmemory-policy",\s*"allkeys-lru"', cache)


def test_memory_limits_and_log_rotation_everywhere():
    logging = _block(COMPOSE, "x-logging", 0)
    assert "driver: json-file" in logging
    assert re.search(r'max-size:\s*"\d+m"', logging) and re.search(r'max-file:\s*"\d+"', logging)
    assert "logging: *logging" in APP
    for name in SERVICES:
        text = service(name)
        assert re.search(r"^\s+mem_limit:\s*\d+[mg]\s*$", text, re.M), f"{name}: no mem_limit"
        assert "logging: *logging" in text or _inherits_app(text), f"{name}: logs not rotated"


def test_the_workers_stop_grace_outlasts_every_task():
    grace = re.search(r"stop_grace_period:\s*(\S+)", service("worker")).group(1)
    assert _seconds(grace) > _longest_task_limit()


def test_healthchecks_mean_something():
    # web: liveness only, so an outage of Redis or the database does not mark web unhealthy.
    assert "/healthz/live" in service("web")
    # worker: the age of a file it touches, never a whole Celery process per check.
    worker = service("worker")
    check = re.search(r"healthcheck:\s*\n\s*(?:#.*\n\s*)*test:\s*(.+)", worker).group(1)
    assert "celery" not in check and "inspect" not in check
    heartbeat = re.search(r"MCNET_WORKER_HEARTBEAT_FILE:\s*(\S+)", worker).group(1)
    assert heartbeat in check and "-mmin" in check
    for name in ("db", "broker", "cache", "beat"):
        assert "healthcheck:" in service(name), name


def test_beat_keeps_its_schedule_on_a_volume():
    beat = service("beat")
    schedule = re.search(r'"--schedule=([^"]+)"', beat).group(1)
    directory = str(Path(schedule).parent)
    mount = re.search(rf"^\s+- (\w+):{re.escape(directory)}\s*$", beat, re.M)
    assert mount, f"{directory} is not on a volume"
    assert re.search(rf"^  {mount.group(1)}:\s*$", _block(COMPOSE, "volumes", 0), re.M)
    assert not schedule.startswith("/tmp")
    # The image creates it owned by the app user, so an empty volume starts writable.
    assert re.search(rf"mkdir -p [^\n]*{re.escape(directory)}", DOCKERFILE)
    assert re.search(rf"chown mcnet:mcnet [^\n]*{re.escape(directory)}", DOCKERFILE)


def test_production_logs_weasyprint_at_warning_only():
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.LOGGING['loggers']))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mcnet.settings.production",
        "SECRET_KEY": "x" * 60,
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loggers = __import__("json").loads(done.stdout)
    assert loggers["weasyprint"]["level"] == "WARNING"
    assert loggers["fontTools"]["level"] == "WARNING"


def test_gunicorn_sends_no_server_header(tmp_path):
    """A real gunicorn on loopback, started as compose starts it (gunicorn.conf.py is read from
    the working directory): no `Server` header on a page, a redirect or gunicorn's own 400."""
    from bench.loadrun import free_port

    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "unused.sqlite3"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mcnet.wsgi:application", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz/live"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    headers = response.headers
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail((tmp_path / "gunicorn.log").read_text()[-2000:])
                time.sleep(0.2)
        assert headers["Server"] is None, headers["Server"]
        assert headers["Date"]  # the other default headers are still sent
        import socket

        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
            raw = sock.recv(4096).decode("latin-1")
        assert raw.startswith("HTTP/1.1 200")
        assert "server:" not in raw.lower()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"BROKEN\r\n\r\n")  # gunicorn's own error page
            raw = sock.recv(4096).decode("latin-1")
        assert raw.startswith("HTTP/1.1 400") and "server:" not in raw.lower()
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_the_worker_touches_its_heartbeat_file_while_it_runs(tmp_path):
    """What the compose healthcheck reads: the file appears when the worker is up, is touched
    again and again from its event loop, and goes when it stops."""
    import shutil

    from tests.load.services import OwnRedis

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    heartbeat = tmp_path / "worker-heartbeat"
    with OwnRedis() as redis:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "CELERY_BROKER_URL": redis.url(0),
            "MCNET_WORKER_HEARTBEAT_FILE": str(heartbeat),
            "MCNET_WORKER_HEARTBEAT_SECONDS": "0.5",
        }
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mcnet",
                "worker",
                "-Q",
                "heartbeat-test",
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 90
            while not heartbeat.exists():
                assert time.monotonic() < deadline and worker.poll() is None, "no heartbeat"
                time.sleep(0.2)
            first = heartbeat.stat().st_mtime_ns
            deadline = time.monotonic() + 10
            while heartbeat.stat().st_mtime_ns == first:
                assert time.monotonic() < deadline, "the heartbeat was not touched again"
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        assert not heartbeat.exists()
