"""/healthz: readiness within 2 s whatever hangs, details only for the center and loopback
(mcnet/health.py); /healthz/live: liveness, asking no dependency."""

import time

import pytest

from mcnet import health

STRANGER = {"REMOTE_ADDR": "203.0.113.7"}


def test_a_stranger_gets_only_the_status(client, db):
    response = client.get("/healthz", **STRANGER)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_loopback_and_the_center_get_each_service(client_as, db):
    expected = {"status": "ok", "database": "ok", "broker": "ok", "cache": "ok"}
    anonymous = client_as("anonymous")
    assert anonymous.get("/healthz", REMOTE_ADDR="127.0.0.1").json() == expected
    assert anonymous.get("/healthz", REMOTE_ADDR="::1").json() == expected
    # Relayed by a proxy on this machine: a stranger's request, whatever the socket says.
    relayed = anonymous.get("/healthz", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert relayed.json() == {"status": "ok"}
    assert client_as("center").get("/healthz", **STRANGER).json() == expected
    # Other signed-in people are strangers here.
    assert client_as("mcs_admin").get("/healthz", **STRANGER).json() == {"status": "ok"}


def test_broker_down_is_503_degraded_and_says_nothing_more_to_strangers(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz", **STRANGER)
    assert response.status_code == 503
    assert response.content == b'{"status": "degraded"}'
    local = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert local.status_code == 503
    assert local.json() == {"status": "degraded", "database": "ok", "broker": "down", "cache": "ok"}
    assert b"Error" not in local.content  # no exception class, even on loopback


def test_database_down_is_named_without_its_exception(client, db, monkeypatch):
    from django.db import OperationalError

    def refuse(alias):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", refuse)
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert "OperationalError" not in response.content.decode()


def test_a_hung_redis_answers_within_two_seconds(client, db, settings, hung_redis_url):
    """Broker and cache on a Redis that accepts and never answers (as under SIGSTOP)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = hung_redis_url
    settings.CACHES = {
        "default": {"BACKEND": "mcnet.cache.ResilientRedisCache", "LOCATION": hung_redis_url}
    }
    for _ in range(3):  # again while the first checks may still hang: no pile-up, no wait
        started = time.monotonic()
        response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
        assert time.monotonic() - started < 2.0
        assert response.status_code == 503
        body = response.json()
        assert body["database"] == "ok"
        assert body["broker"] in ("timeout", "down") and body["cache"] in ("timeout", "down")


@pytest.mark.parametrize("remote", ["203.0.113.7", "127.0.0.1"])
def test_liveness_asks_no_dependency(client, db, settings, remote):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/live", REMOTE_ADDR=remote)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/healthz"])
def test_security_headers_on_every_page(client, db, path):
    response = client.get(path)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
