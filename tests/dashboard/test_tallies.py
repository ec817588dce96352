"""The tallies the dashboard reads on a cache miss (mcnet.dashboard.models) are kept by
PostgreSQL's triggers in the writer's own transaction: after any sequence of writes — services,
single rows, bulk inserts and updates, deletes, a write rolled back — every tally equals a fresh
count of the rows, and the figures read from them equal the figures counted."""

import dataclasses
import datetime as dt
import random

import pytest
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from consents.models import Consent
from facilities import services as facility_services
from facilities.models import (
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    Occupation,
    StaffPledge,
    User,
)
from groups.models import Group
from groups.selectors import REVIEW_DUE_SOON_DAYS, reviewed_groups
from mcnet.dashboard import selectors
from mcnet.dashboard.models import (
    AdminTally,
    EducationTally,
    FacilityTally,
    GroupTally,
    HourTally,
    ReviewTally,
    StaffTally,
    UserTally,
)
from mcnet.models import NetworkSettings
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
    assert _kept(FacilityTally.objects, "kind", "state") == _counted(
        Facility.objects.order_by(), "kind", "state"
    )
    for queryset, field_name, series, by_kind in (
        (Group.objects.order_by(), "created_at", HourTally.GROUPS_CREATED, True),
        (Consent.objects.order_by(), "recorded_at", HourTally.CONSENTS_RECORDED, False),
        (User.objects.order_by(), "date_joined", HourTally.USERS_JOINED, False),
        (Facility.objects.order_by(), "created_at", HourTally.FACILITIES_JOINED, False),
        (selectors.archived_groups().order_by(), "archived_at", HourTally.GROUPS_ARCHIVED, False),
    ):
        kept, counted = _hours(queryset, field_name, series, by_kind)
        assert kept == counted, series


def _some(model):
    return model.objects.order_by("?").first()


def _random_write(rng: random.Random, facilities: list) -> str:
    fac = rng.choice(facilities)
    past = timezone.now() - dt.timedelta(hours=rng.randrange(0, 24 * 400))
    choice = rng.randrange(14)
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
    elif choice == 10:
        Consent.objects.filter(pk__in=Consent.objects.order_by("?").values("pk")[:2]).delete()
    elif choice == 11:  # a facility joins (one of no rows of its own yet)
        f.row_facility(kind=rng.choice(list(Facility.Kind.values)), created_at=past)
    elif choice == 12:  # a facility's kind, state or date corrected
        Facility.objects.filter(pk=_some(Facility).pk).update(
            kind=rng.choice(list(Facility.Kind.values)),
            state=rng.choice(list(Facility.State.values)),
            created_at=past,
        )
    else:  # a facility with no rows removed
        spare = Facility.objects.exclude(pk__in=[x.pk for x in facilities]).order_by("?")
        Facility.objects.filter(pk__in=spare.values("pk")[:1]).delete()
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
    assert tallied.facilities == counted.facilities
    assert tallied.joined == counted.joined
    assert tallied.group_months == counted.group_months
    assert tallied.consent_months == counted.consent_months
    assert tallied.compliance == counted.compliance
    assert len(months) == selectors.MONTHS


# --- 第7条: staff without a pledge, staff educated this 年度 (StaffTally, EducationTally) -----


