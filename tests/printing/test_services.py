"""Generated documents: requested once per data, rendered once, failing with a reason, swept."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from facilities.models import User
from mcnet.models import AuditEvent, GeneratedDocument
from mcnet.printing import batches, registry, services

from . import pdf

State = GeneratedDocument.State


def facility_target():
    return registry.get("besshi3").target_for("facilities.Facility")


def test_asking_twice_for_the_same_data_gives_one_document(
    db, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.document_request_blank(actor=None, code="besshi1")
    with django_capture_on_commit_callbacks(execute=True):
        second = services.document_request_blank(actor=None, code="besshi1")
    assert first.pk == second.pk
    assert published == [("mcnet.printing.tasks.render_document", (first.pk,))]
    first.refresh_from_db()
    assert first.state == State.QUEUED and first.published_at is not None
    assert first.title == "別紙1 利用申込書"


def test_a_change_in_the_data_gives_a_new_version(takada, people, published, media):
    target = facility_target()
    before = services.document_request_for(
        actor=people["mcs_admin"], code="besshi3", target=target, obj=takada
    )
    again = services.document_request_for(
        actor=people["mcs_admin"], code="besshi3", target=target, obj=takada
    )
    assert again.pk == before.pk
    people["user"].name = "高田看子（改姓）"
    people["user"].save()
    after = services.document_request_for(
        actor=people["mcs_admin"], code="besshi3", target=target, obj=takada
    )
    assert after.pk != before.pk and after.version != before.version
    assert {r["name"] for r in after.data["staff"] if r["name"]} >= {"高田看子（改姓）", "高田次郎"}
    assert AuditEvent.objects.filter(action="document.request", object_id=str(after.pk)).exists()


def test_rendering_stores_the_pdf_privately_once(takada, people, published, media):
    document = services.document_request_for(
        actor=people["mcs_admin"], code="besshi3", target=facility_target(), obj=takada
    )
    assert services.document_render(document_id=document.pk) == "ready"
    document.refresh_from_db()
    assert document.state == State.READY and document.finished_at
    path = document.file.path
    assert path.startswith(str(media))  # MEDIA_ROOT, which has no URL
    assert settings.MEDIA_URL is None
    content = document.file.read()
    document.file.close()
    assert content.startswith(b"%PDF")
    text = pdf.text(content)
    assert "高田看子" in text and "nurse@takada.example.jp" in text
    assert "〇" in text  # 高田次郎 is the MCS administrator (*1)
    # Run again (a duplicate message): nothing new is rendered.
    assert services.document_render(document_id=document.pk) == "already ready"
    document.refresh_from_db()
    assert document.file.path == path and document.attempts == 1


def test_a_run_does_not_take_over_a_fresh_claim_but_a_redelivery_does(db, published, media):
    document = services.document_request_blank(actor=None, code="besshi6")
    GeneratedDocument.objects.filter(pk=document.pk).update(
        state=State.RENDERING, started_at=timezone.now(), updated_at=timezone.now()
    )
    assert services.document_render(document_id=document.pk) == "busy"
    assert services.document_render(document_id=document.pk, takeover=True) == "ready"


def test_a_render_that_fails_says_why_and_can_be_retried(db, published, media, settings, tmp_path):
    spec = registry.get("besshi1")
    document = services._request(actor=None, spec=spec, title="test", data=spec.blank_context())
    # The fonts are gone (a character no font has does not fail: test_names.py).
    settings.MCNET_FORM_FONT_FILES = {"mincho": str(tmp_path / "x"), "gothic": str(tmp_path / "y")}
    assert services.document_render(document_id=document.pk) == "failed"
    document.refresh_from_db()
    assert document.state == State.FAILED
    assert "fonts-ipaexfont-mincho" in document.message
    assert not document.file
    retried = services.document_retry(actor=None, document=document)
    assert retried.state == State.QUEUED and retried.message == ""


def test_asking_again_for_a_failed_document_queues_it_again(db, published):
    document = services.document_request_blank(actor=None, code="besshi2")
    GeneratedDocument.objects.filter(pk=document.pk).update(state=State.FAILED, message="x")
    again = services.document_request_blank(actor=None, code="besshi2")
    assert again.pk == document.pk and again.state == State.QUEUED and again.message == ""


def test_redis_down_leaves_the_document_waiting_and_the_sweep_queues_it(
    db, broker_down, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        document = services.document_request_blank(actor=None, code="besshi5")
    document.refresh_from_db()
    assert document.state == State.QUEUED and document.published_at is None
    # The sweep, while Redis is still down: nothing lost, nothing raised.
    later = timezone.now() + dt.timedelta(minutes=1)
    assert services.documents_requeue_stalled(now=later)["unpublished"] == 0
    # Redis is back: the next sweep publishes it.
    broker_down.restore()
    sent = []
    monkeypatch.setattr(
        "mcnet.printing.services.enqueue", lambda task, *args: sent.append(args) or True
    )
    assert services.documents_requeue_stalled(now=later)["unpublished"] == 1
    assert sent == [(document.pk,)]
    document.refresh_from_db()
    assert document.published_at is not None


def test_sweep_queues_unpublished_lost_and_stalled_documents(db, published, monkeypatch):
    monkeypatch.setattr(services, "broker_forgot", lambda marker: False)
    now = timezone.now()
    unpublished = services.document_request_blank(actor=None, code="besshi1")
    lost = services.document_request_blank(actor=None, code="besshi2")
    stalled = services.document_request_blank(actor=None, code="besshi4")
    fresh = services.document_request_blank(actor=None, code="besshi6")
    rendering = services.document_request_blank(actor=None, code="besshi5")
    GeneratedDocument.objects.filter(pk=unpublished.pk).update(
        updated_at=now - dt.timedelta(minutes=1)
    )
    GeneratedDocument.objects.filter(pk=lost.pk).update(published_at=now - dt.timedelta(hours=1))
    # Rendering, untouched for longer than the claim lasts: its worker is gone.
    GeneratedDocument.objects.filter(pk=stalled.pk).update(
        state=State.RENDERING,
        started_at=now - dt.timedelta(minutes=1),
        updated_at=now - services.CLAIM_LAPSES_AFTER - dt.timedelta(seconds=1),
    )
    GeneratedDocument.objects.filter(pk=fresh.pk).update(published_at=now)
    # Rendering for long, but its heartbeat is fresh: a live claim, left alone.
    GeneratedDocument.objects.filter(pk=rendering.pk).update(
        state=State.RENDERING, started_at=now - dt.timedelta(minutes=2), updated_at=now
    )
    published.clear()
    counts = services.documents_requeue_stalled(now=now)
    assert counts == {"unpublished": 1, "lost": 1, "stalled": 1, "failed": 0}
    assert sorted(args[0] for _, args in published) == sorted([unpublished.pk, lost.pk, stalled.pk])
    stalled.refresh_from_db()
    assert stalled.state == State.QUEUED
    rendering.refresh_from_db()
    assert rendering.state == State.RENDERING


def test_after_the_broker_lost_its_data_every_queued_document_is_published_again(
    db, published, monkeypatch
):
    """Redis restarted without its files (or flushed): the messages are gone, so the sweep
    publishes every queued document at once instead of waiting REPUBLISH_AFTER."""
    now = timezone.now()
    waiting = services.document_request_blank(actor=None, code="besshi2")
    GeneratedDocument.objects.filter(pk=waiting.pk).update(
        published_at=now - dt.timedelta(seconds=5)
    )
    monkeypatch.setattr(services, "broker_forgot", lambda marker: False)
    published.clear()
    assert services.documents_requeue_stalled(now=now)["lost"] == 0
    monkeypatch.setattr(services, "broker_forgot", lambda marker: marker == "documents")
    assert services.documents_requeue_stalled(now=now)["lost"] == 1
    assert [args for _, args in published] == [(waiting.pk,)]


def test_broker_forgot_is_a_marker_in_the_brokers_own_redis(settings):
    """Asked twice, the second answer is "kept"; after a FLUSHALL-like loss, "forgot"."""
    import redis

    from mcnet.jobs import broker_forgot

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the broker is not Redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis to ask")
    marker = "test-broker-forgot"
    client.delete(f"mcnet:broker-marker:{marker}")
    assert broker_forgot(marker) is True  # first ever: nothing to compare with
    assert broker_forgot(marker) is False
    client.delete(f"mcnet:broker-marker:{marker}")  # what a restart without its files does
    assert broker_forgot(marker) is True
    client.delete(f"mcnet:broker-marker:{marker}")
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert broker_forgot(marker) is False  # cannot tell: the broker is down anyway


def test_a_document_cut_off_too_often_fails_instead_of_looping(db, published, monkeypatch):
    monkeypatch.setattr(services, "broker_forgot", lambda marker: False)
    now = timezone.now()
    document = services.document_request_blank(actor=None, code="besshi4")
    GeneratedDocument.objects.filter(pk=document.pk).update(
        state=State.RENDERING,
        attempts=services.MAX_ATTEMPTS,
        updated_at=now - dt.timedelta(minutes=1),
    )
    assert services.documents_requeue_stalled(now=now)["failed"] == 1
    document.refresh_from_db()
    assert document.state == State.FAILED and "中断" in document.message


def test_a_hung_broker_stops_the_sweep_at_the_first_failed_publish(db, monkeypatch):
    monkeypatch.setattr(services, "broker_forgot", lambda marker: False)
    tried = []
    monkeypatch.setattr(services, "enqueue", lambda task, *args: tried.append(args) and False)
    now = timezone.now()
    for code in ("besshi1", "besshi2", "besshi4"):
        services.document_request_blank(actor=None, code=code)
    GeneratedDocument.objects.update(updated_at=now - dt.timedelta(minutes=1))
    counts = services.documents_requeue_stalled(now=now)
    assert counts["unpublished"] == 0 and len(tried) == 1


def test_the_render_keeps_its_claim_alive_while_it_runs(transactional_db, monkeypatch):
    """A heartbeat (its own thread and connection) touches the document while it renders, so
    a slow render is not taken for a dead one; it stops with the render."""
    import threading
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the heartbeat runs on PostgreSQL only (the demo's SQLite renders eagerly)")
    document = services.document_request_blank(actor=None, code="besshi6")
    old = timezone.now() - dt.timedelta(minutes=1)
    GeneratedDocument.objects.filter(pk=document.pk).update(state=State.RENDERING, updated_at=old)
    monkeypatch.setattr(services, "HEARTBEAT", 0.05)
    with services._heartbeat(document.pk):
        time.sleep(0.4)
        beat = GeneratedDocument.objects.get(pk=document.pk).updated_at
        assert beat > old + dt.timedelta(seconds=50)
    assert not [t for t in threading.enumerate() if t.name == f"heartbeat-{document.pk}"]
    time.sleep(0.2)
    assert GeneratedDocument.objects.get(pk=document.pk).updated_at <= timezone.now()
    stopped = GeneratedDocument.objects.get(pk=document.pk).updated_at
    time.sleep(0.2)
    assert GeneratedDocument.objects.get(pk=document.pk).updated_at == stopped


def test_old_documents_are_purged_with_their_files(db, published, media):
    document = services.document_request_blank(actor=None, code="besshi6")
    services.document_render(document_id=document.pk)
    document.refresh_from_db()
    path = document.file.path
    with time_machine.travel(timezone.now() + dt.timedelta(days=6)):
        assert services.documents_purge() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert services.documents_purge() == 1
    assert not GeneratedDocument.objects.filter(pk=document.pk).exists()
    import os

    assert not os.path.exists(path)


def test_batch_of_every_facility_is_one_job_with_progress(demo, people, published, media):
    batch = batches.get("besshi3-all")
    center = people["center"]
    facilities = batch.items(center, None)
    assert facilities.count() == 3
    document = services.document_request_batch(
        actor=center, batch=batch, scope=None, objects=facilities
    )
    assert document.is_batch and document.progress_total == 3 and document.progress_done == 0
    assert services.document_render(document_id=document.pk) == "ready"
    document.refresh_from_db()
    assert document.progress_done == 3
    content = document.file.read()
    document.file.close()
    text = pdf.text(content)
    for name in ("ABCクリニック", "春日野居宅介護支援事業所", "高田訪問看護ステーション"):
        assert name in text
    assert pdf.page_count(content) == 3
    assert pdf.font_problems(content) == []


def test_documents_of_an_erased_object_can_be_deleted(takada, people, published, media):
    document = services.document_request_for(
        actor=people["mcs_admin"], code="besshi1", target=facility_target(), obj=takada
    )
    services.document_render(document_id=document.pk)
    assert services.documents_delete_for(obj=takada) == 1
    assert not GeneratedDocument.objects.filter(pk=document.pk).exists()


def test_requested_by_survives_the_user(db, published):
    user = User.objects.create_user("tmp@example.jp", "x-pass-1234")
    document = services.document_request_blank(actor=user, code="besshi7")
    user.delete()
    document.refresh_from_db()
    assert document.requested_by is None


def test_a_render_claims_and_finishes_in_one_statement_each(takada, people, published, media):
    """A queued document: the claim, the data to print, the outcome. The stored data (a
    batch's can be large) is read once and never written back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    document = services.document_request_for(
        actor=people["mcs_admin"], code="besshi3", target=facility_target(), obj=takada
    )
    with CaptureQueriesContext(connection) as queries:
        assert services.document_render(document_id=document.pk) == "ready"
    sql = [q["sql"] for q in queries]
    assert len(sql) == 3
    assert sql[0].startswith("UPDATE") and sql[1].startswith("SELECT")
    assert sql[2].startswith("UPDATE")
    assert all('"data"' not in statement for statement in (sql[0], sql[2]))
    stored = GeneratedDocument.objects.get(pk=document.pk)
    assert stored.state == State.READY and stored.data == document.data and stored.file
    assert stored.attempts == 1 and stored.progress_done == stored.progress_total


def test_a_run_that_lost_its_claim_leaves_no_file(db, published, media, monkeypatch):
    """Another run took over and finished while this one rendered: its file stays, ours goes."""
    document = services.document_request_blank(actor=None, code="besshi6")
    real = services._render

    def overtaken(document, unprintable):
        monkeypatch.setattr(services, "_render", real)  # the other run renders as usual
        assert services.document_render(document_id=document.pk, takeover=True) == "ready"
        return real(document, unprintable)

    monkeypatch.setattr(services, "_render", overtaken)
    assert services.document_render(document_id=document.pk) == "superseded (ready)"
    stored = GeneratedDocument.objects.get(pk=document.pk)
    assert stored.state == State.READY and stored.attempts == 2
    files = [path for path in media.rglob("*.pdf")]
    assert files == [Path(stored.file.path)]
