"""Reads of the groups app, scoped to the asking user.

Who sees what (see permissions.py for the grants):
- an accepted member sees the group, its patient's details and its members;
- an invitee sees only the invitation (group name, which is the patient's name, and who
  invites them — 留意事項 4);
- the MCS administrator of the owning facility sees what archiving needs (name, reason,
  dates), and of their own staff's memberships only that they exist (to remove them,
  留意事項 1) — never patient details;
- the center sees names, kinds, states, counts and review status (別紙5 (2)).
Every page that lists groups runs a fixed number of queries, however many groups there are.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from consents.models import Consent, Patient
from consents.permissions import opened_closed_records_q
from facilities.models import Facility, FacilityMembership, FacilityRole, User
from facilities.permissions import facility_ids_with, roles_grant
from mcnet.models import NetworkSettings
from mcnet.pagination import UncountedPage, uncounted_page
from mcnet.selectors import first_or_404
from mcnet.text import nfkc

from .models import (
    CARE_ENDED_REASONS,
    END_REPORT_UNDO_WINDOW,
    Announcement,
    AnnouncementRead,
    Group,
    GroupAttestation,
    GroupUserObjectPermission,
    Membership,
    PostDeletion,
    StaffAttestationLine,
    patient_group_label,
)
from .permissions import (
    archivable_q,
    closed_patient_group_q,
    group_ids_granted,
    is_mcs_admin,
)

# Who is in the all-users group: every account that can sign in and has not left or been banned.
# A restricted user (留意事項 2) still signs in and still hears from the center; they only cannot
# join groups.
ALL_USERS_STATES = (User.State.ACTIVE, User.State.RESTRICTED)

# 留意事項 1: a review counts as "due" (and its manager is told) this many days before its
# deadline, so the manager can plan it.
REVIEW_DUE_SOON_DAYS = 14


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _count_of(state: str):
    """Memberships of one state, as a correlated subquery: PostgreSQL counts them only for the
    rows a page shows, instead of joining and grouping every group (make bench)."""
    return Coalesce(
        Subquery(
            Membership.objects.filter(group=OuterRef("pk"), state=state)
            .order_by()
            .values("group")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def _with_member_count(groups: QuerySet[Group]) -> QuerySet[Group]:
    return groups.annotate(member_count=_count_of(Membership.State.ACCEPTED))


# --- groups a user belongs to ------------------------------------------------------------------


def groups_visible_to(user) -> QuerySet[Group]:
    """Groups whose page the user may open: those they accepted (while care goes on, and free
    groups also once archived), the all-users group for every active user (implicit
    membership, see models.Group), and the closed patient groups whose record a custodian
    opened with a purpose (consents.permissions)."""
    if not _signed_in(user):
        return Group.objects.none()
    visible = Q(pk__in=group_ids_granted(user, "access_group"))
    if not user.is_center_staff:
        opened = Patient.objects.filter(opened_closed_records_q(user)).values("pk")
        visible |= Q(kind=Group.Kind.PATIENT, patient_id__in=opened)
    if user.state in ALL_USERS_STATES:
        visible |= Q(kind=Group.Kind.ALL_USERS)
    return Group.objects.filter(visible)


def group_for_member(user, pk: int) -> Group:
    """The group `pk` if the user may open its page, with what the page shows of it; else 404."""
    return _group_opened(
        user,
        pk,
        lambda rows: rows.select_related("patient", "facility", "manager").annotate(
            is_managed=_managed_by(user)
        ),
    )


def group_opened_by(user, pk: int) -> Group:
    """The same decision as group_for_member, reading only what the access log records (the
    kind, the patient and the patient's facility): a page served from the cache needs no more,
    and this query is far cheaper to build on every view."""
    return _group_opened(
        user,
        pk,
        lambda rows: rows.select_related("patient").only(
            "id", "kind", "patient_id", "facility_id", "patient__id", "patient__facility_id"
        ),
    )


def _group_opened(user, pk: int, shape) -> Group:
    if not _signed_in(user):
        raise Http404
    # A member's access grant first: the common case, and a far cheaper query to build than
    # every way of seeing a group (groups_visible_to, which is their union) on every view.
    group = None
    for visible in (Group.objects.filter(pk__in=group_ids_granted(user, "access_group")), None):
        group = (
            shape(visible if visible is not None else groups_visible_to(user)).filter(pk=pk).first()
        )
        if group is not None:
            break
    if group is None:  # 404: an invitee or a stranger learns nothing, not even existence
        raise Http404
    return group


def group_for_manager(user, pk: int) -> Group:
    """A group the user manages (and that is not archived)."""
    if not _signed_in(user):
        raise Http404
    return first_or_404(
        Group.objects.filter(pk__in=group_ids_granted(user, "manage_group"))
        .select_related("patient", "facility", "manager")
        .filter(pk=pk)
    )


def group_for_handover(user, pk: int) -> Group:
    """The manager hands over; so may the owning facility's MCS administrator or facility
    manager, for a group whose manager left (留意事項 1; services.group_handover decides)."""
    if not _signed_in(user):
        raise Http404
    return first_or_404(
        Group.objects.filter(
            Q(pk__in=group_ids_granted(user, "manage_group"))
            | Q(facility_id__in=facility_ids_with(user, "archive_groups", "sign_for_facility"))
        )
        .exclude(kind=Group.Kind.ALL_USERS)
        .filter(state=Group.State.ACTIVE, pk=pk)
        .select_related("facility", "manager")
    )


def closed_group_patient_id(pk: int) -> int | None:
    """The patient of a closed patient group (to ask a custodian the purpose of opening it)."""
    return (
        Group.objects.filter(closed_patient_group_q(), pk=pk)
        .values_list("patient_id", flat=True)
        .first()
    )


def _managed_by(user) -> Exists:
    return Exists(group_ids_granted(user, "manage_group").filter(content_object_id=OuterRef("pk")))


@dataclass(frozen=True)
class ReviewStatus:
    """留意事項 1: when the next supporter review is due, and how it stands."""

    due_at: dt.datetime
    state: str  # "ok", "due", "overdue"

    @property
    def label(self) -> str:
        from django.utils.translation import gettext as _

        return {"ok": _("済"), "due": _("期限間近"), "overdue": _("期限切れ")}[self.state]


def reviewed_groups() -> QuerySet[Group]:
    """The groups that are reviewed: working patient groups (a group reported ended waits for
    the archive, not for a review)."""
    return Group.objects.filter(kind=Group.Kind.PATIENT, state=Group.State.ACTIVE).annotate(
        review_base=Coalesce("last_reviewed_at", "created_at")
    )


@dataclass(frozen=True)
class ReviewClock:
    """留意事項 1, the one home of the supporter-review deadline: a working patient group's
    review is due at (last review or creation) + the network's interval, counts as "due" from
    REVIEW_DUE_SOON_DAYS before and as "overdue" after. Pages, reminders and the center's
    figures all ask this clock."""

    now: dt.datetime
    interval: dt.timedelta

    @classmethod
    def at(cls, now: dt.datetime | None = None, *, interval_days: int | None = None):
        if interval_days is None:
            interval_days = NetworkSettings.load().review_interval_days
        return cls(now or timezone.now(), dt.timedelta(days=interval_days))

    def due_at(self, base: dt.datetime) -> dt.datetime:
        """The deadline of a group whose last review (or creation) was at `base`."""
        return base + self.interval

    @property
    def overdue_before(self) -> dt.datetime:
        return self.now - self.interval

    @property
    def due_before(self) -> dt.datetime:
        return self.overdue_before + dt.timedelta(days=REVIEW_DUE_SOON_DAYS)

    def state_of(self, base: dt.datetime) -> str:
        if base < self.overdue_before:
            return "overdue"
        if base < self.due_before:
            return "due"
        return "ok"

    def state_q(self, state: str) -> Q:
        """For groups annotated with `review_base` (see reviewed_groups)."""
        if state == "overdue":
            return Q(review_base__lt=self.overdue_before)
        if state == "due":
            return Q(review_base__gte=self.overdue_before, review_base__lt=self.due_before)
        return Q(review_base__gte=self.due_before)


def review_status(group: Group, *, now=None, interval_days: int | None = None):
    """None for groups that are not reviewed (free, all-users, archived)."""
    if group.kind != Group.Kind.PATIENT or group.state == Group.State.ARCHIVED:
        return None
    clock = ReviewClock.at(now, interval_days=interval_days)
    base = group.last_reviewed_at or group.created_at
    return ReviewStatus(due_at=clock.due_at(base), state=clock.state_of(base))


def _attach_review_status(groups) -> list[Group]:
    interval = NetworkSettings.load().review_interval_days
    now = timezone.now()
    groups = list(groups)
    for group in groups:
        group.review = review_status(group, now=now, interval_days=interval)
    return groups


# The orders the group list offers (a whitelist: `sort` comes from the address).
GROUP_SORTS = {
    "name": ("kind", "name", "pk"),
    "-name": ("kind", "-name", "-pk"),
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
}
# The archive's "newest" is the latest archived: what was just closed is looked for first.
ARCHIVED_SORTS = {**GROUP_SORTS, "newest": ("-archived_at", "-pk"), "oldest": ("archived_at", "pk")}
WORKING, ARCHIVED = "working", "archived"


def group_number(query: str) -> int | None:
    """A group's number as typed: 「No.123」, 「#123」, 「123」 (a patient group's neutral label)."""
    number = nfkc(query).strip().upper().removeprefix("NO.").removeprefix("NO")
    number = number.removeprefix("#").strip()
    return int(number) if number.isdigit() and len(number) < 10 else None


def member_search_q(query: str) -> Q:
    """What a member finds their groups by: the name they see, or the number of the label."""
    found = Q(name__icontains=nfkc(query).strip())
    number = group_number(query)
    if number is not None:
        found |= Q(pk=number)
    return found


def working_groups_query(user, *, query: str = "", sort: str = "name") -> QuerySet[Group]:
    """The user's working list: accepted groups that are not archived, with member counts and
    whether the user manages each; `query` searches only these (nothing else is found)."""
    if not _signed_in(user):
        return Group.objects.none()
    groups = Group.objects.filter(pk__in=group_ids_granted(user, "access_group")).exclude(
        state=Group.State.ARCHIVED
    )
    if query:
        groups = groups.filter(member_search_q(query))
    return _with_member_count(
        # What the list shows and the review status needs, nothing more (the most
        # used page; building three model objects a row was a third of its time).
        groups.only("kind", "name", "state", "last_reviewed_at", "created_at")
        .annotate(is_managed=_managed_by(user))
        .order_by(*GROUP_SORTS.get(sort, GROUP_SORTS["name"]))
    )


def working_groups_of(user) -> list[Group]:
    """The whole working list with the review status (留意事項 1)."""
    return _attach_review_status(working_groups_query(user))


def working_groups_page(user, *, number: int, per_page: int, **filters) -> UncountedPage:
    """One page of the working list, with each row's review status; never counted, so a page
    costs the same queries however many groups the user is in."""
    page = uncounted_page(working_groups_query(user, **filters), number, per_page)
    page.object_list = _attach_review_status(page.object_list)
    return page


def working_list_shows(groups: list[Group], all_users_group: Group | None) -> tuple:
    """Everything the rows of the working list show (groups/_working_rows.html), the key of
    their rendered copy (mcnet.fragments): a change of any of it renders them anew."""
    return (
        all_users_group and (all_users_group.pk, all_users_group.name, all_users_group.state),
        tuple(
            (
                group.pk,
                group.name,
                group.kind,
                group.state,
                group.is_managed,
                group.member_count,
                group.review and (group.review.state, group.review.due_at),
            )
            for group in groups
        ),
    )


def review_changes_at(reviews) -> dt.datetime | None:
    """When one of these review statuses changes by itself next (a review falls due or
    overdue, 留意事項 1): a cached copy of a page showing them holds until then
    (mcnet.pagecache)."""
    now = timezone.now()
    moments = [
        moment
        for review in reviews
        if review is not None
        for moment in (review.due_at - dt.timedelta(days=REVIEW_DUE_SOON_DAYS), review.due_at)
        if moment > now
    ]
    return min(moments, default=None)


ALL_USERS_GROUP_TTL = 300  # seconds


def all_users_group_for(user) -> Group | None:
    if not _signed_in(user) or user.state not in ALL_USERS_STATES:
        return None
    # One row, made once (groups.services) and never renamed: kept in the cache for a while
    # rather than read on every view of the group list.
    return cache.get_or_set(
        "groups:all_users_group",
        lambda: Group.objects.filter(kind=Group.Kind.ALL_USERS).first(),
        ALL_USERS_GROUP_TTL,
    )


ACTIVE_USER_COUNT_TTL = 300  # seconds


def active_user_count() -> int:
    """Members of the all-users group. A figure, not a list: counting 200,000 accounts costs
    about 45 ms a view, so it is kept in the cache for five minutes."""
    return cache.get_or_set(
        "groups:active_user_count",
        User.objects.filter(is_active=True, state__in=ALL_USERS_STATES).count,
        ACTIVE_USER_COUNT_TTL,
    )


def members_of(group: Group) -> QuerySet[Membership]:
    """Accepted members with their current facilities (one query each, prefetched)."""
    return (
        group.memberships.filter(state=Membership.State.ACCEPTED)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "user__memberships",
                queryset=FacilityMembership.objects.select_related("facility").order_by(
                    "-is_active", "facility__name"
                ),
                to_attr="facility_rows",
            )
        )
        .order_by("user__kana", "pk")
    )


def members_for_review(group: Group) -> QuerySet[Membership]:
    """The supporters a review may remove: every accepted member but the manager."""
    return members_of(group).exclude(user_id=group.manager_id)


def handover_candidates(group: Group) -> QuerySet[User]:
    """A patient group goes to a patient-group manager of its facility (第8条); a free group
    to one of its members."""
    users = User.objects.filter(is_active=True, state=User.State.ACTIVE).exclude(
        pk=group.manager_id
    )
    if group.kind == Group.Kind.PATIENT:
        return users.filter(
            facility_roles__facility_id=group.facility_id,
            facility_roles__role=FacilityRole.Role.GROUP_MANAGER,
        ).distinct()
    return users.filter(
        group_memberships__group=group, group_memberships__state=Membership.State.ACCEPTED
    ).distinct()


def covered_facilities_of(group: Group) -> list | None:
    """For a patient group, the facilities its valid consent covers (None for other kinds)."""
    if group.kind != Group.Kind.PATIENT:
        return None
    return list(
        Facility.objects.filter(
            pk__in=Consent.objects.active()
            .filter(patient_id=group.patient_id)
            .values("covered_facilities")
        ).order_by("name")
    )


def pending_invitations_of(group: Group) -> QuerySet[Membership]:
    return group.memberships.filter(state=Membership.State.INVITED).select_related(
        "user", "invited_by"
    )


def membership_of(user, group: Group, *, members=()) -> Membership | None:
    """The user's open membership; from `members` (members_of) when it is there."""
    for membership in members:
        if membership.user_id == user.pk:
            return membership
    return group.memberships.filter(user=user, state__in=Membership.OPEN_STATES).first()


