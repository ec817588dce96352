"""The portal under gunicorn on loopback, serving the test database, for the load and fault tests.

Needs PostgreSQL (gunicorn's workers are other processes and see only committed rows), so
it skips without DATABASE_URL, like the real Celery worker fixture.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse

from bench.loadrun import Gunicorn
from mcnet.demo import load_demo


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def session_keys(user, count: int) -> list[str]:
    """`count` separate signed-in sessions of `user` (committed: gunicorn reads them)."""
    keys = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        keys.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return keys


def existing_paths(*names: str) -> list[str]:
    paths = []
    for name in names:
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return paths


@pytest.fixture
def portal_server(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("gunicorn's workers need a shared database: set DATABASE_URL (CI does)")
    load_demo()
    log = Path(tempfile.mkstemp(prefix="gunicorn-test-", suffix=".log")[1])
    server = Gunicorn(
        {
            "DJANGO_SETTINGS_MODULE": "mcnet.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        },
        workers=2,
        log=log,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if os.environ.get("CI") is None:
            log.unlink(missing_ok=True)
