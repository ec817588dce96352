"""A real Celery worker against Redis renders what the page queued; killed mid-render, the job
still completes once a worker runs again (acks_late: the broker hands the message back)."""

import time

import pytest
from django.urls import reverse

from facilities.models import User
from mcnet.demo import load_demo
from mcnet.models import GeneratedDocument
from tests.conftest import log_in
from tests.worker import wait_for

from . import pdf

pytestmark = pytest.mark.worker
State = GeneratedDocument.State
# The kill test's pause inside the task (between its claim and the rendering), in seconds,
# and the broker's visibility timeout for that worker: see mcnet/settings/test.py.
RENDER_DELAY = 4
VISIBILITY_TIMEOUT = 3


def state_of(document_id: int) -> str:
    return GeneratedDocument.objects.get(pk=document_id).state


@pytest.fixture
def slow_render(monkeypatch):
    """Must come before `celery_worker`: the worker takes its environment when it starts."""
    monkeypatch.setenv("MCNET_RENDER_TEST_DELAY", str(RENDER_DELAY))
    monkeypatch.setenv("MCNET_TEST_VISIBILITY_TIMEOUT", str(VISIBILITY_TIMEOUT))


def ask_through_the_page(client, url: str) -> GeneratedDocument:
    response = client.post(url)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.context["document"]


def test_worker_renders_a_form_queued_through_the_page(celery_worker, client):
    load_demo()
    log_in(client, User.objects.get(email="nurse@takada.example.jp"), mfa=False)
    document = ask_through_the_page(client, reverse("printing:request", args=["besshi7"]))
    assert document.state in (State.QUEUED, State.RENDERING, State.READY)  # a fast worker

    wait_for(
        lambda: state_of(document.pk) in (State.READY, State.FAILED),
        timeout=60,
        what=f"the worker to render the document (log:\n{celery_worker.log()[-2000:]})",
    )
    assert state_of(document.pk) == State.READY, GeneratedDocument.objects.get(
        pk=document.pk
    ).message
    status = client.get(reverse("printing:status", args=[document.pk])).json()
    assert status["state"] == "ready" and status["download_url"]
    response = client.get(status["download_url"])
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert pdf.page_count(content) == 2
    assert pdf.normalize("MCネット利用についての同意書") in pdf.normalize(pdf.text(content))
    assert pdf.font_problems(content) == []
    assert "mcnet.printing.tasks.render_document" in celery_worker.log()


def test_job_completes_after_the_worker_is_killed_mid_render(slow_render, celery_worker, client):
    load_demo()
    log_in(client, User.objects.get(email="nurse@takada.example.jp"), mfa=False)
    document = ask_through_the_page(client, reverse("printing:request", args=["besshi5"]))

    wait_for(
        lambda: state_of(document.pk) == State.RENDERING,
        timeout=30,
        interval=0.1,
        what=f"the worker to start rendering (log:\n{celery_worker.log()[-2000:]})",
    )
    celery_worker.kill()  # SIGKILL: no acknowledgement, no clean-up
    time.sleep(1)
    assert state_of(document.pk) == State.RENDERING  # nobody finished it
    assert not GeneratedDocument.objects.get(pk=document.pk).file

    celery_worker.start()  # a new worker on the same queues
    wait_for(
        lambda: state_of(document.pk) in (State.READY, State.FAILED),
        timeout=90,
        what=f"the restarted worker to finish (log:\n{celery_worker.log()[-3000:]})",
    )
    document.refresh_from_db()
    assert document.state == State.READY, document.message
    assert document.attempts == 2  # the killed run and the one that finished
    response = client.get(reverse("printing:download", args=[document.pk]))
    content = b"".join(response.streaming_content)
    assert pdf.page_count(content) == 2
    assert pdf.normalize("を活用しましょう") in pdf.normalize(pdf.text(content))