def membership_in_group(group: Group, pk: int) -> Membership:
    return first_or_404(
        group.memberships.filter(pk=pk, state__in=Membership.OPEN_STATES).select_related("user")
    )


def reviews_of(group: Group) -> QuerySet:
    return group.reviews.select_related("reviewed_by").prefetch_related("removed__user")[:20]


def post_deletions_of(group: Group) -> QuerySet[PostDeletion]:
    return group.post_deletions.select_related("recorded_by")[:50]


# --- what is written to MCS, as the center sees it (第8条(1)) -----------------------------------

# How far back the center's monitoring page counts.
MONITORING_DAYS = 365


def monitoring_by_facility(*, today: dt.date | None = None) -> list[dict]:
    """Per facility running patient groups: the posts deleted in MCS by category, and the
    supporter reviews recorded with and without the timeline check, over MONITORING_DAYS.
    Counts only, by facility name: never a group's name, the patient's (別紙5 (2))."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=MONITORING_DAYS)
    rows: dict[int, dict] = {}

    def row(facility_id, name):
        return rows.setdefault(
            facility_id,
            {
                "facility": name,
                "deleted": dict.fromkeys(PostDeletion.Category.values, 0),
                "deleted_total": 0,
                "reviews_checked": 0,
                "reviews_unchecked": 0,
            },
        )

    deletions = (
        PostDeletion.objects.filter(deleted_on__gte=since, group__facility__isnull=False)
        .values("group__facility_id", "group__facility__name", "category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for d in deletions:
        entry = row(d["group__facility_id"], d["group__facility__name"])
        entry["deleted"][d["category"]] += d["n"]
        entry["deleted_total"] += d["n"]
    reviews = (
        Group.objects.filter(
            kind=Group.Kind.PATIENT,
            facility__isnull=False,
            reviews__reviewed_at__date__gte=since,
        )
        .values("facility_id", "facility__name", "reviews__timeline_checked")
        .annotate(n=Count("reviews"))
        .order_by()
    )
    for r in reviews:
        entry = row(r["facility_id"], r["facility__name"])
        key = "reviews_checked" if r["reviews__timeline_checked"] else "reviews_unchecked"
        entry[key] += r["n"]
    return sorted(rows.values(), key=lambda e: (-e["deleted_total"], e["facility"]))


def recent_post_deletions(limit: int = 50) -> list[dict]:
    """The latest deletions for the center: a neutral label, the date and the category; no
    note (free text) and no group name."""
    return [
        {
            "label": patient_group_label(pk, facility_name or ""),
            "deleted_on": deleted_on,
            "category": PostDeletion.Category(category).label,
        }
        for pk, facility_name, deleted_on, category in PostDeletion.objects.order_by(
            "-deleted_on", "-pk"
        ).values_list("group_id", "group__facility__name", "deleted_on", "category")[:limit]
    ]


# --- invitations -------------------------------------------------------------------------------


def invitations_for(user) -> QuerySet[Membership]:
    """Pending invitations: the invitee sees the group's name and who invites, nothing else."""
    if not _signed_in(user):
        return Membership.objects.none()
    return (
        Membership.objects.filter(
            user=user, state=Membership.State.INVITED, group__state=Group.State.ACTIVE
        )
        .select_related("group", "group__facility", "invited_by")
        .order_by("-invited_at")
    )


