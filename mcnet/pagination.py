"""Counting for the admin's change lists at network scale (a million groups: make bench).

The admin paginator counts every row on every page view (`SELECT COUNT(*)`, over a join and
a GROUP BY when the list annotates): seconds on a million groups. An unfiltered list takes
PostgreSQL's own estimate of the table size instead (pg_class.reltuples, kept by autovacuum
and ANALYZE); a filtered or searched list is still counted exactly.

Lists that are too long to count even when filtered are paged without a count (UncountedPage).
"""

from dataclasses import dataclass

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


# Pages past this are refused (read as the last one): each page further reads more rows.
MAX_PAGE = 10_000


def page_number(value) -> int:
    """The `page` parameter as a page number: 1 for anything that is not one."""
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


@dataclass
class UncountedPage:
    """One page of a list too long to count (a million groups, the audit trail): its rows and
    whether more follow, known from one extra row, so page 1 costs the same on a million rows
    as on ten. The pager shows 前へ / 次へ, never a total."""

    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def uncounted_page(rows, number: int, per_page: int) -> UncountedPage:
    """Page `number` (from 1) of `rows`, an ordered queryset, read with LIMIT per_page + 1."""
    start = (number - 1) * per_page
    chunk = list(rows[start : start + per_page + 1])
    return UncountedPage(chunk[:per_page], number, len(chunk) > per_page)


def requested_page(request, rows, per_page: int) -> UncountedPage:
    """The page of `rows` a list's `page` parameter asks for (1 for anything else)."""
    return uncounted_page(rows, page_number(request.GET.get("page")), per_page)
