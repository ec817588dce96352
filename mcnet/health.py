from django.conf import settings
from kombu import Connection


def broker_status(timeout: float = 2.0) -> str:
    """'ok' when the Celery broker answers within `timeout` seconds."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return "ok"  # the demo runs tasks in-process; there is no broker to ask
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"