def invitation_for_invitee(user, group_pk: int) -> Membership:
    """The user's pending invitation to one group (its page is keyed by the group, so every
    link about a group lives under /groups/<pk>/)."""
    return first_or_404(invitations_for(user).filter(group_id=group_pk))


def invitation_expired(invitation: Membership, *, now=None) -> bool:
    days = NetworkSettings.load().invitation_expiry_days
    return (now or timezone.now()) > invitation.invited_at + dt.timedelta(days=days)


# --- end of care and the archive (留意事項 2, 3) ------------------------------------------------


def end_report_undoable_until(group: Group, *, now=None):
    """When a reported end of care stops being undoable, or None if it cannot be undone: only a
    manager's report (not a withdrawn consent, 第9条3項) of a group not yet archived."""
    if (
        group.state != Group.State.TO_BE_ARCHIVED
        or group.end_reason in CARE_ENDED_REASONS
        or group.end_reported_at is None
    ):
        return None
    until = group.end_reported_at + END_REPORT_UNDO_WINDOW
    return until if (now or timezone.now()) < until else None


def groups_awaiting_archive_for(user) -> QuerySet[Group]:
    """Groups reported ended in the facilities where the user archives (MCS administrator)."""
    if not _signed_in(user) or not roles_grant(user, "archive_groups"):
        return Group.objects.none()
    return _with_member_count(
        Group.objects.filter(
            state=Group.State.TO_BE_ARCHIVED,
            facility_id__in=facility_ids_with(user, "archive_groups", while_restricted=True),
        )
        .select_related("facility", "manager", "end_reported_by")
        .order_by("end_reported_at", "pk")
    )