def _fiscal_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def assert_staff_tallies_exact():
    """Each facility's tally equals its rows counted afresh: working staff, those without a
    pledge at the facility, and per day the staff first educated in that 年度 then."""
    pledged = set(StaffPledge.objects.values_list("user_id", "facility_id"))
    attended: dict[tuple[int, int], list[dt.date]] = {}
    for user_id, facility_id, held_on in EducationSession.attendees.through.objects.values_list(
        "user_id", "educationsession__facility_id", "educationsession__held_on"
    ):
        attended.setdefault((user_id, facility_id), []).append(held_on)
    staff: dict[int, list[int]] = {}
    education: dict[tuple[int, dt.date], int] = {}
    for user_id, facility_id in selectors.working_staff().values_list("user_id", "facility_id"):
        counts = staff.setdefault(facility_id, [0, 0])
        counts[0] += 1
        counts[1] += (user_id, facility_id) not in pledged
        firsts: dict[int, dt.date] = {}
        for day in attended.get((user_id, facility_id), []):
            year = _fiscal_year(day)
            firsts[year] = min(firsts.get(year, day), day)
        for day in firsts.values():
            education[(facility_id, day)] = education.get((facility_id, day), 0) + 1
    kept = {
        pk: [n, without]
        for pk, n, without in StaffTally.objects.values_list(
            "facility_id", "staff", "without_pledge"
        )
        if n or without
    }
    assert kept == staff
    assert _kept(EducationTally.objects, "facility_id", "day") == {
        (pk, day): n for (pk, day), n in education.items()
    }


def _staff_write(rng: random.Random, facilities: list, today: dt.date) -> str:
    fac = rng.choice(facilities)
    memberships = FacilityMembership.objects.order_by("?")
    choice = rng.randrange(16)
    day = today + dt.timedelta(days=rng.randrange(-450, 40))  # last 年度, this one, days ahead
    if choice == 0:
        f.row_staff(fac, active=rng.random() < 0.9, user_active=rng.random() < 0.9)
    elif choice == 1:  # someone joins a second facility
        user = _some(User)
        if user and not FacilityMembership.objects.filter(user=user, facility=fac).exists():
            FacilityMembership.objects.create(user=user, facility=fac)
    elif choice == 2:  # a membership ends, or comes back
        m = memberships.first()
        if m:
            FacilityMembership.objects.filter(pk=m.pk).update(is_active=not m.is_active)
    elif choice == 3:
        m = memberships.first()
        if m:
            m.delete()
    elif choice == 4:
        m = memberships.first()
        if m and not StaffPledge.objects.filter(user=m.user, facility=m.facility).exists():
            f.row_pledge(m.user, m.facility)
    elif choice == 5:
        StaffPledge.objects.filter(
            pk__in=StaffPledge.objects.order_by("?").values("pk")[:2]
        ).delete()
    elif choice == 6:  # a session with some of the facility's staff (and maybe a stranger)
        people = list(User.objects.filter(memberships__facility=fac).order_by("?")[:3])
        people += list(User.objects.order_by("?")[: rng.randrange(2)])
        f.row_education(fac, day, *people)
    elif choice == 7:  # attendance added or removed afterwards
        session = _some(EducationSession)
        user = _some(User)
        if session and user:
            if session.attendees.filter(pk=user.pk).exists():
                session.attendees.remove(user)
            else:
                session.attendees.add(user)
    elif choice == 8:  # a session's date corrected (across the 年度's turn, too)
        session = _some(EducationSession)
        if session:
            EducationSession.objects.filter(pk=session.pk).update(held_on=day)
    elif choice == 9:  # …or moved to another facility
        EducationSession.objects.filter(
            pk__in=EducationSession.objects.order_by("?").values("pk")[:1]
        ).update(facility=fac)
    elif choice == 10:
        session = _some(EducationSession)
        if session:
            session.delete()
    elif choice == 11:  # an account deactivated, or back
        user = _some(User)
        if user:
            User.objects.filter(pk=user.pk).update(is_active=not user.is_active)
    elif choice == 12:  # a facility suspended, or back
        Facility.objects.filter(pk=fac.pk).update(
            state=rng.choice([Facility.State.ACTIVE, Facility.State.SUSPENDED])
        )
    elif choice == 13:  # a bulk insert: one statement, several facilities
        users = list(User.objects.order_by("?")[:4])
        FacilityMembership.objects.bulk_create(
            [FacilityMembership(user=u, facility=rng.choice(facilities)) for u in users],
            ignore_conflicts=True,
        )
    elif choice == 14:  # every membership of a facility ends at once
        FacilityMembership.objects.filter(facility=fac).update(is_active=False)
    else:  # a write rolled back leaves the tallies as they were
        try:
            with transaction.atomic():
                person = f.row_staff(fac)
                f.row_education(fac, day, person)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    return str(choice)


