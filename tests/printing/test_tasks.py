"""The render task: retries a transient fault, gives up with a reason, stops at its time limit."""

from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from mcnet.models import GeneratedDocument
from mcnet.printing import services, tasks

State = GeneratedDocument.State


def test_task_settings():
    task = tasks.render_document
    assert task.acks_late and task.reject_on_worker_lost
    assert task.time_limit == tasks.RENDER_TIME_LIMIT
    assert task.soft_time_limit == tasks.RENDER_SOFT_TIME_LIMIT
    assert task.max_retries == tasks.MAX_RETRIES
    # Routed to the pdf queue by CELERY_TASK_ROUTES ("*.render_*").
    from mcnet.celery import app

    assert app.amqp.router.route({}, task.name)["queue"].name == "pdf"


def test_a_transient_fault_is_retried_then_rendered(db, published, media, monkeypatch):
    document = services.document_request_blank(actor=None, code="besshi6")
    real = services.document_render
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            services._claim(kwargs["document_id"], takeover=kwargs["takeover"])
            raise OperationalError("the database is restarting")
        return real(**kwargs)

    monkeypatch.setattr(services, "document_render", flaky)
    monkeypatch.setattr(tasks.render_document, "default_retry_delay", 0)
    result = tasks.render_document.apply(args=[document.pk])
    assert result.get() == "ready"
    assert [c["takeover"] for c in calls] == [False, True, True]  # a retry takes over its claim
    document.refresh_from_db()
    assert document.state == State.READY


def test_a_fault_that_stays_fails_with_a_reason(db, published, monkeypatch):
    document = services.document_request_blank(actor=None, code="besshi6")

    def broken(**kwargs):
        raise OperationalError("no database")

    monkeypatch.setattr(services, "document_render", broken)
    result = tasks.render_document.apply(args=[document.pk])
    assert result.get(propagate=False) == "failed: retries exhausted"
    document.refresh_from_db()
    assert document.state == State.FAILED
    assert "一時的な障害" in document.message and "OperationalError" in document.message


def test_the_soft_time_limit_fails_the_document_with_a_reason(db, published, monkeypatch):
    document = services.document_request_blank(actor=None, code="besshi6")

    def slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "document_render", slow)
    assert tasks.render_document.apply(args=[document.pk]).get() == "failed: time limit"
    document.refresh_from_db()
    assert document.state == State.FAILED and "時間内に作成できませんでした" in document.message


def test_a_template_fault_is_not_retried(db, published, monkeypatch):
    from django.template import TemplateSyntaxError

    document = services.document_request_blank(actor=None, code="besshi6")
    calls = []

    def bad(**kwargs):
        calls.append(1)
        raise TemplateSyntaxError("unclosed tag")

    monkeypatch.setattr(services, "document_render", bad)
    assert tasks.render_document.apply(args=[document.pk]).get() == "failed: error"
    assert len(calls) == 1
    document.refresh_from_db()
    assert "TemplateSyntaxError" in document.message


def test_a_worker_process_warms_the_renderer_when_it_starts(monkeypatch):
    """worker_process_init: each prefork child, and the solo pool's own process."""
    from celery import signals

    from mcnet.printing import registry, renderer

    warmed = []
    monkeypatch.setattr(renderer, "warm_up", lambda names: warmed.append(list(names)))
    signals.worker_process_init.send(sender="celery@test")
    assert warmed == [[spec.template for spec in registry.registry().values()]]


def test_a_renderer_that_cannot_warm_up_does_not_stop_the_worker(monkeypatch, caplog):
    from mcnet.printing import renderer, tasks

    def missing_font(names):
        raise renderer.FontNotInstalled("no IPAex")

    monkeypatch.setattr(renderer, "warm_up", missing_font)
    tasks._warm_renderer()
    assert "could not prepare the PDF renderer" in caplog.text