def group_for_archiver(user, pk: int) -> Group:
    """A working group the user may archive: the owning facility's MCS administrator
    (留意事項 2); for a free group, also its own manager (it holds no patient)."""
    if not _signed_in(user):
        raise Http404
    return first_or_404(
        Group.objects.filter(archivable_q(user))
        .select_related("facility", "manager", "end_reported_by")
        .filter(pk=pk)
    )


def archived_groups_for(
    user, *, query: str = "", reason: str = "", sort: str = "newest"
) -> QuerySet[Group]:
    """The archive (アーカイブ機能): archived free groups the user was a member of, and the
    archived groups the user holds in custody — those of the facilities where the user
    archives, and the patient groups they manage (留意事項 医療介護情報の取り扱い (2)). A
    former member of a patient group finds only a line in their history (former_groups_of).
    Searchable by name and reason."""
    if not _signed_in(user):
        return Group.objects.none()
    custody = Q(
        facility_id__in=facility_ids_with(user, "archive_groups", while_restricted=True)
    ) | Q(kind=Group.Kind.PATIENT, manager=user)
    groups = Group.objects.filter(state=Group.State.ARCHIVED).filter(
        Q(pk__in=group_ids_granted(user, "access_group")) | custody
    )
    if query:
        groups = groups.filter(member_search_q(query))
    if reason:
        groups = groups.filter(end_reason=reason)
    return _with_member_count(
        groups.select_related("facility", "manager", "archived_by")
        .annotate(
            # May open it: a member of a free group; a custodian (asked the purpose first).
            is_member=ExpressionWrapper(
                Q(
                    Exists(
                        group_ids_granted(user, "access_group").filter(
                            content_object_id=OuterRef("pk")
                        )
                    )
                )
                | custody,
                output_field=BooleanField(),
            )
        )
        .order_by(*ARCHIVED_SORTS.get(sort, ARCHIVED_SORTS["newest"]))
    )


