"""Queueing Celery tasks: after the commit, and never failing the request when Redis is down.

A task whose publish fails stays recorded by its caller (an outbox row, a document in state
"queued"); the periodic sweeps queue it again once the broker answers (issue 9: Redis stopped
while a user asks for a PDF must not give a 500).
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

# Publishing gives up quickly: the row that describes the work is already committed.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def enqueue(task, *args, **kwargs) -> bool:
    """Publish now; False (and a log line) when the broker cannot be reached."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=_RETRY_POLICY)
    except Exception:  # kombu raises several kinds; any of them means "not queued yet"
        logger.warning("could not queue %s%s; the sweep will retry", task.name, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Publish once the current transaction commits (never inside it: ARCHITECTURE.md)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
