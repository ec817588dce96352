"""Every figure of the center's dashboard, computed in the database with grouped queries.

Each figure is one aggregate query (GROUP BY, or COUNT … FILTER), so the dashboard runs the
same number of queries for three facilities as for twenty thousand. The largest counts (groups
per facility, kind and state; facilities and accounts; groups, consents, accounts and
facilities created per month, groups archived; the working staff, those without a pledge and
those educated per day; the working patient groups per day of their review base; the MCS
administrators per facility) are read from tallies PostgreSQL keeps in the writers'
transactions (mcnet.dashboard.models) — the due and overdue reviews as the whole days before
each line from the tally and the groups within the line's own day off a partial index —, and
the per-facility tables are added up and ordered in the database (_added_up). Beat still
computes the figures every few minutes into the cache, once for every language, and the page
says when they were computed (cached_dashboard); what waits for the center is counted on every
view. The lists behind the numbers (`*_list` below) use the very same conditions as the counts,
so a number and the list it links to always agree.

Counts only: nothing here loads a patient's name, birth date or address (別紙5 (2)); the
consent and review lists name a record by its id and its facility.
"""

import datetime as dt
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMonth
from django.utils import timezone, translation
from django.utils.translation import get_language

from consents.models import Consent
from devices.models import Device, IncidentReport, check_overdue_q
from devices.selectors import check_cutoff
from enrollment.models import Application, ChangeNotice, RosterRequest
from facilities.models import (
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    Occupation,
    StaffPledge,
    User,
    fiscal_year_start,
)
from groups.models import Group, SupporterReview
from groups.selectors import ReviewClock, reviewed_groups
from mcnet.models import NetworkSettings

from .models import (
    AdminTally,
    EducationTally,
    FacilityTally,
    GroupTally,
    HourTally,
    ReviewTally,
    StaffTally,
    UserTally,
)

MONTHS = 12  # the monthly charts show the last twelve months, this one included
TOP_FACILITIES = 20  # facilities listed on the dashboard itself; the full lists are a click away


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """One calendar month in the network's time zone: [start, end)."""

    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> tuple[int, int]:
        return (self.start.year, self.start.month)

    @property
    def first_day(self) -> dt.date:
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        return (self.end - dt.timedelta(days=1)).date()

    @property
    def param(self) -> str:
        return f"{self.start:%Y-%m}"


def month_of(year: int, month: int) -> Month:
    start = timezone.make_aware(dt.datetime(year, month, 1))
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return Month(start, timezone.make_aware(dt.datetime(next_year, next_month, 1)))


