"""A bounded load run on loopback: locust against gunicorn, no request may fail.

The longer runs, on the large generated network, are `make bench` (bench/README.md).
"""

import pytest

from bench.loadrun import run_locust
from facilities.models import User

from .conftest import existing_paths, session_keys

pytestmark = pytest.mark.load


def test_signed_in_pages_under_load_fail_no_request(portal_server):
    user = User.objects.get(email="nurse@takada.example.jp")
    paths = existing_paths(
        "home",
        "groups:list",
        "inbox",
        "facilities:directory",
        "consents:patient_list",
        "printing:index",
    )
    assert "/" in paths
    result = run_locust(
        portal_server.url, paths, sessions=session_keys(user, 6), users=6, seconds=8
    )
    assert result.failures == 0, result.errors
    # Something real was measured: dozens of answers at least, on every path.
    assert result.requests >= 10 * len(paths), result
    assert "Internal Server Error" not in portal_server.log()


def test_anonymous_pages_under_load_fail_no_request(portal_server):
    result = run_locust(
        portal_server.url, ["/accounts/login/", "/enrollment/apply/"], users=4, seconds=5
    )
    assert result.failures == 0, result.errors
    assert result.requests >= 20