@dataclass(frozen=True)
class FormerGroup:
    """A line of a former member's history: a patient group they were in was closed."""

    label: str  # neutral (models.Group.label): the patient's name is not theirs to see any more
    closed_at: dt.datetime | None
    consent_ended: bool


def former_groups_of(user) -> list[FormerGroup]:
    """Access ends with care (別紙5 (2)): the patient groups the user was in when they were
    closed, without the patient's name."""
    if not _signed_in(user):
        return []
    rows = (
        Membership.objects.filter(user=user, state=Membership.State.ACCEPTED)
        .filter(closed_patient_group_q("group__"))
        .values_list(
            "group_id",
            "group__facility__name",
            "group__archived_at",
            "group__end_reported_at",
            "group__end_reason",
        )
        .order_by("-group__end_reported_at", "-group_id")[:200]
    )
    return [
        FormerGroup(
            label=patient_group_label(pk, facility_name or ""),
            closed_at=archived_at if reason not in CARE_ENDED_REASONS else reported_at,
            consent_ended=reason in CARE_ENDED_REASONS,
        )
        for pk, facility_name, archived_at, reported_at, reason in rows
    ]


# --- an MCS administrator and their own staff (留意事項 1) ---------------------------------------


def staff_member_for_admin(admin, user_pk: int) -> User:
    """A user who works (or worked) at a facility where `admin` manages staff."""
    if not _signed_in(admin):
        raise Http404
    return first_or_404(
        User.objects.filter(
            pk=user_pk,
            memberships__facility_id__in=facility_ids_with(
                admin, "manage_staff", while_restricted=True
            ),
        )
    )


def open_memberships_of(user) -> QuerySet[Membership]:
    """For the administrator's narrow removal page: no group names (a patient group's name is
    the patient's), only what identifies the group to its manager."""
    return (
        Membership.objects.filter(user=user, state__in=Membership.OPEN_STATES)
        .exclude(group__state=Group.State.ARCHIVED)
        .select_related("group", "group__facility", "group__manager")
        .order_by("group_id")
    )


# --- the center (別紙5 (2): names, kinds, states, counts, review status only) ------------------


CENTER_PAGE_SIZE = 100


def groups_for_center(*, query: str = "", kind: str = "", state: str = "") -> QuerySet[Group]:
    groups = Group.objects.select_related("facility").defer(
        "description", "end_note"
    )  # no patient join at all: the center's pages cannot show what they never load
    if query:
        groups = groups.filter(center_search_q(query))
    if kind:
        groups = groups.filter(kind=kind)
    if state:
        groups = groups.filter(state=state)
    groups = _with_member_count(groups).annotate(invited_count=_count_of(Membership.State.INVITED))
    # The order of the index group_center_order: a page is read off it, not sorted.
    return groups.order_by("state", "kind", "name", "pk")


def center_search_q(query: str) -> Q:
    """What the center may search groups by: a group's number (「No.123」, 「123」), the name of
    a free or all-users group — never a patient group's name, the patient's (別紙5 (2))."""
    found = Q(name__icontains=nfkc(query).strip()) & ~Q(kind=Group.Kind.PATIENT)
    number = group_number(query)
    if number is not None:
        found |= Q(pk=number)
    return found


def center_overview_page(*, number: int = 1, **filters) -> UncountedPage:
    """One page of the center's overview with each group's review status; never counted (a
    million groups), so the page costs the same on page 1 as on a small network."""
    groups = groups_for_center(**filters)
    # The page's ids first, read off the index alone; then those groups with their counts, so
    # the rows before the page are skipped without counting their members.
    page = uncounted_page(groups.values_list("pk", flat=True), number, CENTER_PAGE_SIZE)
    page.object_list = _attach_review_status(groups.filter(pk__in=page.object_list))
    return page


# --- announcements (the all-users group) -------------------------------------------------------


def _announcements_addressed_to(user) -> QuerySet[Announcement]:
    """Announcements for this user's audience, published or not yet, with whether they read
    each."""
    if not _signed_in(user):
        return Announcement.objects.none()
    announcements = Announcement.objects.all()
    if not (user.is_center_staff or is_mcs_admin(user)):
        announcements = announcements.filter(audience=Announcement.Audience.ALL_USERS)
    return announcements.annotate(
        is_read=Exists(AnnouncementRead.objects.filter(announcement=OuterRef("pk"), user=user))
    )


def announcements_for(user) -> QuerySet[Announcement]:
    """Published announcements for this user's audience, with whether they read each."""
    return _announcements_addressed_to(user).filter(publish_at__lte=timezone.now())


def unread_announcements_for(user) -> QuerySet[Announcement]:
    return announcements_for(user).filter(is_read=False)


def unread_announcements_and_next(
    user, *, limit: int
) -> tuple[list[Announcement], dt.datetime | None]:
    """The newest unread announcements, and when the next one for this user is published (a
    cached home holds until then, mcnet.pagecache), in one query: the earliest one still
    ahead comes along and, newest of all, heads the rows."""
    now = timezone.now()
    addressed = _announcements_addressed_to(user)
    ahead = addressed.filter(publish_at__gt=now).order_by("publish_at", "pk").values("pk")[:1]
    rows = list(
        addressed.filter(Q(publish_at__lte=now, is_read=False) | Q(pk__in=ahead)).order_by(
            "-publish_at", "-pk"
        )[: limit + 1]
    )
    if rows and rows[0].publish_at > now:
        return rows[1 : limit + 1], rows[0].publish_at
    return rows[:limit], None


