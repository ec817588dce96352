"""What /healthz checks: the database, the Celery broker and the cache, each bounded in time.

A dependency that hangs (a frozen Redis or PostgreSQL accepts connections and never answers)
must not hang the answer: each check runs in its own thread and is reported "timeout" when it
has not answered by the deadline. A check still hanging from an earlier call is not started
again (its thread is busy), so a hung service costs one thread per kind, never one per call.
"""

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import redis
from django.conf import settings
from django.db import connections
from kombu import Connection

logger = logging.getLogger(__name__)

# The whole answer within 2 s (docker's healthcheck, a load balancer's probe): the checks
# share this deadline; Redis is asked with a socket timeout a little shorter.
DEADLINE = 1.5
REDIS_TIMEOUT = 1.0

OK, DOWN, TIMEOUT = "ok", "down", "timeout"


def _database(alias: str) -> str:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return OK
    finally:
        # This thread's own connection: closed, so a restarted server finds no stale one.
        connection.close()


def _redis_ping(url: str) -> str:
    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()
    return OK


def _broker(url: str) -> str:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _redis_ping(url)
    with Connection(
        url,
        connect_timeout=REDIS_TIMEOUT,
        transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=REDIS_TIMEOUT)
    return OK


def _always_ok(target: str) -> str:
    return OK


def _checks() -> dict:
    """{name: (check, what it asks)}; what it asks keys the threads, so a hung check of one
    server does not answer for another."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        broker = (_always_ok, "eager")  # the demo runs tasks in-process: no broker to ask
    else:
        broker = (_broker, settings.CELERY_BROKER_URL)
    cache = settings.CACHES["default"]
    if "redis" in cache["BACKEND"].lower():
        location = cache["LOCATION"]
        location = location[0] if isinstance(location, list | tuple) else location
        cache_check = (_redis_ping, location)
    else:
        cache_check = (_always_ok, "memory")  # a per-process memory cache cannot be down
    return {"database": (_database, "default"), "broker": broker, "cache": cache_check}


_lock = threading.Lock()
_executors: dict[tuple, ThreadPoolExecutor] = {}
_running: dict[tuple, Future] = {}


def _submit(name: str, check, target: str) -> Future:
    key = (name, target)
    with _lock:
        running = _running.get(key)
        if running is not None and not running.done():
            return running  # still hanging from an earlier call: do not pile up threads
        executor = _executors.get(key)
        if executor is None:
            executor = _executors[key] = ThreadPoolExecutor(1, thread_name_prefix=f"health-{name}")
        future = _running[key] = executor.submit(check, target)
        return future


def check_all(deadline: float = DEADLINE) -> dict[str, str]:
    """{"database": "ok" | "down" | "timeout", "broker": …, "cache": …} within `deadline` s."""
    started = time.monotonic()
    futures = {name: _submit(name, *check) for name, check in _checks().items()}
    results = {}
    for name, future in futures.items():
        remaining = max(0.0, deadline - (time.monotonic() - started))
        try:
            results[name] = future.result(timeout=remaining)
        except TimeoutError:
            results[name] = TIMEOUT
        except Exception as exc:
            # The cause goes to the log, never into the answer: strangers learn nothing of the system.
            logger.warning("health check %s failed: %s: %s", name, exc.__class__.__name__, exc)
            results[name] = DOWN
    return results
