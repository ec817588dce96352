"""Every mail once, whatever fails (mcnet/outbox.py), with a real Celery worker and a real Redis.

Each test starts its own redis-server on a free port (never the machine's 6379): it is the
broker the test process publishes to and the worker consumes from, and the test may flush it,
stop it or start it again. Mail goes to the file backend; the test counts the messages per
recipient in those files (one file per SMTP connection, one message after another).
"""

import datetime as dt
import os
import socket
import subprocess
import time
from email import message_from_string
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from enrollment.models import ApplicationEvent
from facilities import services as facility_services
from facilities.models import Invitation, Occupation, User
from mcnet import jobs, outbox
from mcnet.models import Notification
from mcnet.notifications import notify
from tests.worker import WorkerProcess, wait_for

pytestmark = pytest.mark.worker

LATER = dt.timedelta(seconds=settings.MCNET_MAIL_SWEEP_AFTER_SECONDS + 60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own, without persistence (like the compose's broker)."""

    def __init__(self):
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        command = ["redis-cli", "-p", str(self.port), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.cli("ping") == "PONG", timeout=10, what="redis-server to start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _use_broker(url: str) -> None:
    """Point the test process's Celery app at `url`, dropping the connections it holds
    (Celery reads the environment's CELERY_BROKER_URL before its own setting)."""
    from kombu import pools

    from mcnet.celery import app

    os.environ["CELERY_BROKER_URL"] = app.conf.broker_url = url
    # An explicit write URL (another test's fixture may have left one) wins over broker_url.
    os.environ.pop("CELERY_BROKER_WRITE_URL", None)
    app.conf.broker_write_url = url
    pools.reset()  # kombu's pools, shared by URL: closed and forgotten
    app._pool = None
    app.amqp._producer_pool = None
    reset = getattr(jobs, "broker_breaker_reset", None)  # a publish that failed earlier
    if reset is not None:
        reset()


@pytest.fixture
def broker(transactional_db, settings, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a shared database: set DATABASE_URL (CI does)")
    from mcnet.celery import app

    server = RedisServer()
    server.start()
    monkeypatch.setenv("CELERY_BROKER_URL", app.conf.broker_url)  # restored afterwards
    before = app.conf.broker_url
    settings.CELERY_BROKER_URL = server.url  # what WorkerProcess gives the worker
    _use_broker(server.url)
    yield server
    _use_broker(before)
    server.stop()


@pytest.fixture
def worker(broker, tmp_path):
    started = []

    def start() -> WorkerProcess:
        process = WorkerProcess(tmp_path / "mail", queues="celery")
        process.mail_dir.mkdir(exist_ok=True)
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def mails_to(mail_dir: Path) -> dict[str, int]:
    """How many messages each address got, from the file backend's files."""
    counts: dict[str, int] = {}
    for path in mail_dir.glob("*.log"):
        separator = "-" * 79
        for chunk in path.read_text(errors="replace").split(separator):
            if not chunk.strip():
                continue
            to = message_from_string(chunk.strip())["To"]
            counts[to] = counts.get(to, 0) + 1
    return counts


def _mailed_so_far(broker: RedisServer) -> None:
    """The demo's rows count as mailed, and its messages are dropped: the test counts only
    what it makes."""
    now = timezone.now()
    Notification.objects.update(emailed_at=now)
    Invitation.objects.update(emailed_at=now)
    ApplicationEvent.objects.update(mailed_at=now)
    broker.cli("flushall")


def _sweep() -> dict[str, int]:
    """Beat's sweep, as if its delay had passed."""
    return outbox.requeue_unsent(now=timezone.now() + LATER)


def _publishing_to(broker: RedisServer) -> str:
    """Where this process publishes, for the failure messages: a queue found empty says
    nothing about whether the message went to another broker or another queue."""
    from mcnet.celery import app

    with app.connection_for_write() as connection:
        uri = connection.as_uri()
    return (
        f"test broker :{broker.port} keys={broker.cli('keys', '*')!r}; the app publishes to "
        f"{uri} (broker_url={app.conf.broker_url}, write_url={app.conf.broker_write_url}, "
        f"eager={app.conf.task_always_eager}, default queue={app.conf.task_default_queue}, "
        f"breaker until={jobs._broker_skipped_until:.0f} now={time.monotonic():.0f})"
    )


def _queued(broker: RedisServer) -> str:
    """What the broker's queue holds. A publish is one attempt with a 1 s timeout: on a loaded
    machine it can lapse, leaving the row to the sweep (as in production); the sweep runs
    here at once so the test goes on from a queued message."""
    if broker.cli("llen", "celery") == "0":
        jobs.broker_breaker_reset()
        _sweep()
    return broker.cli("llen", "celery")


def test_an_invitation_whose_message_the_broker_lost_is_mailed_once_by_the_sweep(
    broker, worker, people, demo
):
    _mailed_so_far(broker)
    invitation = facility_services.staff_invite(
        actor=people["mcs_admin"],
        facility=demo["takada"],
        email="kango@takada.example.jp",
        name="看護 新",
        kana="かんご あらた",
        occupation=Occupation.NURSE,
    )
    assert _queued(broker) == "1", _publishing_to(broker)  # queued, no worker yet
    broker.cli("flushall")  # Redis loses its data (restarted without its files)

    mailer = worker()
    time.sleep(3)  # the worker is up and has nothing to do: the message is gone
    assert Invitation.objects.get(pk=invitation.pk).emailed_at is None
    assert _sweep()["invitations"] == 1
    wait_for(
        lambda: Invitation.objects.get(pk=invitation.pk).emailed_at,
        timeout=60,
        what=f"the sweep's message to be mailed; worker log:\n{mailer.log()[-3000:]}",
    )
    assert _sweep()["invitations"] == 0  # sent: nothing left to queue
    assert mails_to(mailer.mail_dir) == {"kango@takada.example.jp": 1}


def test_a_worker_killed_mid_batch_leaves_every_recipient_exactly_one_mail(
    broker, worker, people, monkeypatch
):
    """The batch pauses two seconds after each message (MCNET_MAIL_TEST_DELAY); the worker is
    killed after two. The broker hands the batch back (a 3 s visibility timeout) and the sweep
    queues the rest too: both run, and still no one gets a second mail."""
    monkeypatch.setenv("MCNET_MAIL_TEST_DELAY", "2")
    monkeypatch.setenv("MCNET_MAIL_CLAIM_SECONDS", "3")
    monkeypatch.setenv("MCNET_TEST_VISIBILITY_TIMEOUT", "3")
    _mailed_so_far(broker)
    recipients = list(User.objects.filter(is_active=True).order_by("pk")[:6])
    assert len(recipients) == 6
    created = notify(recipients=recipients, kind="test.batch", title="一括の通知")
    ids = [n.pk for n in created]
    assert _queued(broker) != "0", _publishing_to(broker)

    mailer = worker()
    wait_for(
        lambda: sum(mails_to(mailer.mail_dir).values()) >= 2,
        timeout=60,
        what=f"two mails of the batch; worker log:\n{mailer.log()[-3000:]}",
    )
    mailer.kill()
    sent_before_kill = sum(mails_to(mailer.mail_dir).values())
    assert 2 <= sent_before_kill < 6

    mailer = worker()

    def all_sent() -> bool:
        _sweep()  # beat, every few seconds here
        return not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).exists()

    wait_for(all_sent, timeout=90, interval=2, what=f"the rest; log:\n{mailer.log()[-3000:]}")
    time.sleep(5)  # the redelivered batch (visibility timeout 3 s) has run by now too
    assert "deliver_notification_emails" in mailer.log()
    assert mails_to(mailer.mail_dir) == {user.email: 1 for user in recipients}


def test_an_invitation_made_while_redis_is_down_is_mailed_once_redis_is_back(
    broker, worker, client_as, demo
):
    _mailed_so_far(broker)
    client = client_as("mcs_admin")
    takada = demo["takada"].pk
    broker.stop()

    started = time.monotonic()
    response = client.post(
        reverse("facilities:invitation_create", args=[takada]),
        {"email": "kango@takada.example.jp", "name": "看護 新", "occupation": Occupation.NURSE},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert time.monotonic() - started < 5, "the request waited for the broker"
    invitation = Invitation.objects.get(email="kango@takada.example.jp")
    assert invitation.emailed_at is None
    page = client.get(reverse("facilities:invitations", args=[takada]))
    assert "メール送信待ち" in page.content.decode()

    broker.start()  # back, empty
    _use_broker(broker.url)
    mailer = worker()
    assert _sweep()["invitations"] == 1

    def mailed():
        if broker.cli("llen", "celery") == "0":  # a publish that lapsed: beat sweeps again
            jobs.broker_breaker_reset()
            _sweep()
        return Invitation.objects.get(pk=invitation.pk).emailed_at

    wait_for(mailed, timeout=60, interval=1, what=lambda: _publishing_to(broker))
    page = client.get(reverse("facilities:invitations", args=[takada]))
    assert "メール送信待ち" not in page.content.decode()
    assert mails_to(mailer.mail_dir) == {"kango@takada.example.jp": 1}
