"""The cache on Redis, degraded to "no cache" while Redis is down: no page fails for it.

Django's RedisCache raises on every call when Redis does not answer, and every page reads the
cache (the network's settings, allauth's rate limits): a stopped Redis would make the whole
portal answer 500. Here a failing call behaves as Django's DummyCache instead (reads return
the default, writes are dropped, `add` succeeds, `incr` finds no key) and a warning is logged
at most once a minute. Rate limits therefore do not count while Redis is down (fail open, as
django-redis's IGNORE_EXCEPTIONS); login throttling resumes when it is back.

A Redis that hangs (frozen, not down) costs each call its socket timeout (0.5 s), and a page
makes several: after one failure the cache stays off for BREAK_FOR seconds in this process
(a circuit breaker), so a hung Redis costs a request at most one timeout, never a worker's
whole 30 s.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
_WARN_EVERY = 60.0
_last_warning = 0.0
# Seconds the cache is skipped after a failed call (then one call tries Redis again).
BREAK_FOR = 5.0


def _warn(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY:
        _last_warning = now
        logger.warning("cache unavailable (%s: %s); serving without it", operation, exc)


class _ReusedClients(RedisCacheClient):
    """One redis.Redis per connection pool, not a new one per call: building one (its table of
    response callbacks) cost about as much as a round trip to Redis, several times a page."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class _Unavailable(RedisError):
    """Raised instead of calling Redis while the breaker is open."""


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        params = {**params}
        options = {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
            **params.get("OPTIONS", {}),
        }
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = _ReusedClients
        self._closed_at = 0.0  # monotonic time from which Redis is tried again

    @property
    def _cache(self):
        # Every operation of RedisCache goes through self._cache: while the breaker is open,
        # fail at once (each method below then answers as DummyCache would).
        if time.monotonic() < self._closed_at:
            raise _Unavailable("cache skipped for a few seconds after a failure")
        client = self.__dict__.get("_client")
        if client is None:
            client = self.__dict__["_client"] = self._class(self._servers, **self._options)
        return client

    def _failed(self, operation: str, exc: Exception) -> None:
        if not isinstance(exc, _Unavailable):
            self._closed_at = time.monotonic() + BREAK_FOR
            _warn(operation, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            self._failed("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            self._failed("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            self._failed("has_key", exc)
            return False

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            self._failed("add", exc)
            return True  # as DummyCache: allauth's rate-limit lock is "taken", not refused

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._failed("set", exc)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            self._failed("set_many", exc)
            return []

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            self._failed("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            self._failed("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as exc:
            self._failed("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            self._failed("incr", exc)
            raise ValueError(f"Key {key!r} not found (cache unavailable)") from exc

    def clear(self):
        try:
            return super().clear()
        except RedisError as exc:
            self._failed("clear", exc)
            return False
