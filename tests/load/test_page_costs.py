"""What a page view costs, independent of scale (the figures at scale: make bench)."""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mcnet.pagination import EstimatedCountPaginator, estimated_rows


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_a_page_view_is_not_a_session_write(client_as):
    client = client_as("user")
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client.get("/")
        with CaptureQueriesContext(connection) as quick:
            assert client.get("/").status_code == 200
        assert not [sql for sql in _writes(quick) if "django_session" in sql]
        # A minute later the idle expiry moves on (art. 11 (4)(5)): one write, then none.
        clock.shift(dt.timedelta(seconds=61))
        with CaptureQueriesContext(connection) as later:
            assert client.get("/").status_code == 200
        assert [sql for sql in _writes(later) if "django_session" in sql]


def test_idle_timeout_still_ends_a_session_that_refreshes_once_a_minute(client_as):
    client = client_as("user")
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert client.get("/").status_code == 200
        for _ in range(20):  # steady activity every 30 s keeps it alive for 10 minutes
            clock.shift(dt.timedelta(seconds=30))
            assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=16))  # then idle beyond the timeout
        response = client.get("/")
    assert response.status_code == 302


def test_admin_lists_count_small_tables_exactly(client_as, people):
    from django.db import connection

    from facilities.models import User

    if connection.vendor == "postgresql":
        # The estimate is PostgreSQL's statistics, which outlive a rolled-back test (the
        # directory test analyzes 200,000 rows it then rolls back): refresh them first.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE facilities_user")
    users = User.objects.all()
    paginator = EstimatedCountPaginator(users, 100)
    assert paginator.count == users.count()  # the demo is far below the estimate threshold
    # A filtered list is never estimated.
    assert estimated_rows(User.objects.filter(is_staff=True)) is None
    assert client_as("center").get("/admin/facilities/user/").status_code == 200


def test_a_signed_in_page_reads_the_user_once_and_the_session_from_the_cache(client_as):
    """Before its own content a page reads the user (with the center-staff flag and the unread
    count) and the user's role rows, once each; the session comes from the cache."""
    client = client_as("user")
    client.get("/groups/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/groups/").status_code == 200
    tables = [q["sql"] for q in captured.captured_queries]
    assert not [sql for sql in tables if "django_session" in sql]
    assert len([sql for sql in tables if 'FROM "facilities_user"' in sql]) == 1
    assert len([sql for sql in tables if 'FROM "facilities_facilityrole"' in sql]) == 1
    assert not [sql for sql in tables if sql.startswith('SELECT 1 AS "a" FROM "auth_group"')]
    assert not [sql for sql in tables if 'COUNT(*) AS "__count" FROM "mcnet_notification"' in sql]