# --- what MCS holds, attested (MCS has no API and no export of its members) ------------------

# An attestation is announced on the home page this many days before it is due.
ATTESTATION_DUE_SOON_DAYS = 14
# For a leaver, MCS should show the staff member released (or never there); for someone in
# post, registered. Anything else is a discrepancy to put right.
SETTLED_FOR_LEAVERS = (StaffAttestationLine.Status.RELEASED, StaffAttestationLine.Status.NOT_IN_MCS)


def attestation_interval() -> dt.timedelta:
    return dt.timedelta(days=NetworkSettings.load().attestation_interval_days)


def staff_line_is_discrepancy(*, in_portal: bool, status: str) -> bool:
    if in_portal:
        return status != StaffAttestationLine.Status.IN_MCS
    return status not in SETTLED_FOR_LEAVERS


def staff_to_attest(facility: Facility) -> list[tuple[User, bool]]:
    """(user, in post?) for the MCS administrator to compare with MCS: everyone in post, and
    the leavers not yet seen released in MCS by an earlier attestation. Two queries."""
    settled = StaffAttestationLine.objects.filter(
        attestation__facility=facility, in_portal=False, status__in=SETTLED_FOR_LEAVERS
    ).values("user_id")
    rows = (
        FacilityMembership.objects.filter(facility=facility)
        .filter(Q(is_active=True) | ~Q(user_id__in=settled))
        .select_related("user")
        .order_by("-is_active", "user__kana", "user__email")
    )
    return [(m.user, m.is_active) for m in rows]


def staff_attestation_base(facility: Facility):
    last = facility.staff_attestations.order_by("-attested_at").first()
    return last, (last.attested_at if last else facility.created_at)


def facilities_attestation_overdue(*, now=None) -> QuerySet[Facility]:
    """Active facilities whose staff attestation is past due: (the last one, else the
    facility's registration) + the network's interval. One query."""
    now = now or timezone.now()
    return (
        Facility.objects.filter(state=Facility.State.ACTIVE)
        .annotate(
            last_attested=Max("staff_attestations__attested_at"),
            attestation_base=Coalesce(Max("staff_attestations__attested_at"), "created_at"),
        )
        .filter(attestation_base__lt=now - attestation_interval())
    )


def groups_attestation_overdue(*, now=None) -> QuerySet[Group]:
    """Working patient groups whose member attestation is past due (last one, else creation)."""
    now = now or timezone.now()
    return (
        Group.objects.filter(kind=Group.Kind.PATIENT, state=Group.State.ACTIVE)
        .annotate(attestation_base=Coalesce(Max("attestations__attested_at"), "created_at"))
        .filter(attestation_base__lt=now - attestation_interval())
    )


def open_staff_discrepancies(facility: Facility) -> QuerySet[StaffAttestationLine]:
    return (
        StaffAttestationLine.objects.filter(
            attestation__facility=facility, discrepancy=True, resolved_at__isnull=True
        )
        .select_related("user", "attestation")
        .order_by("attestation__attested_at", "pk")
    )


def staff_discrepancy_of(facility: Facility, pk: int) -> StaffAttestationLine:
    return first_or_404(open_staff_discrepancies(facility).filter(pk=pk))


def open_group_discrepancies(group: Group) -> QuerySet:
    return group.attestations.filter(discrepancy=True, resolved_at__isnull=True).prefetch_related(
        "missing_in_mcs"
    )


def group_discrepancy_of(group: Group, pk: int):
    return first_or_404(open_group_discrepancies(group).filter(pk=pk))


def attestation_tasks_for(user, *, now=None) -> dict:
    """The home page's tasks: staff attestations due (MCS administrators) and group member
    attestations due (patient-group managers), and the discrepancies each left open."""
    now = now or timezone.now()
    soon = now + dt.timedelta(days=ATTESTATION_DUE_SOON_DAYS) - attestation_interval()
    facilities = Facility.objects.filter(
        pk__in=facility_ids_with(user, "manage_staff"), state=Facility.State.ACTIVE
    ).annotate(
        attestation_base=Coalesce(Max("staff_attestations__attested_at"), "created_at"),
        open_discrepancies=Count(
            "staff_attestations__lines",
            filter=Q(
                staff_attestations__lines__discrepancy=True,
                staff_attestations__lines__resolved_at__isnull=True,
            ),
        ),
    )
    facilities = list(facilities.order_by("name"))
    staff = [f for f in facilities if f.attestation_base < soon or f.open_discrepancies]
    groups = (
        Group.objects.filter(
            pk__in=group_ids_granted(user, "manage_group"),
            kind=Group.Kind.PATIENT,
            state=Group.State.ACTIVE,
        )
        .annotate(
            attestation_base=Coalesce(Max("attestations__attested_at"), "created_at"),
            open_discrepancies=Count(
                "attestations",
                filter=Q(attestations__discrepancy=True, attestations__resolved_at__isnull=True),
            ),
        )
        .order_by("name")
    )
    groups = list(groups)
    group_rows = [g for g in groups if g.attestation_base < soon or g.open_discrepancies]
    interval = attestation_interval()
    for row in (*staff, *group_rows):
        row.attestation_due_at = row.attestation_base + interval
        row.attestation_overdue = row.attestation_due_at < now
    # Each one read, shown or not, appears ATTESTATION_DUE_SOON_DAYS before it is due and
    # turns overdue at its due date: the list holds until the first of these moments.
    due_soon = dt.timedelta(days=ATTESTATION_DUE_SOON_DAYS)
    changes_at = min(
        (
            moment
            for row in (*facilities, *groups)
            for moment in (
                row.attestation_base + interval - due_soon,
                row.attestation_base + interval,
            )
            if moment > now
        ),
        default=None,
    )
    return {"staff_attestations": staff, "group_attestations": group_rows, "changes_at": changes_at}


