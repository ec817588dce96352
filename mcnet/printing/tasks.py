"""Celery tasks of the printed forms. They only call services; each is safe to run twice.

`render_document` goes to the "pdf" queue (CELERY_TASK_ROUTES "*.render_*"), acknowledged
late: a worker killed mid-render leaves the message to the broker, which hands it to the next
worker (redelivered); that run takes the document over. The sweep covers what the broker
cannot: a publish that failed while Redis was down, and a message lost with Redis.
"""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils.translation import gettext as _

from . import services

# Transient troubles (database restarting, disk full for a moment): retried with back-off.
TRANSIENT = (DatabaseError, OSError)
MAX_RETRIES = 3


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    time_limit=services.RENDER_TIME_LIMIT,
    soft_time_limit=services.RENDER_SOFT_TIME_LIMIT,
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
            % {"seconds": services.RENDER_SOFT_TIME_LIMIT},
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
        if self.request.retries >= MAX_RETRIES:
            services.document_fail(
                document_id=document_id,
                message=_(
                    "一時的な障害のため作成できませんでした（%(error)s）。もう一度お試しください。"
                )
                % {"error": exc.__class__.__name__},
            )
            return "failed: retries exhausted"
        services.document_requeue(document_id=document_id)
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def requeue_stalled_documents() -> dict:
    return services.documents_requeue_stalled()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def purge_old_documents() -> int:
    return services.documents_purge()