def _days_to_check(today: dt.date) -> list[dt.date]:
    """Today, the turns of the 年度 around it, and the days sessions were held."""
    april = dt.date(_fiscal_year(today), 4, 1)
    days = {today, april, april - dt.timedelta(days=1), april.replace(year=april.year + 1)}
    for held_on in EducationSession.objects.values_list("held_on", flat=True):
        days |= {held_on, held_on - dt.timedelta(days=1)}
    return sorted(days)


def _at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _risks(now, limit=None):
    risks = selectors.facilities_at_risk(now=now, limit=limit)
    return risks.totals, risks.facility_count, [dataclasses.astuple(e) for e in risks.facilities]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_staff_tallies_equal_a_fresh_count_after_random_writes(seed, monkeypatch):
    rng = random.Random(seed)
    today = timezone.localdate()
    facilities = [f.row_facility() for _ in range(3)]
    for fac in facilities:
        for _ in range(2):
            f.row_staff(fac)
    assert_staff_tallies_exact()
    steps = []
    for _step in range(60):
        steps.append(_staff_write(rng, facilities, today))
        assert_staff_tallies_exact()
    # The figures read from the tallies are the staff counted, on every day that matters.
    for day in _days_to_check(today):
        now = _at_noon(day)
        tallied = [_risks(now), _risks(now, limit=2)]
        with monkeypatch.context() as m:
            m.setattr(selectors, "tallied", lambda: False)
            counted = [_risks(now), _risks(now, limit=2)]
        assert tallied == counted, (day, steps)


def test_education_counts_from_the_day_it_is_held_until_the_turn_of_the_year():
    """A session recorded ahead counts from its day; on April 1st everyone needs it again."""
    fac = f.row_facility()
    nurse = f.row_staff(fac)
    year = _fiscal_year(timezone.localdate())
    held_on = dt.date(year + 1, 3, 20)
    f.row_education(fac, held_on, nurse)

    def education_gap(day):
        return selectors.facilities_at_risk(now=_at_noon(day)).totals.education

    assert education_gap(held_on - dt.timedelta(days=1)) == 1
    assert education_gap(held_on) == 0
    assert education_gap(dt.date(year + 1, 3, 31)) == 0
    assert education_gap(dt.date(year + 1, 4, 1)) == 1


# --- 留意事項 1: working patient groups by the UTC day of their review base (ReviewTally) ------


def assert_review_tally_exact():
    """The tally equals the working patient groups counted afresh by facility and day."""
    counted: dict[tuple[dt.date, int], int] = {}
    for facility_id, base in reviewed_groups().values_list("facility_id", "review_base"):
        key = (base.astimezone(dt.UTC).date(), facility_id or 0)
        counted[key] = counted.get(key, 0) + 1
    assert _kept(ReviewTally.objects, "day", "facility_id") == counted


