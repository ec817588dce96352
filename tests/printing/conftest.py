"""Fixtures of the printed-forms tests."""

import pytest

from consents.models import Consent


@pytest.fixture
def published(monkeypatch):
    """Record what the services publish instead of sending it to the broker."""
    sent = []

    def fake_enqueue(task, *args, **kwargs):
        sent.append((task.name, args))
        return True

    monkeypatch.setattr("mcnet.printing.services.enqueue", fake_enqueue)
    return sent


@pytest.fixture
def broker_down():
    """Point the Celery app's publishing at a closed port, as if Redis were stopped."""
    from mcnet.celery import app
    from mcnet.jobs import broker_breaker_reset

    def reset():
        app._pool = None
        app.amqp._producer_pool = None

    class Broker:
        def restore(self):
            app.conf.broker_write_url = old
            reset()
            broker_breaker_reset()  # "Redis is back": the next publish tries it

    old = app.conf.get("broker_write_url")  # the setting, not broker_url it falls back to
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    reset()
    broker = Broker()
    yield broker
    broker.restore()


@pytest.fixture
def yamada_consent(demo):
    return Consent.objects.get(patient__name="山田太郎", status="active")


@pytest.fixture
def broker_hung(hung_redis_url):
    """Point the Celery app's publishing at a Redis that accepts and never answers."""
    from mcnet.celery import app

    def reset():
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.get("broker_write_url")  # the setting, not broker_url it falls back to
    app.conf.broker_write_url = hung_redis_url
    reset()
    yield hung_redis_url
    app.conf.broker_write_url = old
    reset()
