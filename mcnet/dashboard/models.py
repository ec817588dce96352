"""Running counts behind the dashboard's largest figures, so a cache miss reads a few thousand
tally rows instead of counting a million groups and consents.

PostgreSQL keeps them: statement-level triggers (migration 0002) add and subtract the rows every
INSERT, UPDATE and DELETE changes, in the writer's own transaction, so a tally is exact for every
writer — services, the admin, bulk loads — and a rolled-back write leaves it untouched. The staff
tallies (第7条) count across tables, so their triggers (migration 0004) count the facilities a
statement touched anew, under a lock on those facilities' rows; the review tally (留意事項 1) is
kept like the group tally (migration 0007), and so is the count of MCS administrators per
facility (migration 0009), and the facilities per kind and state and per hour created (migration
0011), and the groups archived per hour (migration 0012). Nothing in Python writes them. On
any other database the selectors count the rows themselves (mcnet.dashboard.selectors);
tests/dashboard/test_tallies.py compares each tally with a fresh count after random service
calls.
"""

from django.db import models


class GroupTally(models.Model):
    """Groups per facility, kind and state (facility 0: a group of no facility)."""

    facility_id = models.IntegerField()
    kind = models.CharField(max_length=16)
    state = models.CharField(max_length=16)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["facility_id", "kind", "state"], name="dashboard_grouptally_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.kind} {self.state}: {self.n}"


class FacilityTally(models.Model):
    """Facilities per kind and state."""

    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=16)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "state"], name="dashboard_facilitytally_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.state}: {self.n}"


class UserTally(models.Model):
    """Accounts per 職種 and state."""

    occupation = models.CharField(max_length=32)
    state = models.CharField(max_length=16)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["occupation", "state"], name="dashboard_usertally_key")
        ]

    def __str__(self) -> str:
        return f"{self.occupation} {self.state}: {self.n}"


class HourTally(models.Model):
    """Rows created per hour (UTC), for the monthly charts: `series` says which rows
    (GROUPS_CREATED by kind, GROUPS_ARCHIVED by the hour of archiving, CONSENTS_RECORDED,
    USERS_JOINED, FACILITIES_JOINED). A month in the network's time zone is a whole number of
    UTC hours (Asia/Tokyo: +9), so a month's count is the sum of its hours."""

    GROUPS_CREATED = "groups_created"
    CONSENTS_RECORDED = "consents_recorded"
    USERS_JOINED = "users_joined"
    FACILITIES_JOINED = "facilities_joined"
    GROUPS_ARCHIVED = "groups_archived"

    series = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, blank=True)
    hour = models.DateTimeField()
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "kind", "hour"], name="dashboard_hourtally_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.kind} {self.hour:%Y-%m-%d %H}h: {self.n}"


class StaffTally(models.Model):
    """第7条, per facility: its working staff (active memberships of active accounts at an
    active facility, mcnet.dashboard.selectors.working_staff) and those of them without a
    pledge on file at the facility."""

    facility_id = models.IntegerField(unique=True)
    # Integers, not bigints: their sums stay integers, where bigints' sums are numerics,
    # slower to add up per facility (mcnet.dashboard.selectors.facilities_at_risk).
    staff = models.IntegerField(default=0)
    without_pledge = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.facility_id}: {self.without_pledge} of {self.staff} without pledge"


class EducationTally(models.Model):
    """第7条, per facility and day: the working staff whose first attendance of the
    facility's education in that day's 年度 was that day. Staff educated this 年度 as of
    today are the sum from April 1st to today, so the count turns on the very day a session
    is held and on April 1st, with no job to run."""

    facility_id = models.IntegerField()
    day = models.DateField()
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["facility_id", "day"], name="dashboard_educationtally_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.day}: {self.n}"


class ReviewTally(models.Model):
    """留意事項 1, per facility and UTC day: the working patient groups (kind patient, state
    active) whose review base — the last review, else the creation — falls on that day
    (facility 0: a group of no facility). The groups whose base is before an instant are the
    sum of the whole days before that instant's day and the groups counted within its day, so
    "due" and "overdue" as of now are exact as the clock moves, and when the network's
    interval changes (the tally is by base, not by deadline)."""

    facility_id = models.IntegerField()
    day = models.DateField()
    # An integer: its sums stay integers (StaffTally).
    n = models.IntegerField()

    class Meta:
        constraints = [
            # By day first: the dashboard reads the days before a boundary, every facility's.
            models.UniqueConstraint(fields=["day", "facility_id"], name="dashboard_reviewtally_key")
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.day}: {self.n}"


class AdminTally(models.Model):
    """別紙3 *1, per facility: whether it is active and how many MCS administrators it has, so
    the center's queue finds the active facilities with none or with more than one by reading
    those few, not every facility and role (mcnet.dashboard.selectors.center_work)."""

    facility_id = models.IntegerField(unique=True)
    active = models.BooleanField()
    admins = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["admins"],
                condition=models.Q(active=True) & ~models.Q(admins=1),
                name="dashboard_admintally_queue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}: {self.admins} MCS administrators"


# Kept by the database itself: whoever copies rows (tests/demo_snapshot.py) copies the rows they
# count, never these, or they would be counted twice.
KEPT_BY_TRIGGERS = (
    GroupTally,
    UserTally,
    HourTally,
    StaffTally,
    EducationTally,
    ReviewTally,
    AdminTally,
    FacilityTally,
)
