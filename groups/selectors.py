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
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from consents.models import Consent
from consents.selectors import facility_ids_granted
from facilities.models import Facility, FacilityMembership, FacilityRole, User
from facilities.permissions import roles_grant
from mcnet.models import NetworkSettings
from mcnet.pagination import UncountedPage, uncounted_page
from mcnet.text import nfkc

from .models import Announcement, AnnouncementRead, Group, GroupUserObjectPermission, Membership

# Who is in the all-users group: every account that can sign in and has not left or been banned.
# A restricted user (留意事項 2) still signs in and still hears from the center; they only cannot
# join groups.
ALL_USERS_STATES = (User.State.ACTIVE, User.State.RESTRICTED)

# A review counts as "due" this many days before its deadline, so the manager can plan it.
REVIEW_DUE_SOON_DAYS = 14


def group_ids_granted(user, codename: str) -> QuerySet:
    """Ids of the groups on which the user holds `groups.<codename>` (a subquery)."""
    return GroupUserObjectPermission.objects.filter(
        user=user, permission__content_type__app_label="groups", permission__codename=codename
    ).values("content_object_id")


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _count_of(state: str):
    """Memberships of one state, as a correlated subquery: PostgreSQL counts them only for the
    rows a page shows, instead of joining and grouping every group (issue 9, make bench)."""
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
    """Groups whose page the user may open: those they accepted (also once archived), and the
    all-users group for every active user (implicit membership, see models.Group)."""
    if not _signed_in(user):
        return Group.objects.none()
    visible = Q(pk__in=group_ids_granted(user, "access_group"))
    if user.state in ALL_USERS_STATES:
        visible |= Q(kind=Group.Kind.ALL_USERS)
    return Group.objects.filter(visible)


def group_for_member(user, pk: int) -> Group:
    group = (
        groups_visible_to(user)
        .select_related("patient", "facility", "manager")
        .annotate(is_managed=_managed_by(user))
        .filter(pk=pk)
        .first()
    )
    if group is None:  # 404: an invitee or a stranger learns nothing, not even existence
        raise Http404
    return group


def group_for_manager(user, pk: int) -> Group:
    """A group the user manages (and that is not archived)."""
    if not _signed_in(user):
        raise Http404
    group = (
        Group.objects.filter(pk__in=group_ids_granted(user, "manage_group"))
        .select_related("patient", "facility", "manager")
        .filter(pk=pk)
        .first()
    )
    if group is None:
        raise Http404
    return group


def group_for_handover(user, pk: int) -> Group:
    """The manager hands over; so may the owning facility's MCS administrator, for a group
    whose manager left (留意事項 1)."""
    if not _signed_in(user):
        raise Http404
    group = (
        Group.objects.filter(
            Q(pk__in=group_ids_granted(user, "manage_group"))
            | Q(facility_id__in=facility_ids_granted(user, "archive_groups"))
        )
        .exclude(kind=Group.Kind.ALL_USERS)
        .filter(state=Group.State.ACTIVE, pk=pk)
        .select_related("facility", "manager")
        .first()
    )
    if group is None:
        raise Http404
    return group


def _managed_by(user) -> Exists:
    return Exists(group_ids_granted(user, "manage_group").filter(content_object_id=OuterRef("pk")))


def is_manager_of(user, group: Group) -> bool:
    managed = getattr(group, "is_managed", None)  # read with the group (group_for_member)
    if managed is not None:
        return managed
    return group_ids_granted(user, "manage_group").filter(content_object_id=group.pk).exists()


@dataclass(frozen=True)
class ReviewStatus:
    """留意事項 1: when the next supporter review is due, and how it stands."""

    due_at: dt.datetime
    state: str  # "ok", "due", "overdue"

    @property
    def label(self) -> str:
        from django.utils.translation import gettext as _

        return {"ok": _("済"), "due": _("期限間近"), "overdue": _("期限切れ")}[self.state]