def last_months(now: dt.datetime | None = None, count: int = MONTHS) -> list[Month]:
    """The last `count` calendar months, oldest first, the current one last."""
    local = timezone.localtime(now or timezone.now())
    index = local.year * 12 + local.month - 1
    return [month_of(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def parse_month(value: str) -> Month | None:
    """'2026-03' -> that month; None for anything else."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return month_of(year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None
    except ValueError:
        return None


def _per_month(queryset: QuerySet, field_name: str, months: list[Month], *, dates=False) -> dict:
    """(year, month) -> number of rows whose `field_name` falls in that month (one query)."""
    low, high = months[0].start, months[-1].end
    if dates:  # a DateField: compare with days, not instants
        low, high = low.date(), high.date()
    rows = (
        queryset.filter(**{f"{field_name}__gte": low, f"{field_name}__lt": high})
        .annotate(month=TruncMonth(field_name))
        .values("month")
        .annotate(n=Count("*"))  # not COUNT(id): an index on the field alone answers it
        .order_by()
    )
    counts: dict[tuple[int, int], int] = {}
    for row in rows:
        key = (row["month"].year, row["month"].month)
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def tallied() -> bool:
    """The tallies are kept by PostgreSQL's triggers (mcnet.dashboard.models); elsewhere the
    figures count the rows themselves."""
    return connection.vendor == "postgresql"


def _whole_hours(months: list[Month]) -> bool:
    bounds = [m.start for m in months] + [months[-1].end]
    return all(b.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) == b for b in bounds)


def created_per_month(months: list[Month]) -> dict[str, dict] | None:
    """Rows created per month for each series of the hourly tally (groups created and archived,
    consents, accounts, facilities), all read in one query — a few thousand tally rows, where counting them read half a million
    — or None where they must be counted: without the tallies, or when a month of the network's
    time zone does not start on a whole UTC hour (Asia/Tokyo's do)."""
    if not (tallied() and _whole_hours(months)):
        return None
    rows = (
        HourTally.objects.filter(
            Q(series=HourTally.GROUPS_CREATED, kind__in=NEW_GROUP_KINDS)
            | Q(
                series__in=[
                    HourTally.CONSENTS_RECORDED,
                    HourTally.USERS_JOINED,
                    HourTally.FACILITIES_JOINED,
                    HourTally.GROUPS_ARCHIVED,
                ],
                kind="",
            ),
            hour__gte=months[0].start,
            hour__lt=months[-1].end,
        )
        .annotate(month=TruncMonth("hour"))
        .values("series", "month")
        .annotate(total=Sum("n"))
        .order_by()
    )
    created: dict[str, dict] = {
        series: {}
        for series in (
            HourTally.GROUPS_CREATED,
            HourTally.CONSENTS_RECORDED,
            HourTally.USERS_JOINED,
            HourTally.FACILITIES_JOINED,
            HourTally.GROUPS_ARCHIVED,
        )
    }
    for row in rows:
        created[row["series"]][(row["month"].year, row["month"].month)] = row["total"]
    return created


def _created(created, series: str, queryset: QuerySet, field_name: str, months) -> dict:
    """One series of created_per_month(), or the rows counted when there is none."""
    if created is None:
        return _per_month(queryset, field_name, months)
    return created[series]


@dataclass
class MonthlySeries:
    """Counts per month for several named series (e.g. new facilities and new users)."""

    months: list[Month]
    series: dict[str, list[int]]

    def rows(self) -> list[tuple[Month, dict[str, int]]]:
        return [
            (month, {name: values[i] for name, values in self.series.items()})
            for i, month in enumerate(self.months)
        ]

    def total(self, name: str) -> int:
        return sum(self.series[name])


def _series(months: list[Month], **counts: dict) -> MonthlySeries:
    return MonthlySeries(
        months, {name: [c.get(m.key, 0) for m in months] for name, c in counts.items()}
    )


# --- tables of counts (kind x state, occupation x state) -----------------------------------------


@dataclass
class MatrixRow:
    value: str
    label: str  # lazy until Matrix.labelled() (the figures are computed once for every language)
    cells: list[int]

    @property
    def total(self) -> int:
        return sum(self.cells)


@dataclass
class Matrix:
    """Counts by one field (rows) and another (columns), every choice shown, zeros included."""

    rows: list[MatrixRow]
    columns: list[tuple[str, str]]

    @property
    def column_totals(self) -> list[int]:
        return [sum(row.cells[i] for row in self.rows) for i in range(len(self.columns))]

    @property
    def total(self) -> int:
        return sum(self.column_totals)

    def labelled(self) -> "Matrix":
        """The same counts with their labels in the active language."""
        return Matrix(
            [MatrixRow(row.value, str(row.label), row.cells) for row in self.rows],
            [(value, str(label)) for value, label in self.columns],
        )


def _counts_matrix(counts: dict, row_choices, col_choices) -> Matrix:
    columns = [(str(value), label) for value, label in col_choices]
    rows = [
        MatrixRow(value, label, [counts.get((value, col), 0) for col, _label in columns])
        for value, label in row_choices
    ]
    return Matrix(rows, columns)


def _matrix(queryset: QuerySet, row_field: str, row_choices, col_field: str, col_choices):
    counts = {
        (r[row_field], r[col_field]): r["n"]
        for r in queryset.values(row_field, col_field).annotate(n=Count("pk")).order_by()
    }
    return _counts_matrix(counts, row_choices, col_choices)


def facilities_by_kind_and_state() -> Matrix:
    if not tallied():
        return _matrix(
            Facility.objects.all(), "kind", Facility.Kind.choices, "state", Facility.State.choices
        )
    counts = {
        (kind, state): n
        for kind, state, n in FacilityTally.objects.values_list("kind", "state", "n")
    }
    return _counts_matrix(counts, Facility.Kind.choices, Facility.State.choices)


def users_by_occupation() -> Matrix:
    """Every account by 職種 and state (the center's own staff included, as 「センター職員」)."""
    if not tallied():
        return _matrix(
            User.objects.all(), "occupation", Occupation.choices, "state", User.State.choices
        )
    counts = {
        (occupation, state): n
        for occupation, state, n in UserTally.objects.values_list("occupation", "state", "n")
    }
    return _counts_matrix(counts, Occupation.choices, User.State.choices)


def new_facilities_and_users(months: list[Month], created=False) -> MonthlySeries:
    """`created`: created_per_month(months), when the caller has read it already."""
    created = created_per_month(months) if created is False else created
    return _series(
        months,
        facilities=_created(
            created, HourTally.FACILITIES_JOINED, Facility.objects.all(), "created_at", months
        ),
        users=_created(created, HourTally.USERS_JOINED, User.objects.all(), "date_joined", months),
    )


# --- groups and consents -----------------------------------------------------------------------

# The groups the monthly chart counts as "new": patient and free groups (the all-users group is
# one row made when the network is set up).
NEW_GROUP_KINDS = (Group.Kind.PATIENT, Group.Kind.FREE)


@dataclass
class GroupCounts:
    patient_active: int
    patient_to_be_archived: int
    free_active: int
    archived: int


# The groups the dashboard counts, by what GroupCounts calls them.
GROUP_COUNT_FILTERS = {
    "patient_active": Q(kind=Group.Kind.PATIENT, state=Group.State.ACTIVE),
    "patient_to_be_archived": Q(kind=Group.Kind.PATIENT, state=Group.State.TO_BE_ARCHIVED),
    "free_active": Q(kind=Group.Kind.FREE, state=Group.State.ACTIVE),
    "archived": Q(state=Group.State.ARCHIVED),
}


def group_counts() -> GroupCounts:
    # From the tallies the triggers keep (PostgreSQL), else counted from the groups.
    if tallied():
        counts = GroupTally.objects.aggregate(
            **{name: Sum("n", filter=rule) for name, rule in GROUP_COUNT_FILTERS.items()}
        )
    else:
        counts = Group.objects.aggregate(
            **{name: Count("pk", filter=rule) for name, rule in GROUP_COUNT_FILTERS.items()}
        )
    return GroupCounts(**{name: n or 0 for name, n in counts.items()})


def new_groups() -> QuerySet[Group]:
    return Group.objects.filter(kind__in=NEW_GROUP_KINDS)


def archived_groups() -> QuerySet[Group]:
    return Group.objects.filter(state=Group.State.ARCHIVED)


def groups_per_month(months: list[Month], created=False) -> MonthlySeries:
    created = created_per_month(months) if created is False else created
    return _series(
        months,
        created=_created(created, HourTally.GROUPS_CREATED, new_groups(), "created_at", months),
        archived=_created(
            created, HourTally.GROUPS_ARCHIVED, archived_groups(), "archived_at", months
        ),
    )


# Consents: "recorded" is every consent entered that month (also one later marked as entered in
# error: it was recorded); "withdrawn" counts by the date of withdrawal (別紙5: any time).
CONSENT_MEASURES = {
    "recorded": ("recorded_at", False),
    "withdrawn": ("withdrawn_on", True),
}


def consents_measured(what: str) -> QuerySet[Consent]:
    if what == "withdrawn":
        return Consent.objects.filter(status=Consent.Status.INACTIVE, withdrawn_on__isnull=False)
    return Consent.objects.all()


def consents_per_month(months: list[Month], created=False) -> MonthlySeries:
    created = created_per_month(months) if created is False else created
    recorded = consents_measured("recorded")
    return _series(
        months,
        recorded=_created(created, HourTally.CONSENTS_RECORDED, recorded, "recorded_at", months),
        withdrawn=_per_month(consents_measured("withdrawn"), "withdrawn_on", months, dates=True),
    )


def consent_list(what: str, first: Month, last: Month | None = None) -> QuerySet:
    """The consents behind a monthly number (months `first`..`last`): id, state, dates and the
    registering facility — values only, the patient row is never loaded (別紙5 (2))."""
    name, dates = CONSENT_MEASURES[what]
    last = last or first
    low, high = (first.start, last.end)
    if dates:
        low, high = low.date(), high.date()
    return (
        consents_measured(what)
        .filter(**{f"{name}__gte": low, f"{name}__lt": high})
        .values(
            "pk",
            "status",
            "signed_on",
            "recorded_at",
            "withdrawn_on",
            "patient__facility_id",
            "patient__facility__name",
        )
        .order_by(name, "pk")
    )


# --- supporter reviews (留意事項 1) ------------------------------------------------------------

REVIEW_STATES = ("ok", "due", "overdue")


def reviews_with_deadline(clock: ReviewClock) -> QuerySet[SupporterReview]:
    """Reviews of patient groups, each with the deadline it answered: the review before it (or
    the group's creation) plus the interval. On time when done by that deadline."""
    previous = SupporterReview.objects.filter(
        group_id=OuterRef("group_id"), reviewed_at__lt=OuterRef("reviewed_at")
    ).order_by("-reviewed_at")
    return SupporterReview.objects.filter(group__kind=Group.Kind.PATIENT).annotate(
        deadline=ExpressionWrapper(
            Coalesce(Subquery(previous.values("reviewed_at")[:1]), F("group__created_at"))
            + clock.interval,
            output_field=DateTimeField(),
        )
    )


ON_TIME = Q(reviewed_at__lte=F("deadline"))

# Above this many facilities, every name is read (one pass over the facilities) rather than a
# list of ids sent to the database.
NAMES_BY_ID_UP_TO = 500


def facility_names(ids) -> dict[int, str]:
    """The names of the facilities `ids` (None, for rows without a facility, is left out)."""
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return {}
    facilities = Facility.objects.all()
    if len(ids) <= NAMES_BY_ID_UP_TO:
        facilities = facilities.filter(pk__in=ids)
    return dict(facilities.values_list("pk", "name"))


# A figure per facility is added up from several sources — counts, tallies, corrections of
# them —, each giving rows of a facility's id (`facility_pk`) and the figure's columns.


def _rows_of(queryset: QuerySet, columns: tuple[str, ...], **values) -> QuerySet:
    """`queryset` as rows of (facility_pk, *columns): the given values, zeros for the rest.
    Integers throughout: sums of bigints would be numerics, slower to add up."""
    zero = Value(0, output_field=IntegerField())
    return queryset.annotate(**{column: values.get(column, zero) for column in columns}).values(
        "facility_pk", *columns
    )


def _counts_of(queryset: QuerySet, facility: str, columns: tuple[str, ...], **counts) -> QuerySet:
    """Per facility (the field `facility` of `queryset`), the `counts` (aggregates)."""
    grouped = queryset.values(facility_pk=F(facility)).order_by()
    return _rows_of(
        grouped,
        columns,
        **{name: Cast(count, output_field=IntegerField()) for name, count in counts.items()},
    )


@dataclass
class PerFacility:
    rows: list[tuple]  # (facility id, *columns[, name]) of the facilities shown, in order
    totals: list[int]  # each column over the whole network
    count: int  # facilities with any figure not zero


def _added_up(
    sources: list[QuerySet],
    columns: tuple[str, ...],
    *,
    order_by: str,
    limit: int | None,
    named: bool = False,
) -> PerFacility:
    """The sources added up per facility, in the database, in one query whatever the number of
    facilities (make bench: 20,000): the facilities with any figure not zero in `order_by`
    (SQL over the columns), then by name when `named`, the first `limit` of them (all without
    one), with the network's totals and their number. Names are read only for the facilities
    that can be among the first `limit` (ties with the last included): reading 20,000 cost
    more than the figures."""
    parts, params = [], []
    for queryset in sources:
        sql, query_params = queryset.query.sql_with_params()
        # Django's own compiled SQL; the values travel separately as parameters.
        parts.append(f"SELECT facility_pk, {', '.join(columns)} FROM ({sql}) AS source")  # noqa: S608
        params.extend(query_params)
    listed = ", ".join(columns)
    sums = ", ".join(f"sum({column}) AS {column}" for column in columns)
    totals = ", ".join(f"sum({column})" for column in columns)
    any_figure = " OR ".join(f"{column} <> 0" for column in columns)
    # The totals by one aggregate, the first `limit` by a bounded sort: ranking (or a window
    # over) 20,000 facilities sorted them all, and cost more than adding them up.
    first = ""
    if limit and not (named and connection.vendor != "postgresql"):
        # SQLite (make run) has no WITH TIES: there every facility is named (a demo's few).
        first = " FETCH FIRST %s ROWS WITH TIES" if named else " LIMIT %s"
        params.append(limit)
    name, by_name = "", ""
    if named:
        table = Facility._meta.db_table
        name = f", COALESCE((SELECT name FROM {table} WHERE id = facility_pk), '') AS name"  # noqa: S608
        by_name = ", name"
    sql = (
        f"WITH per_facility AS (SELECT facility_pk, {sums}"  # noqa: S608
        f" FROM ({' UNION ALL '.join(parts)}) AS added GROUP BY facility_pk)"
        f" SELECT facility_pk, {listed}{name}, totals.*"
        f" FROM (SELECT * FROM per_facility WHERE {any_figure} ORDER BY {order_by}{first})"
        f" AS shown, (SELECT count(*), {totals} FROM per_facility WHERE {any_figure}) AS totals"
        f" ORDER BY {order_by}{by_name}, facility_pk"
    )
    if limit and named:  # the ties at the last place, named, and ordered by name
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return PerFacility([], [0] * len(columns), 0)
    width = 1 + len(columns) + named
    return PerFacility(
        [row[:width] for row in rows], [int(n) for n in rows[0][width + 1 :]], rows[0][width]
    )


@dataclass
class FacilityCompliance:
    facility_id: int | None
    name: str
    groups: int = 0
    due: int = 0
    overdue: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def ok(self) -> int:
        return self.groups - self.due - self.overdue

    @property
    def on_time_rate(self) -> int | None:
        """Per cent of the period's reviews done on time (None without any review)."""
        done = self.on_time + self.late
        return round(100 * self.on_time / done) if done else None


@dataclass
class Compliance:
    since: dt.datetime
    until: dt.datetime
    totals: FacilityCompliance
    facilities: list[FacilityCompliance]  # worst first
    facility_count: int  # facilities with patient groups or reviews


COMPLIANCE_COLUMNS = ("groups", "due", "overdue", "on_time", "late")


def review_compliance(
    *, now: dt.datetime | None = None, since=None, limit: int | None = None
) -> Compliance:
    """Per facility: its working patient groups by review state now (ok, due, overdue) and the
    reviews done since `since` (default: twelve months back) on time or late; the worst
    first (most overdue, due, late), then by name. One query, and the names with it."""
    clock = ReviewClock.at(now)
    since = since or last_months(clock.now)[0].start
    done = reviews_with_deadline(clock).filter(reviewed_at__gte=since, reviewed_at__lt=clock.now)
    sources = [
        *_review_state_sources(clock),
        _counts_of(
            done,
            "group__facility_id",
            COMPLIANCE_COLUMNS,
            on_time=Count("pk", filter=ON_TIME),
            late=Count("pk", filter=~ON_TIME),
        ),
    ]
    added = _added_up(
        sources,
        COMPLIANCE_COLUMNS,
        order_by="overdue DESC, due DESC, late DESC",
        limit=limit,
        named=True,
    )
    facilities = [FacilityCompliance(row[0], row[-1], *row[1:-1]) for row in added.rows]
    return Compliance(
        since, clock.now, FacilityCompliance(None, "", *added.totals), facilities, added.count
    )


def _review_state_sources(clock: ReviewClock) -> list[QuerySet]:
    """Per facility: working patient groups, due, overdue.

    With the tallies: the groups from the facility's group tally; those whose review base is
    before a line (overdue: before now - interval; due or overdue: before the due line) are the
    whole UTC days before the line's day from the review tally, and the groups counted within
    that day only, off the index on (review base, facility). Due is the one line less the
    other: [line's day start, due line) counted in, [line's day start, overdue line) out."""
    due, overdue = (Count("created_at", filter=clock.state_q(s)) for s in ("due", "overdue"))
    if not tallied():
        return [
            _counts_of(
                reviewed_groups(),
                "facility_id",
                COMPLIANCE_COLUMNS,
                groups=Count("pk"),
                due=due,
                overdue=overdue,
            )
        ]
    working = GroupTally.objects.filter(
        kind=Group.Kind.PATIENT, state=Group.State.ACTIVE, n__gt=0
    ).annotate(facility_pk=NullIf(F("facility_id"), Value(0)))  # 0: a group of no facility
    overdue_day, due_day = (_utc_day(line) for line in (clock.overdue_before, clock.due_before))
    days = ReviewTally.objects.annotate(facility_pk=NullIf(F("facility_id"), Value(0)))

    def within_day(line: dt.datetime, **counts) -> QuerySet:
        # created_at (never null), not the id: the index holds it, not the id.
        in_day = reviewed_groups().filter(
            review_base__gte=_day_start(_utc_day(line)), review_base__lt=line
        )
        return _counts_of(in_day, "facility_id", COMPLIANCE_COLUMNS, **counts)

    return [
        _rows_of(working, COMPLIANCE_COLUMNS, groups=Cast(F("n"), output_field=IntegerField())),
        _rows_of(days.filter(day__lt=overdue_day), COMPLIANCE_COLUMNS, overdue=F("n")),
        _rows_of(
            days.filter(day__gte=overdue_day, day__lt=due_day), COMPLIANCE_COLUMNS, due=F("n")
        ),
        within_day(clock.overdue_before, overdue=Count("created_at"), due=-Count("created_at")),
        within_day(clock.due_before, due=Count("created_at")),
    ]


def _utc_day(moment: dt.datetime) -> dt.date:
    """The UTC day ReviewTally files an instant under."""
    return moment.astimezone(dt.UTC).date()


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def review_group_list(state: str | None, *, facility_id=None, now=None) -> QuerySet:
    """The working patient groups behind a compliance number (all of them for `state` None) —
    by id, never by name."""
    clock = ReviewClock.at(now)
    groups = reviewed_groups()
    if state:
        groups = groups.filter(clock.state_q(state))
    if facility_id is not None:
        groups = groups.filter(facility_id=facility_id)
    return groups.values(
        "pk",
        "created_at",
        "last_reviewed_at",
        "review_base",
        "facility_id",
        "facility__name",
        "manager__name",
        "manager__email",
    ).order_by("review_base", "pk")


def review_list(on_time: bool, *, facility_id=None, since=None, now=None) -> QuerySet:
    """The reviews behind a compliance number: when, which group (id), by whom, its deadline."""
    clock = ReviewClock.at(now)
    since = since or last_months(clock.now)[0].start
    reviews = reviews_with_deadline(clock).filter(reviewed_at__gte=since, reviewed_at__lt=clock.now)
    reviews = reviews.filter(ON_TIME if on_time else ~ON_TIME)
    if facility_id is not None:
        reviews = reviews.filter(group__facility_id=facility_id)
    return reviews.values(
        "pk",
        "group_id",
        "reviewed_at",
        "deadline",
        "group__facility_id",
        "group__facility__name",
        "reviewed_by__name",
        "reviewed_by__email",
    ).order_by("-reviewed_at", "-pk")


# --- work waiting for the center ---------------------------------------------------------------


@dataclass
class CenterWork:
    applications: int  # 別紙1/2 submitted, to review (第4条)
    rosters: int  # 別紙3 submitted, to register
    notices: int  # 別紙4 submitted, to confirm
    incidents: int  # escalated to the center (留意事項 4) and not closed
    no_mcs_admin: int  # active facilities without an MCS administrator (別紙3 *1)
    several_mcs_admins: int  # … with more than one ("in principle" one)

    @property
    def total(self) -> int:
        return (
            self.applications
            + self.rosters
            + self.notices
            + self.incidents
            + self.no_mcs_admin
            + self.several_mcs_admins
        )


def escalated_open_incidents() -> QuerySet[IncidentReport]:
    return IncidentReport.objects.filter(escalated_at__isnull=False).exclude(
        state=IncidentReport.State.CLOSED
    )


def counts_in_one_query(**querysets: QuerySet) -> dict[str, int]:
    """The number of rows of each queryset, in one round trip:
    SELECT (SELECT COUNT(*) FROM (…) AS counted), (SELECT COUNT(*) FROM (…) AS counted), …"""
    parts, params = [], []
    for queryset in querysets.values():
        sql, query_params = queryset.order_by().values("pk").query.sql_with_params()
        # Django's own compiled SQL; the values travel separately as parameters.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")  # noqa: S608
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))


def center_work() -> CenterWork:
    """What waits for the center, counted live in one query (never from the cache): a clerk
    who has just handled an application must not see it still waiting."""
    # The facilities the admin's own "MCS管理者" filter finds (none / 2名以上), so the link shows
    # the same; asked as an anti-join and a grouped subquery rather than by counting the roles
    # of every facility (make bench: about 15 ms, where counting them took 20 to 70).
    # With the tallies, the same facilities read off the tally's index of the few active ones
    # whose number of MCS administrators is not one (make bench: counting 20,000 facilities'
    # roles took 30 to 45 ms on every view).
    if tallied():
        queue = AdminTally.objects.filter(active=True)
        no_mcs_admin, several = queue.filter(admins=0), queue.filter(admins__gte=2)
    else:
        active = Facility.objects.filter(state=Facility.State.ACTIVE)
        admin_roles = FacilityRole.objects.filter(role=FacilityRole.Role.MCS_ADMIN)
        per_facility = admin_roles.values("facility_id").annotate(n=Count("pk"))
        no_mcs_admin = active.exclude(Exists(admin_roles.filter(facility_id=OuterRef("pk"))))
        several = active.filter(pk__in=per_facility.filter(n__gte=2).values("facility_id"))
    return CenterWork(
        **counts_in_one_query(
            applications=Application.objects.filter(state=Application.State.SUBMITTED),
            rosters=RosterRequest.objects.filter(state=RosterRequest.State.SUBMITTED),
            notices=ChangeNotice.objects.filter(state=ChangeNotice.State.SUBMITTED),
            incidents=escalated_open_incidents(),
            no_mcs_admin=no_mcs_admin,
            several_mcs_admins=several,
        )
    )


# --- facilities at risk -----------------------------------------------------------------------

STAFF_GAPS = ("pledge", "education")
RISKS = ("pledge", "education", "devices", "archives")


def working_staff() -> QuerySet[FacilityMembership]:
    """Staff who should have a pledge and this 年度's education (第7条): active memberships of
    active accounts at active facilities (as the reminders of 第7条 count them)."""
    # "Not one of the few inactive accounts" (an anti-join with a small set), not a join with
    # every account: the same rows, read without hashing 200,000 accounts (make bench).
    inactive = User.objects.filter(pk=OuterRef("user_id"), is_active=False)
    return FacilityMembership.objects.filter(
        is_active=True, facility__state=Facility.State.ACTIVE
    ).exclude(Exists(inactive))


def _gap_q(gap: str, today: dt.date) -> Q:
    """第7条: no pledge on file at that facility, or none of the facility's education sessions
    this 年度 (April 1st to today) attended — for a working_staff() row."""
    if gap == "pledge":
        missing = StaffPledge.objects.filter(
            user_id=OuterRef("user_id"), facility_id=OuterRef("facility_id")
        )
    else:
        missing = EducationSession.attendees.through.objects.filter(
            user_id=OuterRef("user_id"),
            educationsession__facility_id=OuterRef("facility_id"),
            educationsession__held_on__gte=fiscal_year_start(today),
            educationsession__held_on__lte=today,
        )
    return ~Q(Exists(missing))


def staff_without(gap: str, today: dt.date) -> QuerySet[FacilityMembership]:
    """第7条: staff with no pledge on file at that facility, or who attended none of the
    facility's education sessions this 年度 (April 1st to today)."""
    return working_staff().filter(_gap_q(gap, today))


def devices_unconfirmed(today: dt.date) -> QuerySet[Device]:
    """Art. 12: devices in use whose checklist was not confirmed within the network's interval
    (the devices app's own rule)."""
    return Device.objects.filter(check_overdue_q(check_cutoff(today)))


def archives_overdue(now: dt.datetime) -> QuerySet[Group]:
    """留意事項 2: groups reported ended and still not archived after the network's deadline."""
    return Group.objects.filter(
        state=Group.State.TO_BE_ARCHIVED, end_reported_at__lt=archive_deadline_cutoff(now)
    )


def archive_deadline_cutoff(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=NetworkSettings.load().archive_deadline_days)


@dataclass
class FacilityRisk:
    facility_id: int | None
    name: str = ""
    pledge: int = 0
    education: int = 0
    devices: int = 0
    archives: int = 0

    @property
    def total(self) -> int:
        return self.pledge + self.education + self.devices + self.archives


@dataclass
class Risks:
    totals: FacilityRisk
    facilities: list[FacilityRisk]  # most at risk first
    facility_count: int  # facilities with at least one risk
    year_start: dt.date = field(default=dt.date(2000, 4, 1))


def _staff_gap_sources(today: dt.date) -> list[QuerySet]:
    """The staff gaps per facility. With the tallies (mcnet.dashboard.models, kept by
    PostgreSQL's triggers with the memberships, pledges, attendance, facilities' states and
    accounts' is_active): the working staff without a pledge, and all of them less those
    educated this 年度 so far. Without the tallies: the staff counted, as the lists behind
    the numbers are."""
    if not tallied():
        return [
            _counts_of(staff_without(gap, today), "facility_id", RISKS, **{gap: Count("pk")})
            for gap in STAFF_GAPS
        ]
    return [
        _rows_of(
            StaffTally.objects.filter(staff__gt=0).annotate(facility_pk=F("facility_id")),
            RISKS,
            pledge=F("without_pledge"),
            education=F("staff"),
        ),
        _rows_of(
            EducationTally.objects.filter(
                day__gte=fiscal_year_start(today), day__lte=today
            ).annotate(facility_pk=F("facility_id")),
            RISKS,
            education=-F("n"),
        ),
    ]


def facilities_at_risk(*, now: dt.datetime | None = None, limit: int | None = None) -> Risks:
    """Per facility: staff without pledge, staff without this 年度's education, devices not
    confirmed, groups overdue for the archive; the most at risk first. One query adds them up,
    one reads the names of the facilities shown."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sources = [
        *_staff_gap_sources(today),
        _counts_of(devices_unconfirmed(today), "facility_id", RISKS, devices=Count("pk")),
        _counts_of(archives_overdue(now), "facility_id", RISKS, archives=Count("pk")),
    ]
    added = _added_up(
        sources,
        RISKS,
        order_by=f"{' + '.join(RISKS)} DESC, COALESCE(facility_pk, 0)",
        limit=limit,
    )
    names = facility_names(row[0] for row in added.rows)
    shown = [FacilityRisk(row[0], names.get(row[0], ""), *row[1:]) for row in added.rows]
    if not limit:
        shown.sort(key=lambda e: (-e.total, e.name))
    return Risks(
        FacilityRisk(None, "", *added.totals), shown, added.count, fiscal_year_start(today)
    )


def staff_gap_list(gap: str, *, facility_id=None, today=None) -> QuerySet:
    """The staff behind a pledge or education number: name, MCS ID, 職種, facility."""
    rows = staff_without(gap, today or timezone.localdate())
    if facility_id is not None:
        rows = rows.filter(facility_id=facility_id)
    return rows.values(
        "pk",
        "user_id",
        "user__name",
        "user__email",
        "user__occupation",
        "facility_id",
        "facility__name",
        "started_at",
    ).order_by("facility__name", "facility_id", "user__kana", "user_id")


# --- the whole dashboard -----------------------------------------------------------------------


@dataclass
class Dashboard:
    now: dt.datetime  # when the figures were computed (集計時刻)
    months: list[Month]
    work: CenterWork
    risks: Risks
    facilities: Matrix
    users: Matrix
    joined: MonthlySeries
    groups: GroupCounts
    group_months: MonthlySeries
    consent_months: MonthlySeries
    compliance: Compliance

    def labelled(self) -> "Dashboard":
        """These figures with the tables' labels in the active language: the figures are
        computed once, whatever the language, and only labelled for each."""
        return replace(self, facilities=self.facilities.labelled(), users=self.users.labelled())


@contextmanager
def short_aggregates():
    """PostgreSQL's JIT compiler judges these aggregates by their row estimates and compiles
    them, which cost 1.7 s to save milliseconds (measured on 100,000 groups: 1.84 s with JIT,
    0.15 s without). Off for this transaction only; other databases have no JIT. Adding up
    20,000 facilities' risks in a hash takes about 8 MB (make bench): the default 4 MB made it
    spill to disk and take three times as long."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '32MB'")
        yield


