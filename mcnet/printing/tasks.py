"""Celery tasks of the printed forms. They only call services; each is safe to run twice.

`render_document` goes to the "pdf" queue (CELERY_TASK_ROUTES "*.render_*"), acknowledged
late: a worker killed mid-render leaves the message to the broker, which hands it to the next
worker (redelivered); that run takes the document over. The sweep covers what the broker
cannot: a publish that failed while Redis was down, and a message lost with Redis.
"""

import logging

from celery import shared_task, signals
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError, OperationalError
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils.translation import gettext as _

from mcnet.jobs import job_task

from . import registry, renderer, services

logger = logging.getLogger(__name__)

# Lost connections (the database restarting, its connection cut) and a disk that is full for a
# moment go away by themselves: retried with exponential back-off (2, 4, 8, 16, 30, 30 s: a
# restart of a minute and a half is ridden out), then the document fails with the reason.
TRANSIENT = (OperationalError, InterfaceError, OSError)
MAX_RETRIES = 6
RETRY_BACKOFF_MAX = 30
# The render's limits (seconds): the soft one marks the document failed with the reason.
RENDER_SOFT_TIME_LIMIT = 150
RENDER_TIME_LIMIT = 180


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=False,
    max_retries=MAX_RETRIES,
    time_limit=RENDER_TIME_LIMIT,
    soft_time_limit=RENDER_SOFT_TIME_LIMIT,
)
def render_document(self, document_id: int) -> str:
    delivery = self.request.delivery_info or {}
    # A redelivered message means the run that claimed it before is gone (its worker died or
    # its time ran out: time_limit < the broker's visibility timeout); a retry is our own.
    takeover = bool(delivery.get("redelivered")) or self.request.retries > 0
    try:
        return services.document_render(document_id=document_id, takeover=takeover)
    except SoftTimeLimitExceeded:
        services.document_fail(
            document_id=document_id,
            message=_(
                "時間内に作成できませんでした（%(seconds)s 秒）。対象を減らしてお試しください。"
            )
            % {"seconds": RENDER_SOFT_TIME_LIMIT},
        )
        return "failed: time limit"
    except (TemplateSyntaxError, TemplateDoesNotExist, LookupError, TypeError, ValueError) as exc:
        # A fault in a form's template or data does not go away by trying again.
        services.document_fail(
            document_id=document_id,
            message=_(
                "帳票の作成中にエラーが発生しました（%(error)s）。センターにお知らせください。"
            )
            % {"error": f"{exc.__class__.__name__}: {exc}"[:300]},
        )
        return "failed: error"
    except TRANSIENT as exc:
        # The database may still be away: marking the document is best effort (the sweep
        # finds a document whose claim lapsed either way).
        if self.request.retries >= MAX_RETRIES:
            _quietly(
                services.document_fail,
                document_id=document_id,
                message=_(
                    "一時的な障害のため作成できませんでした（%(error)s）。もう一度お試しください。"
                )
                % {"error": exc.__class__.__name__},
            )
            return "failed: retries exhausted"
        _quietly(services.document_requeue, document_id=document_id)
        raise  # autoretry_for: queued again after the back-off


def _quietly(service, **kwargs) -> None:
    try:
        service(**kwargs)
    except DatabaseError:
        pass


@job_task(time_limit=60, soft_time_limit=50)
def requeue_stalled_documents() -> dict:
    return services.documents_requeue_stalled()


@job_task(time_limit=600, soft_time_limit=540)
def purge_old_documents() -> int:
    return services.documents_purge()


# --- a warm renderer in every process that renders ----------------------------------------
# The first render of a process loads the fonts (copies IPAex and IPAmj, registers them with
# fontconfig), reads the fonts' character tables and compiles the templates: a second or more
# that the first document would wait for, again in every child that --max-tasks-per-child
# replaces. Paid when the process starts instead. Never before a fork: a forked child would
# share the parent's open font files (docker-compose.yml's worker is prefork).


def _warm_renderer() -> None:
    try:
        renderer.warm_up(spec.template for spec in registry.registry().values())
    except Exception:  # a missing font is reported by the task that needs it, with the reason
        logger.warning("could not prepare the PDF renderer", exc_info=True)


@signals.worker_process_init.connect  # each prefork child; the solo pool's own process
def _warm_worker_process(**kwargs) -> None:
    _warm_renderer()