def attestations_for_center(*, now=None) -> dict:
    """The center's view: facilities whose staff attestation is overdue, and the open
    discrepancies per facility — counts, and patient groups as neutral labels (別紙5 (2))."""
    now = now or timezone.now()
    interval = attestation_interval()
    overdue = list(facilities_attestation_overdue(now=now).order_by("attestation_base", "name"))
    for facility in overdue:
        facility.attestation_due_at = facility.attestation_base + interval
    staff_open = dict(
        StaffAttestationLine.objects.filter(discrepancy=True, resolved_at__isnull=True)
        .values_list("attestation__facility_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    group_open: dict[int, list[str]] = {}
    for pk, facility_id, facility_name in (
        GroupAttestation.objects.filter(discrepancy=True, resolved_at__isnull=True)
        .order_by("group_id")
        .values_list("group_id", "group__facility_id", "group__facility__name")
        .distinct()
    ):
        group_open.setdefault(facility_id, []).append(patient_group_label(pk, facility_name or ""))
    names = dict(
        Facility.objects.filter(pk__in=set(staff_open) | set(group_open)).values_list("pk", "name")
    )
    discrepancies = [
        {
            "facility": names.get(pk, ""),
            "staff": staff_open.get(pk, 0),
            "groups": group_open.get(pk, []),
        }
        for pk in sorted(names, key=lambda pk: names[pk])
    ]
    return {"overdue": overdue, "discrepancies": discrepancies}


def announcement_recipients(announcement: Announcement) -> QuerySet[User]:
    """Who an announcement's mail goes to: every member of the all-users group, or the MCS
    administrators among them (基本設定 7 ①)."""
    users = User.objects.filter(is_active=True, state__in=ALL_USERS_STATES)
    if announcement.audience == Announcement.Audience.MCS_ADMINS:
        users = users.filter(
            pk__in=FacilityRole.objects.filter(
                role=FacilityRole.Role.MCS_ADMIN, facility__state=Facility.State.ACTIVE
            ).values("user_id")
        )
    return users.order_by()


def announcement_for_center(pk: int) -> Announcement:
    return first_or_404(Announcement.objects.select_related("mailed_by").filter(pk=pk))


def announcement_for(user, pk: int) -> Announcement:
    return first_or_404(announcements_for(user).filter(pk=pk))


# --- the home page -----------------------------------------------------------------------------


# The home page lists this many of one's groups, the rest behind 「すべて見る」.
HOME_GROUPS = 10


def home_section(user) -> dict | None:
    """What the user must do now — invitations to answer, reviews due (overdue first), groups
    to archive — and their working groups; unread announcements."""
    if not _signed_in(user):
        return None
    announcements, next_announcement_at = unread_announcements_and_next(user, limit=5)
    invitations = list(invitations_for(user)[:10])
    managed_groups = _attach_review_status(
        Group.objects.filter(
            pk__in=group_ids_granted(user, "manage_group"),
            kind=Group.Kind.PATIENT,
            state=Group.State.ACTIVE,
        ).order_by("name")
    )
    managed = [group for group in managed_groups if group.review and group.review.state != "ok"]
    managed.sort(key=lambda group: (group.review.state != "overdue", group.review.due_at))
    to_archive = list(groups_awaiting_archive_for(user)[:10])
    my_groups = working_groups_of(user)
    attestations = (
        attestation_tasks_for(user)
        if roles_grant(user, "manage_staff", "register_patients")
        else {"staff_attestations": [], "group_attestations": [], "changes_at": None}
    )
    # What turns by itself with time (mcnet.pagecache.holds_until): the next announcement
    # published, a review falling due or overdue (留意事項 1), an attestation due.
    changes_at = min(
        (
            moment
            for moment in (
                next_announcement_at,
                review_changes_at(group.review for group in (*managed_groups, *my_groups)),
                attestations.pop("changes_at"),
            )
            if moment is not None
        ),
        default=None,
    )
    if not (
        announcements
        or invitations
        or managed
        or to_archive
        or my_groups
        or any(attestations.values())
    ):
        return {"changes_at": changes_at} if changes_at else None
    return {
        "changes_at": changes_at,
        "announcements": announcements,
        "invitations": invitations,
        "reviews_due": managed,
        "to_archive": to_archive,
        "todo_count": len(invitations) + len(managed) + len(to_archive),
        "my_groups": my_groups[:HOME_GROUPS],
        "my_group_count": len(my_groups),
        **attestations,
    }


# --- 「あなたの支援チーム」 (別紙5 (2)) --------------------------------------------------------


def team_rows(group: Group) -> list[tuple]:
    """(facility, occupation code, occupation label) of each accepted member: the facility
    the consent covers when the member works at several (the team notice, 別紙5 (2))."""
    covered = covered_facilities_of(group)
    covered_ids = {f.pk for f in covered} if covered is not None else None
    rows = []
    for membership in members_of(group):
        facilities = [row.facility for row in membership.user.facility_rows if row.is_active]
        if covered_ids is not None and any(f.pk in covered_ids for f in facilities):
            facilities = [f for f in facilities if f.pk in covered_ids]
        user = membership.user
        for facility in facilities[:1]:
            rows.append((facility, user.occupation, user.get_occupation_display()))
    return rows


def team_key(group: Group) -> list[list]:
    """What a notice records of the team: facility ids and occupation codes, no names."""
    return sorted({(facility.pk, code or "") for facility, code, _label in team_rows(group)})


def team_notice_status(group: Group) -> dict | None:
    """For a patient group's page: the last notice printed, and whether the team has changed
    since (then a new notice is to be given to the patient and family)."""
    if group.kind != Group.Kind.PATIENT:
        return None
    last = group.team_notices.order_by("-printed_at", "-pk").first()
    current = [list(pair) for pair in team_key(group)]
    return {
        "last": last,
        "changed": last is None or last.team != current,
        "never_printed": last is None,
    }


def team_notice_groups_for(user) -> QuerySet[Group]:
    """Patient groups whose team notice the user may print: the group's managers, while the
    group is working (the patient and family are told by the one who explained the consent)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Group.objects.none()
    return Group.objects.filter(
        kind=Group.Kind.PATIENT,
        state=Group.State.ACTIVE,
        pk__in=group_ids_granted(user, "manage_group"),
        patient__erased_at__isnull=True,
    )


# --- links that went stale (a notification about a group, opened after the fact) ---------------


def group_link_gone(user, pk: int, url_name: str) -> dict | None:
    """Why a group page this user was sent a link to no longer opens for them: the group's
    neutral label (never its patient, 別紙5 (2)), its state and when it changed. Only called
    for a link the user was notified of: they already know the group exists."""
    if not _signed_in(user):
        return None
    group = Group.objects.select_related("facility").filter(pk=pk).first()
    if group is None:
        return {"label": "", "what": "gone"}
    facts = {"label": group.label, "what": group.state}
    if group.state == Group.State.ARCHIVED:
        facts["when"] = group.archived_at
    elif group.state == Group.State.TO_BE_ARCHIVED:
        facts["when"] = group.end_reported_at
    if url_name.startswith("invitation"):
        membership = group.memberships.filter(user=user).order_by("-pk").first()
        facts["what"] = "invitation_" + (membership.state if membership else "none")
    return facts


def groups_of_patient_for(user, patient: Patient) -> QuerySet[Group]:
    """The patient's groups (a patient has at most one working group, and maybe archived
    ones), with whether the user is a member and so may open each: the patient's page
    (consents.views.patient_detail) lists them through consents.permissions.patient_groups."""
    return (
        Group.objects.filter(patient=patient)
        .annotate(
            is_member=Exists(
                GroupUserObjectPermission.objects.filter(
                    user=user,
                    permission__codename="access_group",
                    content_object_id=OuterRef("pk"),
                )
            )
        )
        .order_by("-created_at")
    )


def care_team_facility_ids(patient) -> QuerySet:
    """The facilities through which the people of the patient's care team (members and
    invitees of its groups not archived) came: a new consent covers them unless unticked."""
    return (
        Membership.objects.filter(
            group__patient=patient, state__in=Membership.OPEN_STATES, via_facility__isnull=False
        )
        .exclude(group__state=Group.State.ARCHIVED)
        .values("via_facility")
    )


def group_manager_ids_of_patients(patient_ids) -> dict[int, set[int]]:
    """The active managers of each patient's groups (custodians, with the MCS administrators):
    consents' overdue-request reminders ask it through consents.permissions.patient_groups."""
    managers: dict[int, set[int]] = {}
    rows = Group.objects.filter(
        patient_id__in=patient_ids, manager__isnull=False, manager__is_active=True
    ).values_list("patient_id", "manager_id")
    for patient_id, manager_id in rows:
        managers.setdefault(patient_id, set()).add(manager_id)
    return managers


