"""Fixtures every test area shares: the demo network, its people by role and its facilities,
and the one way a test signs a client in (`log_in`, and `client_as` for a demo role).

A directory's conftest.py holds only the fixtures of that area alone; objects a test makes are
in tests/factories.py, the demo's objects found by name in tests/demo_objects.py."""

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from facilities.models import Facility, User
from mcnet.demo import DEMO_PASSWORD, load_demo
from tests.demo_objects import DEMO_START
from tests.demo_snapshot import demo_network

# The people of the demo network, by the role they play in a permission check.
ROLE_EMAILS = {
    "user": "nurse@takada.example.jp",  # an ordinary MCS user at 高田
    "other_facility_user": "doctor@abc.example.jp",  # staff of another facility (ABC)
    "mcs_admin": "admin@takada.example.jp",  # 高田's MCS administrator
    "other_mcs_admin": "admin@abc.example.jp",  # ABC's MCS administrator
    "group_manager": "cm@kasugano.example.jp",  # care manager, patient-group manager
    "center": "center@example.jp",
}
# The roles that must use MFA (facilities.selectors.user_requires_mfa): the center, MCS
# administrators and facility managers (ABC's doctor is its facility manager).
ADMINISTRATOR_ROLES = (
    "center",
    "mcs_admin",
    "other_mcs_admin",
    "group_manager",
    "other_facility_user",
)


# `make test` runs the suite in two passes: first all but these on two pytest-xdist workers (each
# with its own database and Redis: mcnet/settings/test.py), then these alone, one at a time: the
# tests that start servers, workers or browsers of their own, fault the services, or hold a
# time limit (a hostile file refused within 2 s) that a busy neighbour would break.
SERIAL_PATHS = (
    "tests/e2e/",
    "tests/load/",
    "tests/test_deployment.py",
    "tests/mcnet/test_make_run.py",
    "tests/security/test_hostile_files.py",
    "tests/security/test_backup_restore.py",
)
SERIAL_MARKERS = {"e2e", "worker", "faults", "load"}
SERIAL_FIXTURES = {"celery_worker", "hung_redis_url", "live_server"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        if (
            path.startswith(SERIAL_PATHS)
            or SERIAL_MARKERS & {mark.name for mark in item.iter_markers()}
            or SERIAL_FIXTURES & set(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.serial)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache (network settings, rate-limit counters) outlives a test's rolled-back rows."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _broker_breaker_closed():
    """A publish that failed in one test (broker down on purpose) does not make the next test
    skip the broker (mcnet/jobs.py's circuit breaker is per process)."""
    from mcnet.jobs import broker_breaker_reset

    broker_breaker_reset()
    yield
    broker_breaker_reset()


@pytest.fixture
def demo(db):
    # The rows of a real load_demo(), replayed in a few statements (tests/demo_snapshot.py).
    return demo_network()


@pytest.fixture
def start(db):
    """The demo network as loaded at DEMO_START, for tests that travel on from there."""
    with time_machine.travel(DEMO_START, tick=False):
        load_demo()
    return DEMO_START


@pytest.fixture
def people(demo) -> dict[str, User]:
    return {role: User.objects.get(email=email) for role, email in ROLE_EMAILS.items()}


@pytest.fixture
def takada(demo) -> Facility:
    return demo["takada"]


@pytest.fixture
def abc(demo) -> Facility:
    return demo["abc"]


@pytest.fixture
def kasugano(demo) -> Facility:
    return demo["kasugano"]


@pytest.fixture
def media(settings, tmp_path):
    """Uploads and printed forms in this test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def password() -> str:
    return DEMO_PASSWORD


def activate_totp(user: User) -> str:
    """Give `user` a TOTP authenticator, as if they had set it up; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def log_in(client, user: User, *, mfa: bool):
    """The one way a test signs a Django test client in: as `user` as the account is now (a
    measure or role change since the object was read ended the sessions of the older
    User.session_epoch, facilities.services.sessions_end), with a TOTP authenticator set up
    first when `mfa` (administrators are otherwise sent to set one up). Returns the client.
    Like Django's login, it keeps the session of the same user (what it kept survives) and
    starts a new one for another."""
    user.refresh_from_db()
    if mfa and not Authenticator.objects.filter(user=user).exists():
        activate_totp(user)
    client.force_login(user)
    return client


@pytest.fixture
def client_as(client, people):
    """The test client logged in as one of the demo roles (administrators with MFA set up);
    may be called again, for the same role or another, within one test."""

    def login(role: str | None):
        client.logout()
        if role in (None, "anonymous"):
            return client
        return log_in(client, people[role], mfa=role in ADMINISTRATOR_ROLES)

    return login


from tests.hung import hung_redis_url  # noqa: E402, F401 — a Redis that hangs
from tests.worker import celery_worker  # noqa: E402, F401 — the shared real-worker fixture
