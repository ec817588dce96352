"""`make run`'s path, on the embedded SQLite database whatever DATABASE_URL the suite uses:
migrate, load the demo twice (nothing changes), serve the login page, sign in and show a
signed-in page (the per-request user query is SQL of its own, so it runs here on SQLite too)."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_runs_on_sqlite_from_scratch(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mcnet.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }
    env.pop("REDIS_URL", None)
    port = _free_port()
    env["MCNET_BASE_URL"] = f"http://127.0.0.1:{port}"  # as `make run PORT=...` sets it

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput")
    first = manage("load_demo")
    assert "mcnet-demo-2026" in first and "center@example.jp" in first
    # A short summary, not the demo's mails (which printed ~25 encoded messages before).
    assert "Subject:" not in first and "Content-Type" not in first
    assert len(first.splitlines()) < 30
    assert re.search(r"送信したメール [1-9][0-9]* 通", first)
    assert f"http://127.0.0.1:{port}/enrollment/apply/" in first
    assert f"http://127.0.0.1:{port}/center/" in first
    counts = manage("shell", "-c", _COUNTS)
    manage("load_demo")
    assert manage("shell", "-c", _COUNTS) == counts  # idempotent

    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as page:
                    assert page.status == 200
                    assert "ログイン" in page.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        groups = _signed_in_page(port, "nurse@takada.example.jp", "/groups/")
        assert "山田太郎さんのグループ" in groups and "未読" in groups  # the header's unread count
    finally:
        server.terminate()
        server.wait(timeout=10)


def _signed_in_page(port: int, email: str, path: str) -> str:
    """Sign in through the login form as a browser would (cookies, CSRF), then GET `path`."""
    from mcnet.demo import DEMO_PASSWORD

    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    data = {"csrfmiddlewaretoken": token, "login": email, "password": DEMO_PASSWORD}
    request = urllib.request.Request(  # noqa: S310 (http on loopback)
        f"{base}/accounts/login/",
        data=urllib.parse.urlencode(data).encode(),
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert opener.open(request).status == 200  # followed the redirect to the home page
    page = opener.open(base + path)
    assert page.status == 200 and page.url == base + path
    return page.read().decode()


_COUNTS = """
from django.apps import apps
print(sorted((m._meta.label, m.objects.count()) for m in apps.get_models()
             if m._meta.app_label in {"facilities", "consents", "groups", "devices", "enrollment", "mcnet"}))
"""


def test_make_run_serves_and_links_to_the_port_asked_for():
    """`make run PORT=8100`: served there, and the demo's mail links point there too."""
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8100"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert any(line.endswith("runserver 127.0.0.1:8100") for line in lines)
    load = next(line for line in lines if "load_demo" in line)
    assert "MCNET_BASE_URL=http://127.0.0.1:8100" in load
    default = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert "runserver 127.0.0.1:8000" in default.stdout
