"""A document whose rendering was cut off says so (「再開待ち」) instead of a frozen count; a
request for a PDF while the broker hangs is answered within two seconds."""

import datetime as dt
import time

from django.urls import reverse
from django.utils import timezone

from mcnet.models import GeneratedDocument
from mcnet.printing import services

State = GeneratedDocument.State


def _batch_of_three(people):
    from mcnet.printing import batches

    batch = batches.get("besshi3-all")
    center = people["center"]
    return services.document_request_batch(
        actor=center, batch=batch, scope=None, objects=batch.items(center, None)
    )


def test_a_render_whose_claim_lapsed_shows_waiting_to_resume(client_as, people, published):
    document = _batch_of_three(people)
    client = client_as("center")
    status_url = reverse("printing:status", args=[document.pk])
    # Claimed (the first attempt), heartbeat fresh: the count, no 「再開待ち」.
    GeneratedDocument.objects.filter(pk=document.pk).update(
        state=State.RENDERING, attempts=1, progress_done=1, updated_at=timezone.now()
    )
    status = client.get(status_url).json()
    assert status["label"] == "作成中" and status["waiting_to_resume"] is False
    assert (status["done"], status["total"]) == (1, 3)
    # The worker died: no heartbeat for longer than a claim lasts.
    GeneratedDocument.objects.filter(pk=document.pk).update(
        updated_at=timezone.now() - services.CLAIM_LAPSES_AFTER - dt.timedelta(seconds=1)
    )
    status = client.get(status_url).json()
    assert status["label"] == "再開待ち" and status["waiting_to_resume"] is True
    page = client.get(reverse("printing:detail", args=[document.pk])).content.decode()
    assert "再開待ち" in page and "自動で再開します" in page
    # The sweep queued it again: still 「再開待ち」 until a worker claims it.
    services.documents_requeue_stalled()
    document.refresh_from_db()
    assert document.state == State.QUEUED
    assert client.get(status_url).json()["label"] == "再開待ち"
    # A worker claims and finishes it: no trace of the wait.
    GeneratedDocument.objects.filter(pk=document.pk).update(
        state=State.RENDERING, attempts=2, updated_at=timezone.now()
    )
    assert client.get(status_url).json()["waiting_to_resume"] is False


def test_a_queued_document_never_started_is_just_waiting(client_as, people, published):
    document = _batch_of_three(people)
    status = client_as("center").get(reverse("printing:status", args=[document.pk])).json()
    assert status["label"] == "待機中" and status["waiting_to_resume"] is False


def test_a_pdf_request_while_the_broker_hangs_is_answered_within_two_seconds(
    client_as, broker_hung, settings, hung_redis_url, media, django_capture_on_commit_callbacks
):
    """Broker and cache on a Redis that accepts connections and never answers (SIGSTOP): the
    request is recorded, the page says it waits, and the next requests do not wait at all
    (the publish after the commit included; tests/load/test_faults.py does it on gunicorn)."""
    settings.CACHES = {
        "default": {"BACKEND": "mcnet.cache.ResilientRedisCache", "LOCATION": hung_redis_url}
    }
    client = client_as("user")
    took = []
    for code in ("besshi5", "besshi6"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as published:
            response = client.post(reverse("printing:request", args=[code]))
        took.append(time.monotonic() - started)
        assert len(published) == 1  # the publish was tried (and failed) inside the timing
        assert response.status_code == 302
        started = time.monotonic()
        page = client.get(response.headers["Location"])
        assert time.monotonic() - started < 2.0
        assert "処理サーバーにつながり次第" in page.content.decode()
    assert took[0] < 2.0, took
    assert took[1] < 0.5, took  # the breaker: no second wait for the same hung Redis
    assert GeneratedDocument.objects.filter(state=State.QUEUED, published_at=None).count() == 2
