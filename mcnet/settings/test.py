"""The test suite: PostgreSQL and Redis when DATABASE_URL / CELERY_BROKER_URL are set (CI)."""

import os
import re

_REDIS_URL = re.compile(r"(redis://[^/]+)/(\d+)")


def own_redis_databases(urls: dict[str, str], worker: int) -> dict[str, str]:
    """The Redis URLs `urls` (cache, broker) for pytest-xdist worker `worker`: each worker its
    own databases (a test empties its cache with FLUSHDB, and counts the queue), moved on by
    as many as the given ones span, times worker + 1 (CI's 0 and 1: the workers 2-3 and 4-5;
    4 and 6: 7 and 9, 10 and 12), so that no two workers', nor the one-at-a-time pass's, meet."""
    found = {name: _REDIS_URL.fullmatch(url) for name, url in urls.items()}
    numbers = [int(match[2]) for match in found.values() if match]
    if not numbers:
        return dict(urls)
    shift = (max(numbers) - min(numbers) + 1) * (worker + 1)
    if max(numbers) + shift > 15:  # Redis has 16 databases unless configured otherwise
        raise ValueError(f"{urls}: no Redis databases past 15 for pytest-xdist worker {worker}")
    return {
        name: f"{match[1]}/{int(match[2]) + shift}" if match else urls[name]
        for name, match in found.items()
    }


# Under pytest-xdist (make test), before base reads them. The worker processes and servers a
# test starts inherit the moved URLs, and the marker, so they are moved once only.
if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("MCNET_TEST_REDIS_OWN"):
    _given = {n: os.environ[n] for n in ("REDIS_URL", "CELERY_BROKER_URL") if os.environ.get(n)}
    _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    os.environ.update(own_redis_databases(_given, _worker))
    os.environ["MCNET_TEST_REDIS_OWN"] = "1"

from .base import *  # noqa: E402, F403
from .base import BASE_DIR, CELERY_BROKER_TRANSPORT_OPTIONS, MCNET_MAIL_CLAIM_SECONDS, env  # noqa: E402

SECRET_KEY = "test-secret-key-not-for-production-use-0123456789abcdef"  # noqa: S105
# A Celery worker started by a test writes its mail to files (EMAIL_FILE_PATH) the test reads.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "test-mail"))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests share one cache per process; Redis when REDIS_URL is given.
if not env("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Whitenoise serves from the finders here; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# tests/printing/test_worker.py: a pause inside the render task (between its claim and the
# rendering) so the test can kill the worker mid-render, and a short broker visibility timeout
# so the restarted worker gets the unacknowledged message back within seconds. Both are read
# from the environment the test gives the worker; production keeps base's values.
MCNET_RENDER_TEST_DELAY = float(env("MCNET_RENDER_TEST_DELAY", "0"))
# tests/mcnet/test_mail_faults.py: a pause after each message of a mail batch (so the test can
# kill the worker mid-batch) and short claims, so the sweep may take over within seconds.
MCNET_MAIL_TEST_DELAY = float(env("MCNET_MAIL_TEST_DELAY", "0"))
MCNET_MAIL_CLAIM_SECONDS = int(env("MCNET_MAIL_CLAIM_SECONDS", str(MCNET_MAIL_CLAIM_SECONDS)))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": int(
        env(
            "MCNET_TEST_VISIBILITY_TIMEOUT",
            str(CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]),
        )
    ),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