# --- what the services ask of a group (notifications' links and recipients, who may join) -----


def all_users_group() -> Group:
    """The one all-users group (基本設定 7 ①). A read that makes the row on first use (the
    unique index keeps it one): every caller may ask for it, as it always exists."""
    group = Group.objects.filter(kind=Group.Kind.ALL_USERS).first()
    if group is not None:
        return group
    try:
        with transaction.atomic():
            return Group.objects.create(
                kind=Group.Kind.ALL_USERS,
                name=f"{NetworkSettings.load().name} 全ユーザーグループ",
            )
    except IntegrityError:  # created meanwhile by another request
        return Group.objects.get(kind=Group.Kind.ALL_USERS)


def group_url(group: Group) -> str:
    # Every notification about a group links under /groups/<pk>/, so the retention job can
    # find and scrub those that named the patient (retention_erase_expired).
    return reverse("groups:detail", args=[group.pk])


def mcs_admins_of(facility) -> list[User]:
    """The MCS administrators of a facility (role rows, 第5条)."""
    if facility is None:
        return []
    return list(
        User.objects.filter(
            facility_roles__facility=facility,
            facility_roles__role=FacilityRole.Role.MCS_ADMIN,
            is_active=True,
        ).distinct()
    )


def invitable_facility_ids(group: Group) -> set[int] | None:
    """For a patient group: the facilities its valid consent covers (None: no restriction)."""
    if group.kind != Group.Kind.PATIENT:
        return None
    consent = group.patient.consents.active().first()
    if consent is None:
        return set()
    return set(consent.covered_facilities.values_list("pk", flat=True))
