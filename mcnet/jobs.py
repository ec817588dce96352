"""Queueing Celery tasks: after the commit, and never failing the request when Redis is down.

A task whose publish fails stays recorded by its caller (an outbox row, a document in state
"queued"); the periodic sweeps queue it again once the broker answers (Redis stopped
while a user asks for a PDF must not give a 500).

A broker that hangs (frozen, not down) costs a publish its socket timeout
(CELERY_BROKER_TRANSPORT_OPTIONS); after one failure this process stops trying for BREAK_FOR
seconds (a circuit breaker), so a hung Redis delays a request by a second or two at most, once,
instead of every request waiting in turn.
"""

import logging
import time

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Seconds without publishing after a failed publish (the sweeps queue what was skipped).
BREAK_FOR = 5.0
_broker_skipped_until = 0.0


def enqueue(task, *args, **kwargs) -> bool:
    """Publish now; False (and a log line) when the broker cannot be reached."""
    global _broker_skipped_until
    if time.monotonic() < _broker_skipped_until:
        logger.info("broker failed moments ago; %s%s left to the sweep", task.name, args)
        return False
    try:
        # One attempt (the transport's max_retries is 0): a pooled connection that a Redis
        # restart broke is replaced by redis-py on the spot; a hung Redis costs one socket
        # timeout. Retrying would only multiply the wait of the request.
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception:  # kombu raises several kinds; any of them means "not queued yet"
        _broker_skipped_until = time.monotonic() + BREAK_FOR
        logger.warning("could not queue %s%s; the sweep will retry", task.name, args, exc_info=True)
        return False
    return True


def broker_breaker_reset() -> None:
    """Try the broker again on the next publish (tests; a process that knows it is back)."""
    global _broker_skipped_until
    _broker_skipped_until = 0.0


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Publish once the current transaction commits (never inside it: ARCHITECTURE.md)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))


def broker_forgot(marker: str) -> bool:
    """True when the broker lost its data since the last call with this `marker` (Redis
    restarted without its files, flushed): every message it held is gone, and the sweep that
    asks should publish again what it had published. Each sweep asks with its own marker.

    The marker is a key kept in the broker's own Redis: it goes exactly when the messages go.
    The first call ever says True too (nothing to compare with: publishing again is harmless,
    the tasks are idempotent). False when the broker cannot be asked, or is not Redis.
    """
    url = settings.CELERY_BROKER_URL or ""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or not url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        return False
    client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        return bool(client.set(f"mcnet:broker-marker:{marker}", "1", nx=True))
    except redis.RedisError:
        return False
    finally:
        client.close()


def job_task(function=None, *, time_limit: int = 300, soft_time_limit: int = 240, **options):
    """The decorator of a periodic job's task (beat), `@job_task` or `@job_task(time_limit=…)`:
    acknowledged late, so a worker lost mid-run leaves the message to the next one (every job
    is safe to repeat), and bounded in time, the soft limit first. The task keeps its name
    (module and function, or `name=`): beat's saved schedule and queued messages use it."""
    decorator = shared_task(
        acks_late=True, time_limit=time_limit, soft_time_limit=soft_time_limit, **options
    )
    return decorator(function) if function is not None else decorator
