"""The test suite: PostgreSQL and Redis when DATABASE_URL / CELERY_BROKER_URL are set (CI)."""

import os
import re


def _own_redis_database(url: str, worker: int) -> str:
    """`url` moved 2 * (worker + 1) Redis databases on: each pytest-xdist worker its own
    cache and broker (a test empties its cache with FLUSHDB, and counts the queue), with the
    cache's database next to the broker's (CI: 0 and 1; the workers 2-3 and 4-5)."""
    found = re.fullmatch(r"(redis://[^/]+)/(\d+)", url)
    if not found:
        return url
    database = int(found[2]) + 2 * (worker + 1)
    if database > 15:  # Redis has 16 databases unless configured otherwise
        raise ValueError(f"{url}: no Redis database {database} for pytest-xdist worker {worker}")
    return f"{found[1]}/{database}"


# Under pytest-xdist (make test), before base reads them. The worker processes and servers a
# test starts inherit the moved URLs, and the marker, so they are moved once only.
if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("MCNET_TEST_REDIS_OWN"):
    _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    for _name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if os.environ.get(_name):
            os.environ[_name] = _own_redis_database(os.environ[_name], _worker)
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