def dashboard(*, now: dt.datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, labelled in the active language: a fixed number of
    queries, whatever the network's size."""
    return unlabelled_dashboard(now=now).labelled()


def unlabelled_dashboard(*, now: dt.datetime | None = None) -> Dashboard:
    """The figures, their labels still to translate (Dashboard.labelled)."""
    now = now or timezone.now()
    months = last_months(now)
    with short_aggregates():
        return _dashboard(now, months)


def _dashboard(now: dt.datetime, months: list[Month]) -> Dashboard:
    created = created_per_month(months)  # the three monthly charts' tallies, one query
    return Dashboard(
        now=now,
        months=months,
        work=center_work(),
        risks=facilities_at_risk(now=now, limit=TOP_FACILITIES),
        facilities=facilities_by_kind_and_state(),
        users=users_by_occupation(),
        joined=new_facilities_and_users(months, created),
        groups=group_counts(),
        group_months=groups_per_month(months, created),
        consent_months=consents_per_month(months, created),
        compliance=review_compliance(now=now, since=months[0].start, limit=TOP_FACILITIES),
    )


# The figures are computed by beat every FIGURES_EVERY (mcnet.dashboard.tasks, scheduled in the
# settings) once for every language and kept labelled in each — one entry per language, the
# tables' labels translated — and a view only reads them; what waits for the center is counted
# on every view (center_work).
FIGURES_EVERY = 300  # seconds; the page says "every 5 minutes"
# Fresh for two runs of beat: one late or lost run (a busy worker) never makes a clerk wait.
# Older than that, beat or its worker is down and the next view computes them (one at a time).
FIGURES_FRESH = 2 * FIGURES_EVERY
# Kept longer than fresh: while one view computes, the others show these last figures with
# their 集計時刻 instead of waiting; after an hour they are not worth showing any more.
FIGURES_KEEP = 3600
FIGURES_KEY = "dashboard:figures:v1:{language}"
# Held while one process computes a language's figures (cache.add: set only if absent). It
# lapses by itself after FIGURES_LOCK_SECONDS if that process dies: gunicorn ends a request
# after 30 s, and a computation takes about one.
FIGURES_LOCK_KEY = "dashboard:figures:v1:{language}:computing"
FIGURES_LOCK_SECONDS = 30
FIGURES_WAIT = 5.0  # seconds a view waits for figures another process is computing
FIGURES_POLL = 0.1


def store_figures(language: str, *, now: dt.datetime | None = None) -> Dashboard | None:
    """Compute the figures once and keep them labelled in `language` and in every other
    language no other process is computing, so the next view in another language reads them
    instead of computing them again; the figures in the active language. None without
    computing when another process holds `language`'s lock (it is computing them).

    With the cache down the lock is always "taken" (mcnet.cache: add succeeds) and the figures
    are computed, not stored: a page without Redis still shows them."""
    if not cache.add(FIGURES_LOCK_KEY.format(language=language), True, FIGURES_LOCK_SECONDS):
        return None
    others = [code for code, _name in settings.LANGUAGES if code != language]
    taken = [language, *_lock_figures(others)]
    try:
        figures = unlabelled_dashboard(now=now)
        _keep_labelled(figures, taken)
        return figures.labelled()
    finally:
        cache.delete_many([FIGURES_LOCK_KEY.format(language=code) for code in taken])


def refresh_figures() -> list[str]:
    """Compute the figures once and store them labelled in every language of the UI (beat,
    every FIGURES_EVERY); the languages refreshed. One that a view is computing at that moment
    is left to it."""
    taken = _lock_figures([code for code, _name in settings.LANGUAGES])
    if not taken:
        return []
    try:
        _keep_labelled(unlabelled_dashboard(), taken)
        return taken
    finally:
        cache.delete_many([FIGURES_LOCK_KEY.format(language=code) for code in taken])


def _lock_figures(languages: list[str]) -> list[str]:
    """The languages whose lock this process took (no other one is computing them)."""
    return [
        code
        for code in languages
        if cache.add(FIGURES_LOCK_KEY.format(language=code), True, FIGURES_LOCK_SECONDS)
    ]


def _keep_labelled(figures: Dashboard, languages: list[str]) -> None:
    """The figures computed once, kept labelled in each language."""
    for code in languages:
        with translation.override(code):
            cache.set(FIGURES_KEY.format(language=code), figures.labelled(), FIGURES_KEEP)


def _is_fresh(figures: Dashboard) -> bool:
    return figures.now >= timezone.now() - dt.timedelta(seconds=FIGURES_FRESH)


def cached_dashboard() -> Dashboard:
    """The dashboard as the center's page shows it: the figures beat computed (at most
    FIGURES_FRESH old), and the center's queue live, so a clerk's own action shows at once.

    Without fresh figures (beat stopped, Redis emptied) one view computes them under a lock;
    the others meanwhile show the last figures, or wait up to FIGURES_WAIT when there are none.
    With the cache down every view computes them (mcnet.cache): slower, never an error."""
    language = get_language()
    key = FIGURES_KEY.format(language=language)
    deadline = time.monotonic() + FIGURES_WAIT
    while True:
        figures = cache.get(key)
        if figures is not None and _is_fresh(figures):
            break
        computed = store_figures(language)
        if computed is not None:
            return computed  # its queue was just counted with it
        if figures is not None:
            break  # being computed: the last figures meanwhile
        if time.monotonic() >= deadline:
            # The one computing takes far longer than it should or died holding the lock:
            # a page with its figures rather than none.
            return dashboard()
        time.sleep(FIGURES_POLL)
    return replace(figures, work=center_work())


def forget_figures() -> None:
    """The next view computes the figures anew (tests; the bench's cold measurement)."""
    cache.delete_many([FIGURES_KEY.format(language=code) for code, _name in settings.LANGUAGES])


# --- the same figures for a past period (the medical association's reports) ---------------------


def patient_groups_working_at(moment: dt.datetime) -> QuerySet[Group]:
    """Patient groups that were working at `moment`: created before it, neither reported ended
    nor archived by then (for `moment` = now: exactly the groups in state 利用中)."""
    return (
        Group.objects.filter(kind=Group.Kind.PATIENT, created_at__lt=moment)
        .exclude(archived_at__lt=moment)
        .exclude(end_reported_at__lt=moment)
    )


def review_states_at(moment: dt.datetime) -> QuerySet:
    """Per facility: patient groups working at `moment` and how many were due or overdue then,
    from the last review before `moment` (one query with a correlated subquery)."""
    clock = ReviewClock.at(moment)
    last_review = (
        SupporterReview.objects.filter(group_id=OuterRef("pk"), reviewed_at__lt=moment)
        .order_by("-reviewed_at")
        .values("reviewed_at")[:1]
    )
    return (
        patient_groups_working_at(moment)
        .annotate(review_base=Coalesce(Subquery(last_review), "created_at"))
        .values("facility_id")
        .annotate(
            groups=Count("pk"),
            due=Count("pk", filter=clock.state_q("due")),
            overdue=Count("pk", filter=clock.state_q("overdue")),
        )
        .order_by()
    )


def reviews_done_between(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """Per facility: reviews of patient groups done in [start, end), on time and late."""
    return (
        reviews_with_deadline(ReviewClock.at(end))
        .filter(reviewed_at__gte=start, reviewed_at__lt=end)
        .values("group__facility_id")
        .annotate(done=Count("pk"), on_time=Count("pk", filter=ON_TIME))
        .order_by()
    )


def groups_between(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """Per facility: patient groups working at `end`, new patient and free groups in
    [start, end), groups archived in [start, end), groups waiting for the archive at `end`."""
    in_period = {"created_at__gte": start, "created_at__lt": end}
    working_at_end = Q(created_at__lt=end) & ~Q(archived_at__lt=end)
    return (
        Group.objects.exclude(kind=Group.Kind.ALL_USERS)
        .values("facility_id")
        .annotate(
            working=Count(
                "pk",
                filter=Q(kind=Group.Kind.PATIENT) & working_at_end & ~Q(end_reported_at__lt=end),
            ),
            new_patient=Count("pk", filter=Q(kind=Group.Kind.PATIENT, **in_period)),
            new_free=Count("pk", filter=Q(kind=Group.Kind.FREE, **in_period)),
            archived=Count("pk", filter=Q(archived_at__gte=start, archived_at__lt=end)),
            waiting=Count("pk", filter=working_at_end & Q(end_reported_at__lt=end)),
        )
        .order_by()
    )


def facility_name(pk: int | None) -> str | None:
    """The name of facility `pk` for a list's heading (the center sees every facility)."""
    if pk is None:
        return None
    return Facility.objects.filter(pk=pk).values_list("name", flat=True).first()
