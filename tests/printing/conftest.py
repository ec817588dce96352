"""Fixtures of the printed-forms tests."""

import pytest


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
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def as_role(client_as, client, people):
    """client_as, callable more than once per role (it sets up an administrator's TOTP once)."""
    seen = set()

    def login(role):
        if role in seen and role != "anonymous":
            client.logout()
            client.force_login(people[role])
            return client
        seen.add(role)
        return client_as(role)

    return login


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