def _review_write(rng: random.Random, facilities: list, now: dt.datetime) -> str:
    fac = rng.choice(facilities)
    past = now - dt.timedelta(days=rng.randrange(0, 400), seconds=rng.randrange(86400))
    groups = Group.objects.order_by("?")
    choice = rng.randrange(12)
    if choice == 0:  # a patient group opened, reviewed already or not
        reviewed = past + dt.timedelta(days=rng.randrange(0, 30)) if rng.random() < 0.5 else None
        f.row_patient_group(fac, created_at=past, last_reviewed_at=reviewed)
    elif choice == 1:  # a supporter review (its record and the group's last review)
        group = groups.filter(kind=Group.Kind.PATIENT).first()
        if group:
            f.row_review(group, now - dt.timedelta(seconds=rng.randrange(86400 * 200)))
    elif choice == 2:  # reported ended, archived, or back to work
        group = groups.first()
        if group:
            state = rng.choice(list(Group.State.values))
            archived_at = now if state == Group.State.ARCHIVED else None
            Group.objects.filter(pk=group.pk).update(state=state, archived_at=archived_at)
    elif choice == 3:  # a patient group made a free one, or the other way
        group = groups.first()
        if group and group.kind == Group.Kind.PATIENT:
            Group.objects.filter(pk=group.pk).update(kind=Group.Kind.FREE, patient=None)
        elif group and group.kind == Group.Kind.FREE:
            patient = f.row_patient(fac)
            Group.objects.filter(pk=group.pk).update(kind=Group.Kind.PATIENT, patient=patient)
    elif choice == 4:  # several groups moved to another facility, or to none, at once
        Group.objects.filter(pk__in=groups.values("pk")[: rng.randrange(1, 4)]).update(
            facility=rng.choice([*facilities, None])
        )
    elif choice == 5:
        group = groups.first()
        if group and not group.memberships.exists():
            group.delete()
    elif choice == 6:  # reviews recorded in bulk: one statement, several groups and days
        Group.objects.filter(pk__in=groups.values("pk")[: rng.randrange(1, 5)]).update(
            last_reviewed_at=past
        )
    elif choice == 7:  # a creation date corrected (the base of a group never reviewed)
        Group.objects.filter(pk__in=groups.values("pk")[:1]).update(created_at=past)
    elif choice == 8:
        f.row_free_group(fac, created_at=past)
    elif choice == 9:  # a review rolled back leaves the tally as it was
        group = groups.filter(kind=Group.Kind.PATIENT).first()
        try:
            with transaction.atomic():
                f.row_patient_group(fac, created_at=past)
                if group:
                    f.row_review(group, now)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    elif choice == 10:  # a facility's groups all ended at once
        Group.objects.filter(facility=fac).update(state=Group.State.TO_BE_ARCHIVED)
    else:
        Group.objects.filter(pk__in=groups.values("pk")[:3]).update(
            last_reviewed_at=None, created_at=past
        )
    return str(choice)


