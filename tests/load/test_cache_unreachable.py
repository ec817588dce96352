"""The cache's Redis unreachable: a cache miss, never a 500 (mcnet/cache.py).

Runs everywhere, without stopping anything: the cache points at a port nobody listens on.
The real thing — the machine's Redis stopped — is test_faults.py.
"""

import pytest
from django.core.cache import cache
from django.urls import reverse

from mcnet.dashboard import tasks as dashboard_tasks
from mcnet.models import NetworkSettings

UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
def unreachable_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "mcnet.cache.ResilientRedisCache", "LOCATION": UNREACHABLE}
    }
    yield cache


def test_every_cache_call_degrades_to_a_miss(unreachable_cache):
    assert unreachable_cache.get("k", "fallback") == "fallback"
    unreachable_cache.set("k", 1)
    assert unreachable_cache.add("k", 1) is True  # as Django's DummyCache
    with pytest.raises(ValueError):
        unreachable_cache.incr("k")
    assert unreachable_cache.get_many(["a", "b"]) == {}
    assert unreachable_cache.has_key("k") is False
    unreachable_cache.delete("k")
    unreachable_cache.delete_many(["a"])
    unreachable_cache.clear()


def test_pages_answer_without_the_cache(unreachable_cache, client_as, password):
    assert NetworkSettings.load().name  # read from the database instead
    client = client_as("user")
    for path in ("/", "/inbox/"):
        assert client.get(path).status_code == 200, path
    anonymous = client_as("anonymous")
    # Logging in uses allauth's rate limits, kept in the cache: they fail open, no 500.
    response = anonymous.post(
        "/accounts/login/", {"login": "nurse@takada.example.jp", "password": password}
    )
    assert response.status_code == 302


def test_the_centers_pages_answer_without_the_cache(unreachable_cache, client_as):
    client = client_as("center")
    for name in ("dashboard:index", "groups:center"):
        assert client.get(reverse(name)).status_code == 200, name
    # The dashboard's figures are computed on every view instead, and still say when.
    assert "集計時刻" in client.get(reverse("dashboard:index")).content.decode()


def test_the_dashboards_refresh_runs_without_the_cache(unreachable_cache, client_as):
    """Beat's refresh computes and cannot store: no error, and the page computes its own
    (the lock is "taken" whenever asked: mcnet.cache's add succeeds while Redis is down)."""
    assert dashboard_tasks.refresh_dashboard_figures() == ["ja", "en"]
    response = client_as("center").get(reverse("dashboard:index"))
    assert response.status_code == 200 and "集計時刻" in response.content.decode()
