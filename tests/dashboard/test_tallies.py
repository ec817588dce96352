"""The tallies the dashboard reads on a cache miss (mcnet.dashboard.models) are kept by
PostgreSQL's triggers in the writer's own transaction: after any sequence of writes — services,
single rows, bulk inserts and updates, deletes, a write rolled back — every tally equals a fresh
count of the rows, and the figures read from them equal the figures counted."""

import datetime as dt
import random

import pytest
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from consents.models import Consent
from facilities import services as facility_services
from facilities.models import Occupation, User
from groups.models import Group
from mcnet.dashboard import selectors
from mcnet.dashboard.models import GroupTally, HourTally, UserTally
from tests import factories as f

pytestmark = pytest.mark.django_db


def _kept(queryset, *keys) -> dict:
    return {tuple(row[:-1]): row[-1] for row in queryset.values_list(*keys, "n") if row[-1]}


def _counted(queryset, *keys) -> dict:
    return {
        tuple(row[:-1]): row[-1]
        for row in queryset.values(*keys).annotate(c=Count("pk")).values_list(*keys, "c")
    }


def _hours(queryset, field_name: str, series: str, by_kind: bool = False) -> tuple[dict, dict]:
    keys = ("kind", "h") if by_kind else ("h",)
    counted = {
        (row.get("kind", ""), row["h"]): row["c"]
        for row in queryset.annotate(h=TruncHour(field_name, tzinfo=dt.UTC))
        .values(*keys)
        .annotate(c=Count("pk"))
        .order_by()
    }
    kept = _kept(HourTally.objects.filter(series=series), "kind", "hour")
    return kept, counted


def assert_tallies_exact():
    groups = _counted(Group.objects.order_by(), "facility_id", "kind", "state")
    groups = {((fac or 0), kind, state): n for (fac, kind, state), n in groups.items()}
    assert _kept(GroupTally.objects, "facility_id", "kind", "state") == groups
    assert _kept(UserTally.objects, "occupation", "state") == _counted(
        User.objects.order_by(), "occupation", "state"
    )
    for queryset, field_name, series, by_kind in (
        (Group.objects.order_by(), "created_at", HourTally.GROUPS_CREATED, True),
        (Consent.objects.order_by(), "recorded_at", HourTally.CONSENTS_RECORDED, False),
        (User.objects.order_by(), "date_joined", HourTally.USERS_JOINED, False),
    ):
        kept, counted = _hours(queryset, field_name, series, by_kind)
        assert kept == counted, series


def _some(model):
    return model.objects.order_by("?").first()


def _random_write(rng: random.Random, facilities: list) -> str:
    fac = rng.choice(facilities)
    past = timezone.now() - dt.timedelta(hours=rng.randrange(0, 24 * 400))
    choice = rng.randrange(11)
    if choice == 0:
        f.row_patient_group(fac, created_at=past)
    elif choice == 1:
        f.row_free_group(fac, created_at=past)
    elif choice == 2:  # a state change, as group_report_end and the archive make it
        group = _some(Group)
        if group:
            state = rng.choice(list(Group.State.values))
            archived_at = timezone.now() if state == Group.State.ARCHIVED else None
            Group.objects.filter(pk=group.pk).update(state=state, archived_at=archived_at)
    elif choice == 3:  # several groups moved to another facility at once
        Group.objects.filter(
            pk__in=Group.objects.order_by("?").values("pk")[: rng.randrange(1, 4)]
        ).update(facility=rng.choice(facilities))
    elif choice == 4:
        group = _some(Group)
        if group and not group.memberships.exists():
            group.delete()
    elif choice == 5:
        f.row_consent(fac, recorded_at=past)
    elif choice == 6:
        facility_services.user_create(
            actor=None,
            email=f"tally{rng.randrange(10**9)}@example.jp",
            name="試験 利用者",
            kana="シケン リヨウシャ",
            occupation=rng.choice(list(Occupation.values)),
        )
    elif choice == 7:
        user = _some(User)
        if user:
            User.objects.filter(pk=user.pk).update(
                state=rng.choice(list(User.State.values)), date_joined=past
            )
    elif choice == 8:  # a bulk insert: one statement, many rows
        Group.objects.bulk_create(
            Group(kind=Group.Kind.FREE, name=f"一括{i}", facility=fac, created_at=past)
            for i in range(rng.randrange(2, 6))
        )
    elif choice == 9:  # a write rolled back leaves the tallies as they were
        try:
            with transaction.atomic():
                f.row_free_group(fac)
                f.row_user()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    else:
        Consent.objects.filter(pk__in=Consent.objects.order_by("?").values("pk")[:2]).delete()
    return str(choice)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tallies_equal_a_fresh_count_after_random_writes(seed):
    rng = random.Random(seed)
    facilities = [f.row_facility() for _ in range(3)]
    assert_tallies_exact()
    for _step in range(40):
        _random_write(rng, facilities)
        assert_tallies_exact()


def test_the_figures_from_the_tallies_equal_the_figures_counted(monkeypatch):
    rng = random.Random(7)
    facilities = [f.row_facility() for _ in range(3)]
    for _step in range(60):
        _random_write(rng, facilities)
    months = selectors.last_months()
    tallied = selectors.dashboard()
    monkeypatch.setattr(selectors, "tallied", lambda: False)
    counted = selectors.dashboard(now=tallied.now)
    assert tallied.groups == counted.groups
    assert tallied.users == counted.users
    assert tallied.joined == counted.joined
    assert tallied.group_months == counted.group_months
    assert tallied.consent_months == counted.consent_months
    assert tallied.compliance == counted.compliance
    assert len(months) == selectors.MONTHS