def _review_moments(rng, now: dt.datetime, interval: dt.timedelta) -> list[dt.datetime]:
    """Now, and the moments the due and overdue lines fall exactly on some groups' review
    base, just before and after it, and on the turn of its UTC day."""
    soon = dt.timedelta(days=REVIEW_DUE_SOON_DAYS)
    moments = {now}
    bases = sorted(reviewed_groups().values_list("review_base", flat=True))
    for base in rng.sample(bases, min(len(bases), 8)):
        midnight = dt.datetime.combine(base.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
        for line in (base, midnight):
            for shift in (dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(seconds=1)):
                moments |= {line + shift + interval, line + shift + interval - soon}
    return sorted(moments)


def _compliance(now, limit=None):
    c = selectors.review_compliance(now=now, since=now - dt.timedelta(days=365), limit=limit)
    return c.totals, c.facility_count, c.facilities


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_review_tally_equals_a_fresh_count_after_random_writes(seed, monkeypatch):
    rng = random.Random(seed)
    now = timezone.now()
    facilities = [f.row_facility() for _ in range(3)]
    # Bases on every day of a few weeks, some at the turn of a UTC day: whatever line a moment
    # draws, there are groups on its day and on the days either side.
    midnight = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    for days in [*range(70, 100), *range(160, 200)]:  # the lines at 90 and 180 days
        base = midnight - dt.timedelta(days=days, seconds=rng.choice([0, 1, rng.randrange(86400)]))
        f.row_patient_group(rng.choice(facilities), created_at=base)
    assert_review_tally_exact()
    steps = []
    for _step in range(50):
        steps.append(_review_write(rng, facilities, now))
        assert_review_tally_exact()
    # The figures read from the tally are the groups counted, at every moment that matters,
    # and still when the network's interval changes.
    for interval_days in (180, 90):
        network = NetworkSettings.load()
        network.review_interval_days = interval_days
        network.save()
        for moment in _review_moments(rng, now, dt.timedelta(days=interval_days)):
            tallied = [_compliance(moment), _compliance(moment, limit=2)]
            with monkeypatch.context() as m:
                m.setattr(selectors, "tallied", lambda: False)
                counted = [_compliance(moment), _compliance(moment, limit=2)]
            assert tallied == counted, (interval_days, moment, steps)


# --- 別紙3 *1: active facilities with no MCS administrator, or several (AdminTally) ----------


def assert_admin_tally_exact():
    """Each facility's row: whether it is active, and its MCS administrators counted afresh."""
    admins = _counted(FacilityRole.objects.filter(role=FacilityRole.Role.MCS_ADMIN), "facility_id")
    counted = {
        pk: (state == Facility.State.ACTIVE, admins.get((pk,), 0))
        for pk, state in Facility.objects.values_list("pk", "state")
    }
    kept = {
        pk: (active, n)
        for pk, active, n in AdminTally.objects.values_list("facility_id", "active", "admins")
    }
    assert kept == counted


def _admin_write(rng: random.Random, facilities: list) -> str:
    fac = rng.choice(facilities)
    roles = FacilityRole.objects.order_by("?")
    choice = rng.randrange(9)
    if choice == 0:  # an MCS administrator appointed (or another role)
        role = rng.choice([FacilityRole.Role.MCS_ADMIN, *FacilityRole.Role.values])
        f.row_role(f.row_staff(fac), fac, role)
    elif choice == 1:
        roles.filter(pk__in=roles.values("pk")[:1]).delete()
    elif choice == 2:  # a role changed to another one
        role = roles.first()
        if role:
            FacilityRole.objects.filter(pk=role.pk).update(
                role=rng.choice(list(FacilityRole.Role.values))
            )
    elif choice == 3:  # roles moved to another facility at once
        FacilityRole.objects.filter(pk__in=roles.values("pk")[: rng.randrange(1, 4)]).update(
            facility=rng.choice(facilities)
        )
    elif choice == 4:  # a facility suspended, or back
        Facility.objects.filter(pk=fac.pk).update(
            state=rng.choice([Facility.State.ACTIVE, Facility.State.SUSPENDED])
        )
    elif choice == 5:  # a new facility, with no MCS administrator yet
        facilities.append(f.row_facility(state=rng.choice(list(Facility.State.values))))
    elif choice == 6:  # a facility removed with its roles
        spare = [x for x in facilities if x.pk != facilities[0].pk]
        if spare:
            gone = rng.choice(spare)
            facilities.remove(gone)
            FacilityRole.objects.filter(facility=gone).delete()
            FacilityMembership.objects.filter(facility=gone).delete()
            Facility.objects.filter(pk=gone.pk).delete()
    elif choice == 7:  # a bulk insert: one statement, several facilities
        people = [f.row_user() for _ in range(3)]
        FacilityRole.objects.bulk_create(
            FacilityRole(user=p, facility=rng.choice(facilities), role="mcs_admin") for p in people
        )
    else:  # a write rolled back leaves the tally as it was
        try:
            with transaction.atomic():
                f.row_role(f.row_user(), fac)
                Facility.objects.filter(pk=fac.pk).update(state=Facility.State.SUSPENDED)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    return str(choice)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_admin_tally_equals_a_fresh_count_after_random_writes(seed, monkeypatch):
    rng = random.Random(seed)
    facilities = [f.row_facility() for _ in range(4)]
    f.row_role(f.row_user(), facilities[0])
    assert_admin_tally_exact()
    steps = []
    for _step in range(50):
        steps.append(_admin_write(rng, facilities))
        assert_admin_tally_exact()
        tallied = selectors.center_work()
        with monkeypatch.context() as m:
            m.setattr(selectors, "tallied", lambda: False)
            assert selectors.center_work() == tallied, steps
