"""`make faults`: the production shape on loopback, faulted, measured: nothing lost, nothing twice.

Everything here is this script's own: a PostgreSQL cluster (initdb in a temporary directory),
a broker Redis with an append-only file and a cache Redis (as docker-compose.yml), gunicorn
(3 workers), a Celery worker (prefork, 2 processes, queues celery and pdf), beat, and an SMTP
sink that counts what it receives. The machine's own PostgreSQL and Redis are never touched.

Each scenario asks for PDFs through gunicorn (as a signed-in user) and queues mail to every
user (notifications with a link unique per message), injects its fault while both are in
flight, and waits until every document is ready and every message has arrived once. It
prints, per scenario: documents ready per documents asked and the time from the fault to the
last one, mails received per mail expected (and duplicates) and the time to the last one, and
the slowest answer to a request made while faulted.

    python -m bench.faults [--scenarios worker-kill,redis-hung] [--timeout 600]

Renders pause MCNET_RENDER_TEST_DELAY seconds and mails MCNET_MAIL_TEST_DELAY seconds each (the
test settings' knobs), so the faults land mid-render and mid-batch.
"""

import argparse
import email
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from bench.loadrun import Gunicorn
from tests.load.services import Beat, OwnPostgres, OwnRedis

ROOT = Path(__file__).resolve().parents[1]
USER = "nurse@takada.example.jp"
FORMS = ("besshi1", "besshi2", "besshi4", "besshi5", "besshi6", "besshi7")
SCENARIOS = (
    "worker-kill",
    "redis-restart",
    "redis-restart-empty",
    "redis-hung",
    "postgres-restart-fast",
    "postgres-restart-immediate",
)


# --- a mail server that counts ------------------------------------------------------------------
class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for Django's backend (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def links(self, tag: str) -> list[str]:
        """The `faults=<tag>-<n>` link of every message received for this scenario."""
        found = []
        with self.lock:
            messages = list(self.messages)
        for _rcpts, data in messages:
            message = email.message_from_bytes(data)
            body = message.get_payload(decode=True) or b""
            found += re.findall(rf"faults={re.escape(tag)}-\d+-\d+", body.decode(errors="replace"))
        return found

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 faults sink")
        rcpts: list[str] = []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 faults sink")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go on")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with self.server.lock:
                    self.server.messages.append((rcpts, b"".join(data)))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP and anything else
                self.reply("250 OK")


# --- the worker as production runs it -------------------------------------------------------------
class Worker:
    """celery worker, prefork with 2 processes, in its own process group: killed whole."""

    def __init__(self, env: dict, log: Path):
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mcnet",
                "worker",
                "-Q",
                "celery,pdf",
                "--concurrency",
                "2",
                "--prefetch-multiplier",
                "1",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the main process and its pool at once: nothing acknowledged, no clean-up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


# --- one run ----------------------------------------------------------------------------------
@dataclass
class Row:
    scenario: str
    recovery_s: float | None
    mails_expected: int
    mails_received: int
    mails_duplicated: int
    documents_asked: int
    documents_ready: int
    slowest_answer_s: float = 0.0
    documents_s: float | None = None  # fault to the last document ready
    mails_s: float | None = None  # fault to the last mail received
    notes: list[str] = field(default_factory=list)


class Stack:
    def __init__(self, tmp: Path, smtp: SmtpSink, pg: OwnPostgres, broker: OwnRedis, cache):
        self.tmp = tmp
        self.pg = pg
        self.broker = broker
        self.database = pg.url("portal")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "DATABASE_URL": self.database,
            "CELERY_BROKER_URL": broker.url(0),
            "REDIS_URL": cache.url(0),
            "MEDIA_ROOT": str(tmp / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
            "MCNET_RENDER_TEST_DELAY": os.environ.get("MCNET_RENDER_TEST_DELAY", "2"),
            "MCNET_MAIL_TEST_DELAY": os.environ.get("MCNET_MAIL_TEST_DELAY", "0.1"),
        }
        self.web = Gunicorn(self.env, workers=3, log=tmp / "gunicorn.log")
        self.worker = Worker(self.env, tmp / "worker.log")
        self.beat = Beat(self.env, tmp / "beat.log")

    def manage(self, *args: str, code: str | None = None) -> str:
        command = [sys.executable, "manage.py", *args]
        if code is not None:
            command += ["-c", code]
        done = subprocess.run(  # noqa: S603 — our interpreter, our arguments
            command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}: {done.stderr[-3000:]}")
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def prepare(self) -> None:
        psql = self.pg.url("postgres").replace("postgres://", "postgresql://")
        with psycopg.connect(psql, autocommit=True) as db:
            db.execute("CREATE DATABASE portal")
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_demo")

    def start(self) -> None:
        self.web.start()
        self.worker.start()
        self.beat.start()

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()
        self.web.stop()

    def query(self, sql: str, params=()) -> list[tuple]:
        url = self.database.replace("postgres://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3) as db:
            return db.execute(sql, params).fetchall()


class Browser:
    def __init__(self, base: str, session_key: str):
        self.base = base
        self.http = requests.Session()
        self.http.cookies.set("sessionid", session_key)
        page = self.http.get(base + "/documents/", timeout=30)
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]

    def ask(self, code: str) -> tuple[int | None, float]:
        started = time.monotonic()
        try:
            response = self.http.post(
                f"{self.base}/documents/new/{code}/",
                data={"csrfmiddlewaretoken": self.token},
                timeout=30,
                allow_redirects=False,
            )
        except requests.RequestException:
            return None, time.monotonic() - started
        took = time.monotonic() - started
        if response.status_code != 302:
            return None, took
        return int(response.headers["Location"].rstrip("/").split("/")[-1]), took