def review_status(group: Group, *, now=None, interval_days: int | None = None):
    """None for groups that are not reviewed (free, all-users, archived)."""
    if group.kind != Group.Kind.PATIENT or group.state == Group.State.ARCHIVED:
        return None
    now = now or timezone.now()
    if interval_days is None:
        interval_days = NetworkSettings.load().review_interval_days
    due_at = (group.last_reviewed_at or group.created_at) + dt.timedelta(days=interval_days)
    if now > due_at:
        state = "overdue"
    elif now > due_at - dt.timedelta(days=REVIEW_DUE_SOON_DAYS):
        state = "due"
    else:
        state = "ok"
    return ReviewStatus(due_at=due_at, state=state)


def _attach_review_status(groups) -> list[Group]:
    interval = NetworkSettings.load().review_interval_days
    now = timezone.now()
    groups = list(groups)
    for group in groups:
        group.review = review_status(group, now=now, interval_days=interval)
    return groups


def working_groups_of(user) -> list[Group]:
    """The user's working list: accepted groups that are not archived, with member counts,
    whether the user manages each, and the review status (留意事項 1)."""
    if not _signed_in(user):
        return []
    groups = (
        Group.objects.filter(pk__in=group_ids_granted(user, "access_group"))
        .exclude(state=Group.State.ARCHIVED)
        # What the list shows and the review status needs, nothing more (issue 9: the most
        # used page; building three model objects a row was a third of its time).
        .only("kind", "name", "state", "last_reviewed_at", "created_at")
        .annotate(is_managed=_managed_by(user))
        .order_by("kind", "name", "pk")
    )
    return _attach_review_status(_with_member_count(groups))


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
    about 45 ms a view, so it is kept in the cache for five minutes (issue 9)."""
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
            pk__in=Consent.objects.filter(
                patient_id=group.patient_id, status=Consent.Status.ACTIVE
            ).values("covered_facilities")
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
    membership = (
        group.memberships.filter(pk=pk, state__in=Membership.OPEN_STATES)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def reviews_of(group: Group) -> QuerySet:
    return group.reviews.select_related("reviewed_by").prefetch_related("removed__user")[:20]


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
    invitation = invitations_for(user).filter(group_id=group_pk).first()
    if invitation is None:
        raise Http404
    return invitation


def invitation_expired(invitation: Membership, *, now=None) -> bool:
    days = NetworkSettings.load().invitation_expiry_days
    return (now or timezone.now()) > invitation.invited_at + dt.timedelta(days=days)


# --- end of care and the archive (留意事項 2, 3) ------------------------------------------------


def groups_awaiting_archive_for(user) -> QuerySet[Group]:
    """Groups reported ended in the facilities where the user archives (MCS administrator)."""
    if not _signed_in(user) or not roles_grant(user, "archive_groups"):
        return Group.objects.none()
    return _with_member_count(
        Group.objects.filter(
            state=Group.State.TO_BE_ARCHIVED,
            facility_id__in=facility_ids_granted(user, "archive_groups"),
        )
        .select_related("facility", "manager", "end_reported_by")
        .order_by("end_reported_at", "pk")
    )


def group_for_archiver(user, pk: int) -> Group:
    """A working group the user may archive: the owning facility's MCS administrator
    (留意事項 2); for a free group, also its own manager (it holds no patient)."""
    if not _signed_in(user):
        raise Http404
    group = (
        Group.objects.filter(
            Q(facility_id__in=facility_ids_granted(user, "archive_groups"))
            | Q(kind=Group.Kind.FREE, pk__in=group_ids_granted(user, "manage_group"))
        )
        .exclude(kind=Group.Kind.ALL_USERS)
        .exclude(state=Group.State.ARCHIVED)
        .select_related("facility", "manager", "end_reported_by")
        .filter(pk=pk)
        .first()
    )
    if group is None:
        raise Http404
    return group


def can_archive(user, group: Group) -> bool:
    # What group_for_archiver asks, at the least; most members hold neither, and the role
    # rows and the group already say so without a query.
    if not (
        roles_grant(user, "archive_groups")
        or (group.kind == Group.Kind.FREE and is_manager_of(user, group))
    ):
        return False
    try:
        return group_for_archiver(user, group.pk) is not None
    except Http404:
        return False


def archived_groups_for(user, *, query: str = "", reason: str = "") -> QuerySet[Group]:
    """The archive (アーカイブ機能): archived groups the user was a member of, and those of the
    facilities where the user archives. Searchable by name and reason."""
    if not _signed_in(user):
        return Group.objects.none()
    groups = Group.objects.filter(state=Group.State.ARCHIVED).filter(
        Q(pk__in=group_ids_granted(user, "access_group"))
        | Q(facility_id__in=facility_ids_granted(user, "archive_groups"))
    )
    if query:
        groups = groups.filter(name__icontains=nfkc(query))
    if reason:
        groups = groups.filter(end_reason=reason)
    return _with_member_count(
        groups.select_related("facility", "manager", "archived_by")
        .annotate(
            is_member=Exists(
                group_ids_granted(user, "access_group").filter(content_object_id=OuterRef("pk"))
            )
        )
        .order_by("-archived_at", "-pk")
    )


# --- an MCS administrator and their own staff (留意事項 1) ---------------------------------------


def staff_member_for_admin(admin, user_pk: int) -> User:
    """A user who works (or worked) at a facility where `admin` manages staff."""
    if not _signed_in(admin):
        raise Http404
    staff = User.objects.filter(
        pk=user_pk,
        memberships__facility_id__in=facility_ids_granted(admin, "manage_staff"),
    ).first()
    if staff is None:
        raise Http404
    return staff


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
        groups = groups.filter(name__icontains=nfkc(query))
    if kind:
        groups = groups.filter(kind=kind)
    if state:
        groups = groups.filter(state=state)
    groups = _with_member_count(groups).annotate(invited_count=_count_of(Membership.State.INVITED))
    # The order of the index group_center_order: a page is read off it, not sorted.
    return groups.order_by("state", "kind", "name", "pk")


def center_overview_page(*, number: int = 1, **filters) -> UncountedPage:
    """One page of the center's overview with each group's review status; never counted (a
    million groups: issue 9), so the page costs the same on page 1 as on a small network."""
    groups = groups_for_center(**filters)
    # The page's ids first, read off the index alone; then those groups with their counts, so
    # the rows before the page are skipped without counting their members.
    page = uncounted_page(groups.values_list("pk", flat=True), number, CENTER_PAGE_SIZE)
    page.object_list = _attach_review_status(groups.filter(pk__in=page.object_list))
    return page


# --- announcements (the all-users group) -------------------------------------------------------


def is_mcs_admin(user) -> bool:
    return user.holds_role(FacilityRole.Role.MCS_ADMIN)


def announcements_for(user) -> QuerySet[Announcement]:
    """Published announcements for this user's audience, with whether they read each."""
    if not _signed_in(user):
        return Announcement.objects.none()
    announcements = Announcement.objects.filter(publish_at__lte=timezone.now())
    if not (user.is_center_staff or is_mcs_admin(user)):
        announcements = announcements.filter(audience=Announcement.Audience.ALL_USERS)
    return announcements.annotate(
        is_read=Exists(AnnouncementRead.objects.filter(announcement=OuterRef("pk"), user=user))
    )


def unread_announcements_for(user) -> QuerySet[Announcement]:
    return announcements_for(user).filter(is_read=False)


def announcement_for(user, pk: int) -> Announcement:
    announcement = announcements_for(user).filter(pk=pk).first()
    if announcement is None:
        raise Http404
    return announcement


# --- the home page -----------------------------------------------------------------------------


def home_section(user) -> dict | None:
    """Unread announcements, pending invitations, reviews due and groups to archive."""
    if not _signed_in(user):
        return None
    announcements = list(unread_announcements_for(user)[:5])
    invitations = list(invitations_for(user)[:10])
    managed = [
        group
        for group in _attach_review_status(
            Group.objects.filter(
                pk__in=group_ids_granted(user, "manage_group"),
                kind=Group.Kind.PATIENT,
                state=Group.State.ACTIVE,
            ).order_by("name")
        )
        if group.review and group.review.state != "ok"
    ]
    to_archive = list(groups_awaiting_archive_for(user)[:10])
    if not (announcements or invitations or managed or to_archive):
        return None
    return {
        "announcements": announcements,
        "invitations": invitations,
        "reviews_due": managed,
        "to_archive": to_archive,
    }
