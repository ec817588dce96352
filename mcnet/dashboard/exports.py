"""Reports for the medical association (上越医師会): facilities, users, groups (counts per
facility) and supporter-review compliance, for a date range, as xlsx or CSV.

CSV is UTF-8 with a byte-order mark (how Excel on Windows recognises UTF-8) and is streamed;
xlsx is written by openpyxl in write-only mode, so a report of 200,000 users does not hold a
whole workbook of cell objects in memory. Text that Excel would run as a formula (= + - @) is
kept as text in both. Each report is a fixed number of queries, whatever its length.
"""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from facilities.models import Facility, FacilityMembership, FacilityRole, User
from mcnet.spreadsheets import csv_response, xlsx_response

from . import selectors

REPORTS = {
    "facilities": gettext_lazy("事業所一覧"),
    "users": gettext_lazy("利用者一覧"),
    "groups": gettext_lazy("連携グループ数（事業所別）"),
    "reviews": gettext_lazy("サポーター精査の実施状況（事業所別）"),
}
FORMATS = {"xlsx": "Excel（xlsx）", "csv": gettext_lazy("CSV（Excel用 UTF-8 BOM付き）")}


@dataclass
class Period:
    """Days `first`..`last` (both included) in the network's time zone: [start, end)."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.first, dt.time.min))

    @property
    def end(self) -> dt.datetime:
        return timezone.make_aware(
            dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min)
        )

    def contains(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass
class Report:
    name: str  # the file's name, without extension
    title: str  # the sheet's title
    header: list[str]
    rows: Iterable[list]


def _yes(value: bool) -> str:
    return _("はい") if value else _("いいえ")


def _day(moment: dt.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""


def _count_of(queryset, link: str = "facility_id"):
    """A correlated COUNT(*) per outer row (no join fan-out between several counts)."""
    return Coalesce(
        Subquery(
            queryset.filter(**{link: OuterRef("pk")})
            .order_by()
            .values(link)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


# --- the four reports ----------------------------------------------------------------------------


def facilities_report(period: Period) -> Report:
    """Every facility registered by the end of the period, with whether it is new in it."""
    header = [
        _("ID"),
        _("事業所名"),
        _("施設の種類"),
        _("状態"),
        _("市区町村"),
        _("登録日"),
        _("期間中の新規登録"),
        _("在籍職員数"),
        _("MCS管理者の人数"),
    ]
    facilities = (
        Facility.objects.filter(created_at__lt=period.end)
        .annotate(
            staff=_count_of(FacilityMembership.objects.filter(is_active=True)),
            mcs_admins=_count_of(FacilityRole.objects.filter(role=FacilityRole.Role.MCS_ADMIN)),
        )
        .order_by("kind", "name", "pk")
    )

    def rows() -> Iterator[list]:
        for f in facilities.iterator(chunk_size=2000):
            yield [
                f.pk,
                f.name,
                f.get_kind_display(),
                f.get_state_display(),
                f.city,
                _day(f.created_at),
                _yes(period.contains(f.created_at)),
                f.staff,
                f.mcs_admins,
            ]

    return Report("facilities", str(REPORTS["facilities"]), header, rows())


def users_report(period: Period) -> Report:
    """Every account registered by the end of the period, with its facilities (in post)."""
    header = [
        _("ID"),
        _("氏名"),
        _("ふりがな"),
        _("メールアドレス（MCS ID）"),
        _("職種"),
        _("状態"),
        _("登録日"),
        _("期間中の新規登録"),
        _("所属事業所（在籍中）"),
    ]
    users = (
        User.objects.filter(date_joined__lt=period.end)
        .only("pk", "name", "kana", "email", "occupation", "state", "date_joined")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=FacilityMembership.objects.filter(is_active=True)
                .select_related("facility")
                .only("user_id", "facility__name")
                .order_by("facility__name"),
                to_attr="report_memberships",
            )
        )
        .order_by("kana", "pk")
    )

    def rows() -> Iterator[list]:
        for u in users.iterator(chunk_size=2000):
            yield [
                u.pk,
                u.name,
                u.kana,
                u.email,
                u.get_occupation_display(),
                u.get_state_display(),
                _day(u.date_joined),
                _yes(period.contains(u.date_joined)),
                "、".join(m.facility.name for m in u.report_memberships),
            ]

    return Report("users", str(REPORTS["users"]), header, rows())


def _facility_rows(counts: dict, keys: list[str]) -> Iterator[list]:
    """Rows per facility (by name), then the network's totals."""
    facility_ids = [pk for pk in counts if pk is not None]
    facilities = {
        f["pk"]: f
        for f in Facility.objects.filter(pk__in=facility_ids).values("pk", "name", "kind")
    }
    kinds = dict(Facility.Kind.choices)
    ordered = sorted(counts, key=lambda pk: (facilities.get(pk, {}).get("name", "\uffff"), pk or 0))
    totals = dict.fromkeys(keys, 0)
    for pk in ordered:
        facility = facilities.get(pk, {})
        row = counts[pk]
        for key in keys:
            totals[key] += row.get(key) or 0
        yield [
            pk or "",
            facility.get("name", _("（事業所なし）")),
            str(kinds.get(facility.get("kind"), "")),
            *(row.get(key) for key in keys),
        ]
    yield ["", _("ネットワーク全体"), "", *(totals[key] for key in keys)]


