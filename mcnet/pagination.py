"""Counting for the admin's change lists at network scale (issue 9, make bench).

The admin paginator counts every row on every page view (`SELECT COUNT(*)`, over a join and
a GROUP BY when the list annotates): seconds on a million groups. An unfiltered list takes
PostgreSQL's own estimate of the table size instead (pg_class.reltuples, kept by autovacuum
and ANALYZE); a filtered or searched list is still counted exactly.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this, counting is cheap and exact numbers are nicer.
ESTIMATE_ABOVE = 10_000


def estimated_rows(queryset) -> int | None:
    """PostgreSQL's estimate of the rows of an unfiltered queryset's table, else None."""
    query = getattr(queryset, "query", None)
    if query is None or query.where or query.distinct or query.combinator:
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self):
        estimate = estimated_rows(self.object_list)
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return estimate
        return super().count