def _inject(name: str, stack: Stack, row: Row) -> float:
    """Apply the fault; returns the time it began."""
    began = time.monotonic()
    if name == "worker-kill":
        stack.worker.kill()
        stack.worker.start()  # docker's restart policy
    elif name == "redis-restart":
        stack.broker.restart(keep_data=True)
    elif name == "redis-restart-empty":
        stack.broker.restart(keep_data=False)
    elif name == "redis-hung":
        stack.broker.freeze()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    requests.get(stack.web.url + "/healthz", timeout=30)
                except requests.RequestException:
                    row.notes.append("healthz failed")
                row.slowest_answer_s = max(row.slowest_answer_s, time.monotonic() - started)
                time.sleep(1)
        finally:
            stack.broker.thaw()
    elif name == "postgres-restart-fast":
        stack.pg.restart("fast")
    elif name == "postgres-restart-immediate":
        stack.pg.restart("immediate")
    else:
        raise ValueError(name)
    return began


def run_scenario(name: str, stack: Stack, smtp: SmtpSink, session: str, timeout: float) -> Row:
    tag = name
    # Fresh documents each time: the same data asked again would be the finished one.
    stack.manage(
        "shell", code="from mcnet.models import GeneratedDocument as G; G.objects.all().delete()"
    )
    browser = Browser(stack.web.url, session)
    expected = int(
        stack.manage(
            "shell",
            code=(
                "from facilities.models import User; "
                "from mcnet.notifications import Message, send_notifications; "
                "users = list(User.objects.filter(is_active=True).values_list('pk', flat=True)); "
                "sent = send_notifications(Message(recipient_id=u, kind='mcnet.faults', "
                f"title='fault {tag}', url=f'/inbox/?faults={tag}-{{u}}-{{i}}', "
                f"dedupe_key=f'faults:{tag}:{{i}}') for u in users for i in range(10)); "
                "print(sum(sent.values()))"
            ),
        )
    )
    documents = []
    slowest = 0.0
    for code in FORMS:
        document_id, took = browser.ask(code)
        slowest = max(slowest, took)
        if document_id is not None:
            documents.append(document_id)
    row = Row(name, None, expected, 0, 0, len(FORMS), 0, slowest_answer_s=slowest)
    time.sleep(2)  # renders and the mail batch under way
    began = _inject(name, stack, row)
    # A request during the recovery must still be answered quickly.
    document_id, took = browser.ask("besshi3")
    row.slowest_answer_s = max(row.slowest_answer_s, took)
    if document_id is not None:
        documents.append(document_id)
    row.documents_asked += 1
    while time.monotonic() - began < timeout:
        try:
            ready = stack.query(
                "SELECT count(*) FROM mcnet_generateddocument WHERE state = 'ready' AND id = ANY(%s)",
                [documents],
            )[0][0]
        except psycopg.OperationalError:
            ready = row.documents_ready
        links = smtp.links(tag)
        row.documents_ready = ready
        row.mails_received = len(set(links))
        row.mails_duplicated = len(links) - len(set(links))
        if ready == row.documents_asked and row.documents_s is None:
            row.documents_s = round(time.monotonic() - began, 1)
        if row.mails_received >= expected and row.mails_s is None:
            row.mails_s = round(time.monotonic() - began, 1)
        if ready == row.documents_asked and row.mails_received >= expected:
            row.recovery_s = round(time.monotonic() - began, 1)
            break
        time.sleep(0.5)
    return row


def _table(rows: list[Row]) -> str:
    lines = [
        "| fault | documents ready / asked | documents recovered | mails received / expected "
        "(duplicates) | mails recovered | slowest answer |",
        "|---|---|---|---|---|---|",
    ]

    def seconds(value):
        return f"{value} s" if value is not None else "not within the limit"

    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.documents_ready} / {row.documents_asked} "
            f"| {seconds(row.documents_s)} | {row.mails_received} / {row.mails_expected} "
            f"({row.mails_duplicated}) | {seconds(row.mails_s)} | {row.slowest_answer_s:.2f} s |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--timeout", type=float, default=900, help="seconds per scenario")
    parser.add_argument("--json", default=str(ROOT / "bench" / "faults.json"))
    args = parser.parse_args(argv)
    names = [name for name in args.scenarios.split(",") if name]
    tmp = Path(tempfile.mkdtemp(prefix="mcnet-faults-"))
    rows = []
    with (
        OwnPostgres() as pg,
        OwnRedis(persistent=True) as broker,
        OwnRedis() as cache,
        SmtpSink() as smtp,
    ):
        stack = Stack(tmp, smtp, pg, broker, cache)
        print("preparing the database (migrate, demo data)…", flush=True)
        stack.prepare()
        session = stack.manage(
            "shell",
            code=(
                "from django.test import Client; from facilities.models import User; "
                f"c = Client(); c.force_login(User.objects.get(email='{USER}')); "
                "print(c.cookies['sessionid'].value)"
            ),
        )
        stack.start()
        try:
            for name in names:
                print(f"scenario {name}…", flush=True)
                row = run_scenario(name, stack, smtp, session, args.timeout)
                rows.append(row)
                print(_table([row]).splitlines()[-1], flush=True)
        finally:
            stack.stop()
    print()
    print(_table(rows))
    Path(args.json).write_text(
        json.dumps([row.__dict__ for row in rows], ensure_ascii=False, indent=2)
    )
    print(f"\nlogs: {tmp}")
    return 0 if all(r.recovery_s is not None and r.mails_duplicated == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