def groups_report(period: Period) -> Report:
    header = [
        _("事業所ID"),
        _("事業所名"),
        _("施設の種類"),
        _("期末に利用中の患者グループ"),
        _("期間中の新規患者グループ"),
        _("期間中の新規自由グループ"),
        _("期間中にアーカイブしたグループ"),
        _("期末にアーカイブ待ちのグループ"),
    ]
    keys = ["working", "new_patient", "new_free", "archived", "waiting"]
    counts = {
        row["facility_id"]: row
        for row in selectors.groups_between(period.start, period.end)
        if any(row[key] for key in keys)
    }
    return Report("groups", str(REPORTS["groups"]), header, _facility_rows(counts, keys))


def reviews_report(period: Period) -> Report:
    """Reviews done in the period (on time or late), and the groups' state at its end (or now,
    for a period that has not ended)."""
    moment = min(period.end, timezone.now())
    header = [
        _("事業所ID"),
        _("事業所名"),
        _("施設の種類"),
        _("期間中の精査（期限内）"),
        _("期間中の精査（期限後）"),
        _("期限内の割合（%）"),
        _("期末に利用中の患者グループ"),
        _("うち期限間近"),
        _("うち期限切れ"),
    ]
    counts: dict = {}
    for row in selectors.reviews_done_between(period.start, moment):
        entry = counts.setdefault(row["group__facility_id"], {})
        entry.update(on_time=row["on_time"], late=row["done"] - row["on_time"])
    for row in selectors.review_states_at(moment):
        entry = counts.setdefault(row["facility_id"], {})
        entry.update(groups=row["groups"], due=row["due"], overdue=row["overdue"])
    for entry in counts.values():
        for key in ("on_time", "late", "groups", "due", "overdue"):
            entry.setdefault(key, 0)
        done = entry["on_time"] + entry["late"]
        entry["rate"] = round(100 * entry["on_time"] / done) if done else ""
    keys = ["on_time", "late", "rate", "groups", "due", "overdue"]

    def rows() -> Iterator[list]:
        for row in _facility_rows(counts, keys):
            if row[1] == _("ネットワーク全体"):  # the total of percentages is recomputed
                on_time, late = row[3], row[4]
                row[5] = round(100 * on_time / (on_time + late)) if on_time + late else ""
            yield row

    return Report("reviews", str(REPORTS["reviews"]), header, rows())


BUILDERS = {
    "facilities": facilities_report,
    "users": users_report,
    "groups": groups_report,
    "reviews": reviews_report,
}


def build(report: str, period: Period) -> Report:
    built = BUILDERS[report](period)
    built.name = f"mcnet-{built.name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}"
    return built


def response(report: Report, fmt: str):
    if fmt == "csv":
        return csv_response(report.name, report.header, report.rows)
    return xlsx_response(report.name, report.title, report.header, report.rows)


__all__ = [
    "FORMATS",
    "REPORTS",
    "Period",
    "Report",
    "build",
    "csv_response",
    "response",
    "xlsx_response",
]
