"""Reads that depend on who asks.

Every page of one facility goes through `facility_for(user, pk, *codenames)`: the guardian
grant on that facility (from the role rows) or a 404, so another facility's administrator
learns nothing, not even that the page exists.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group as AuthGroup
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from mcnet.models import Notification, PageGeneration
from mcnet.rulebook.models import Document, RuleVersion
from mcnet.rulebook.selectors import version_in_force, versions_of
from mcnet.selectors import first_or_404
from mcnet.text import nfkc

from .models import (
    CENTER_STAFF_GROUP,
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    FacilityUserObjectPermission,
    Invitation,
    StaffPledge,
    User,
    UserRestriction,
    fiscal_year_start,
)
from .permissions import facility_ids_with
from .search import search_key

Role = FacilityRole.Role

# Substring search needs 3 characters to use the trigram index; shorter queries match the
# beginning of the name or kana (a surname, 「やま」), which the prefix index serves.
SUBSTRING_MIN_LENGTH = 3
DIRECTORY_MAX_LIMIT = 200


def signed_in_user(user_id) -> User | None:
    """The user a session names, read with what every page's header asks of them (center
    staff or not, unread notifications) and the generation of their cached pages
    (mcnet/pagecache.py: their own, the network's and, for center staff, the center's; see
    mcnet.models.PageGeneration) in the same query: one query a page, not four.

    Written as SQL: it runs on every request, and building the same query with the ORM (an
    Exists and a counting subquery) cost more than the round trip itself (make bench)."""
    try:
        user_id = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    table = _table_names(User, AuthGroup, User.groups.through, Notification, PageGeneration)
    user_groups = User.groups.field.m2m_reverse_name()
    sql = (
        "SELECT u.*,"  # noqa: S608 (table and column names from the models; values are params)
        f" EXISTS (SELECT 1 FROM {table[User.groups.through]} ug JOIN {table[AuthGroup]} g ON g.id = ug.{user_groups}"
        f"  WHERE ug.{User.groups.field.m2m_column_name()} = u.id AND g.name = %s) AS in_center_staff_group,"
        f" (SELECT COUNT(*) FROM {table[Notification]} n"
        "  WHERE n.recipient_id = u.id AND n.read_at IS NULL) AS unread_notifications,"
        f" (SELECT SUM(pg.generation) FROM {table[PageGeneration]} pg"
        "  WHERE pg.user_id = u.id OR pg.user_id = %s OR (pg.user_id = %s AND u.is_active AND"
        f"   EXISTS (SELECT 1 FROM {table[User.groups.through]} ug JOIN {table[AuthGroup]} g ON g.id = ug.{user_groups}"
        f"    WHERE ug.{User.groups.field.m2m_column_name()} = u.id AND g.name = %s)))"
        "  AS page_generation"
        f" FROM {table[User]} u WHERE u.id = %s"
    )
    params = [
        CENTER_STAFF_GROUP,
        PageGeneration.NETWORK,
        PageGeneration.CENTER,
        CENTER_STAFF_GROUP,
        user_id,
    ]
    user = next(iter(User.objects.raw(sql, params)), None)
    if user is not None:
        user.in_center_staff_group = bool(user.in_center_staff_group)  # SQLite says 0 or 1
    return user


def _table_names(*models) -> dict:
    from django.db import connection

    return {model: connection.ops.quote_name(model._meta.db_table) for model in models}


def roles_of(user: User) -> QuerySet[FacilityRole]:
    """The user's roles, with their facilities, for the home page and the menus."""
    return (
        FacilityRole.objects.filter(user=user)
        .select_related("facility")
        .order_by("facility__name", "role")
    )


def user_requires_mfa(user: User) -> bool:
    """Administrators must use MFA (national guideline, via art. 3): center staff, MCS
    administrators, and facility managers, who appoint the MCS administrators (第5条)."""
    if not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or user.is_center_staff
        or user.holds_role(FacilityRole.Role.MCS_ADMIN, FacilityRole.Role.FACILITY_MANAGER)
    )


def _network_user(user) -> bool:
    """A signed-in, active user of the network (restricted or banned users are not)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.state == User.State.ACTIVE
    )


# --- one facility, by the grants on it ---------------------------------------------------------


def facility_for(user, pk: int, *codenames: str) -> Facility:
    """The facility `pk` if the user holds one of the grants on it, else 404."""
    return first_or_404(Facility.objects.filter(pk=pk, pk__in=facility_ids_with(user, *codenames)))


def grants_on(user, facility: Facility) -> set[str]:
    """The user's codenames on `facility` (one query), for showing only the allowed actions."""
    if not _network_user(user):
        return set()
    return set(
        FacilityUserObjectPermission.objects.filter(user=user, content_object=facility).values_list(
            "permission__codename", flat=True
        )
    )


def facilities_managed_by(user) -> QuerySet[Facility]:
    """Facilities where the user runs staff (MCS administrator) or education (manager)."""
    return Facility.objects.filter(
        pk__in=facility_ids_with(user, "manage_staff", "manage_education", "sign_for_facility")
    ).order_by("name")


def staff_member(facility: Facility, user_id: int, *, active_only: bool = False) -> User:
    """A person who is or was staff of `facility`, else 404."""
    memberships = FacilityMembership.objects.filter(facility=facility, user_id=user_id)
    if active_only:
        memberships = memberships.filter(is_active=True)
    return first_or_404(User.objects.filter(pk=user_id, pk__in=memberships.values("user_id")))


def active_staff(facility: Facility) -> QuerySet[User]:
    return User.objects.filter(
        memberships__facility=facility, memberships__is_active=True
    ).order_by("kana", "email")


# --- the staff list (第6条(3)(4), 第7条) ---------------------------------------------------------


# The staff list's filter: in post, ended (退職等), or both.
STAFF_STATUSES = ("active", "ended", "all")


def staff_list(
    facility: Facility, *, today: dt.date | None = None, query: str = "", status: str = "all"
) -> QuerySet[FacilityMembership]:
    """Every membership of the facility with what the MCS administrator needs to see: roles,
    occupation, last login, MFA, pledge, this 年度's education, measure in force, state.
    `query` finds staff by name, kana or MCS ID; `status` keeps those in post or ended only.

    Two queries whatever the number of staff (annotations and one prefetch); ordered, so a
    page of it is read with LIMIT (mcnet.pagination.uncounted_page)."""
    today = today or timezone.localdate()
    year_start = fiscal_year_start(today)
    pledges = StaffPledge.objects.filter(user=OuterRef("user_id"), facility=facility)
    restriction = UserRestriction.objects.filter(
        user=OuterRef("user_id"), facility=facility, lifted_at__isnull=True
    )
    attended = EducationSession.attendees.through.objects.filter(
        user_id=OuterRef("user_id"),
        educationsession__facility=facility,
        educationsession__held_on__gte=year_start,
        educationsession__held_on__lte=today,
    )
    memberships = FacilityMembership.objects.filter(facility=facility)
    if status == "active":
        memberships = memberships.filter(is_active=True)
    elif status == "ended":
        memberships = memberships.filter(is_active=False)
    if query:
        text = nfkc(query)
        memberships = memberships.filter(
            Q(user__name__icontains=text)
            | Q(user__kana__icontains=text)
            | Q(user__email__icontains=text)
        )
    memberships = (
        memberships.select_related("user")
        .annotate(
            has_mfa=Exists(
                Authenticator.objects.filter(user_id=OuterRef("user_id")).exclude(
                    type=Authenticator.Type.RECOVERY_CODES
                )
            ),
            has_pledge=Exists(pledges),
            pledge_signed_on=Subquery(pledges.values("signed_on")[:1]),
            pledge_waived=Subquery(pledges.values("waived")[:1]),
            educated_this_year=Exists(attended),
            restriction_level=Subquery(restriction.values("level")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "user__facility_roles",
                queryset=FacilityRole.objects.filter(facility=facility).order_by("role"),
                to_attr="roles_here",
            )
        )
        .order_by("-is_active", "user__kana", "user__email", "pk")
    )
    return memberships


@dataclass
class StaffGaps:
    """第7条: who has no pledge on file and who missed this 年度's education."""

    year_start: dt.date
    without_pledge: list[User]
    without_education: list[User]


def fiscal_year_start_today() -> dt.date:
    """The first day of this 年度 (April 1st): education is counted per Japanese fiscal year."""
    return fiscal_year_start(timezone.localdate())


def staff_gaps(facility: Facility, *, today: dt.date | None = None) -> StaffGaps:
    today = today or timezone.localdate()
    year_start = fiscal_year_start(today)
    staff = User.objects.filter(
        pk__in=FacilityMembership.objects.filter(facility=facility, is_active=True).values(
            "user_id"
        )
    ).order_by("kana", "email")
    without_pledge = staff.exclude(
        pk__in=StaffPledge.objects.filter(facility=facility).values("user_id")
    )
    without_education = staff.exclude(
        pk__in=EducationSession.attendees.through.objects.filter(
            educationsession__facility=facility,
            educationsession__held_on__gte=year_start,
            educationsession__held_on__lte=today,
        ).values("user_id")
    )
    return StaffGaps(year_start, list(without_pledge), list(without_education))


def education_sessions_of(facility: Facility) -> QuerySet[EducationSession]:
    return (
        EducationSession.objects.filter(facility=facility)
        .select_related("recorded_by")
        .prefetch_related("attendees")
    )


def education_session_of(facility: Facility, pk: int) -> EducationSession:
    return first_or_404(education_sessions_of(facility).filter(pk=pk))


def restrictions_of(facility: Facility, user: User) -> QuerySet[UserRestriction]:
    return UserRestriction.objects.filter(facility=facility, user=user).select_related(
        "created_by", "lifted_by"
    )


def incident_reports_of(restriction: UserRestriction) -> list:
    """The incident reports behind a measure (the devices app links them), if that exists."""
    related = getattr(restriction, "incident_reports", None)
    return list(related.all()) if related is not None else []


# --- invitations -------------------------------------------------------------------------------


def invitations_of(facility: Facility) -> QuerySet[Invitation]:
    return Invitation.objects.filter(facility=facility).select_related(
        "created_by", "accepted_user"
    )


def invitation_of(facility: Facility, pk: int) -> Invitation:
    return first_or_404(invitations_of(facility).filter(pk=pk))


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link names, or None when the link is forged, mangled or superseded."""
    key = Invitation.key_from_token(token)
    if key is None:
        return None
    return Invitation.objects.select_related("facility", "created_by").filter(key=key).first()


# --- directory (every active user, to invite across facilities) --------------------------------


def _active_memberships(facility=None, facility_key: str = "") -> QuerySet[FacilityMembership]:
    memberships = FacilityMembership.objects.filter(
        is_active=True, facility__state=Facility.State.ACTIVE
    )
    if facility is not None:
        memberships = memberships.filter(facility=facility)
    if facility_key:
        memberships = memberships.filter(facility__search_name__contains=facility_key)
    return memberships


def _listed_in_kana_order(candidates: QuerySet[User], memberships, limit: int) -> tuple:
    """SQL (and its parameters) for the ids of the first `limit` `candidates` in kana order
    that hold one of `memberships`: the candidates sorted first (OFFSET 0 keeps them apart),
    then checked in that order until `limit` are found. Left to itself the planner either
    joined every candidate's memberships or walked the kana index from its start, guessing
    that names and kana are unrelated — 「佐藤」 (6,000 of 200,000 names, kana サトウ…): 180 ms
    against 10 (make bench)."""
    candidate_sql, candidate_params = (
        candidates.order_by("search_kana", "pk").values("pk", "search_kana").query.sql_with_params()
    )
    member_sql, member_params = (
        memberships.filter(user_id=RawSQL('"candidate"."pk"', ())).values("pk").query
    ).sql_with_params()
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""  # SQLite (make run): none
    sql = (
        f'SELECT "candidate"."pk" FROM ({candidate_sql}{fence}) AS "candidate"'  # noqa: S608
        f' WHERE EXISTS ({member_sql}) ORDER BY "candidate"."search_kana", "candidate"."pk"'
        " LIMIT %s"
    )
    return sql, (*candidate_params, *member_params, limit)


def directory_users(
    *,
    viewer,
    query: str = "",
    facility=None,
    occupation: str = "",
    limit: int = 50,
    ids=None,
    facility_name: str = "",
) -> QuerySet[User]:
    """Active users of active facilities, found by name or kana (either script, any width),
    facility and occupation, or among `ids` (people already chosen); at most `limit` (≤ 200),
    in kana order.

    Each user carries `directory_facilities` (their active facilities). Pages show only name,
    kana, occupation, facility and photo: never the e-mail or the phone."""
    if not _network_user(viewer) and not getattr(viewer, "is_center_staff", False):
        return User.objects.none()
    accounts = User.objects.filter(is_active=True, state=User.State.ACTIVE)
    if occupation:
        accounts = accounts.filter(occupation=occupation)
    if ids is not None:
        accounts = accounts.filter(pk__in=ids)
    memberships = _active_memberships(facility, search_key(facility_name))
    users = accounts.filter(Exists(memberships.filter(user=OuterRef("pk"))))
    limit = max(1, min(int(limit), DIRECTORY_MAX_LIMIT))
    order = ("search_kana", "pk")
    key = search_key(query)
    if key:
        lookup = "contains" if len(key) >= SUBSTRING_MIN_LENGTH else "startswith"
        # Kana or name: the first `limit` of either, in kana order, then the first `limit` of
        # both — the same people as one query with OR, which walked the kana index past
        # everyone before the match (「佐藤」: 80,000 of 200,000). Kana matches come off the
        # kana index in order and stop at `limit`; name matches and their kana from the name
        # index alone (user_directory_name), sorted, then checked in order.
        by_kana = users.filter(**{f"search_kana__{lookup}": key}).order_by(*order)
        kana_sql, kana_params = by_kana.values("pk")[:limit].query.sql_with_params()
        name_sql, name_params = _listed_in_kana_order(
            accounts.filter(**{f"search_name__{lookup}": key}), memberships, limit
        )
        # Django's own compiled SQL; what was typed travels as a parameter.
        both = (
            f"SELECT pk FROM ({kana_sql}) AS by_kana"  # noqa: S608
            f" UNION ALL SELECT pk FROM ({name_sql}) AS by_name"
        )
        users = User.objects.filter(pk__in=RawSQL(both, (*kana_params, *name_params)))  # noqa: S611
    return users.order_by(*order).prefetch_related(
        Prefetch(
            "memberships",
            queryset=FacilityMembership.objects.filter(
                is_active=True, facility__state=Facility.State.ACTIVE
            )
            .select_related("facility")
            .only("id", "user_id", "facility__id", "facility__name", "facility__kind"),
            to_attr="directory_memberships",
        )
    )[:limit]


def directory_facilities(
    *, viewer, query: str = "", kind: str = "", town: str = "", limit: int = 100
) -> QuerySet[Facility]:
    """Active facilities by name, kind and town; other facilities' staff see name and kind
    (and where they are) — nothing else of a facility (DOMAIN.md)."""
    if not _network_user(viewer) and not getattr(viewer, "is_center_staff", False):
        return Facility.objects.none()
    facilities = Facility.objects.filter(state=Facility.State.ACTIVE)
    key = search_key(query)
    if key:
        facilities = facilities.filter(search_name__contains=key)
    if kind:
        facilities = facilities.filter(kind=kind)
    town = nfkc(town).replace(" ", "")
    if town:
        facilities = facilities.filter(Q(town__contains=town) | Q(city__contains=town))
    limit = max(1, min(int(limit), DIRECTORY_MAX_LIMIT))
    return facilities.order_by("name").only("id", "name", "kind", "prefecture", "city", "town")[
        :limit
    ]


def directory_facility_choices(viewer) -> QuerySet[Facility]:
    if not _network_user(viewer) and not getattr(viewer, "is_center_staff", False):
        return Facility.objects.none()
    return Facility.objects.filter(state=Facility.State.ACTIVE).order_by("name")


def photo_owner(viewer, user_id: int) -> User:
    """Whose photo a signed-in active network user may see (any member: groups show faces,
    留意事項 4); 404 for anyone else or when there is no photo."""
    if not (_network_user(viewer) or getattr(viewer, "is_center_staff", False)):
        raise Http404
    return first_or_404(User.objects.filter(pk=user_id).exclude(photo="").only("id", "photo"))


# --- the home page -------------------------------------------------------------------------------


def home_section(user) -> dict | None:
    """For MCS administrators and facility managers: what needs doing in their facilities."""
    if not _network_user(user):
        return None
    facilities = list(facilities_managed_by(user))
    if not facilities:
        return None
    today = timezone.localdate()
    now = timezone.now()
    cards = []
    expiries = []
    for facility in facilities:
        gaps = staff_gaps(facility, today=today)
        # The count falls as each invitation lapses: a cached home holds until the first.
        invitations = Invitation.objects.filter(
            facility=facility, state=Invitation.State.PENDING, expires_at__gt=now
        ).aggregate(pending=Count("pk"), next_expiry=Min("expires_at"))
        if invitations["next_expiry"] is not None:
            expiries.append(invitations["next_expiry"])
        cards.append(
            {
                "facility": facility,
                "without_pledge": len(gaps.without_pledge),
                "without_education": len(gaps.without_education),
                "pending_invitations": invitations["pending"],
            }
        )
    return {
        "cards": cards,
        "year_start": fiscal_year_start(today),
        "changes_at": min(expiries, default=None),
    }


def role_holder_ids(facility_ids, role: str) -> dict[int, list[int]]:
    """The ids of the active holders of a facility role (FacilityRole.Role) at each facility,
    in one query: those a role-addressed notification goes to. `facility_ids` may be a
    queryset (a subquery)."""
    holders = defaultdict(list)
    rows = (
        FacilityRole.objects.filter(facility_id__in=facility_ids, role=role, user__is_active=True)
        .order_by("facility_id", "user_id")
        .values_list("facility_id", "user_id")
    )
    for facility_id, user_id in rows:
        holders[facility_id].append(user_id)
    return holders


# --- the staff pledge (第7条) and the facility's own rules (第14条) -------------------------------


@dataclass
class PledgeState:
    """One facility of a staff member: their pledge and whether it covers the version in force."""

    membership: FacilityMembership
    pledge: StaffPledge | None
    current: RuleVersion

    @property
    def facility(self) -> Facility:
        return self.membership.facility

    @property
    def up_to_date(self) -> bool:
        return self.pledge is not None and self.pledge.rule_version_id == self.current.pk

    @property
    def confirmed_in_portal(self) -> bool:
        return self.up_to_date and self.pledge.method == StaffPledge.Method.PORTAL


def pledge_states_of(user) -> list[PledgeState]:
    """The facilities the user works at now, each with their pledge (第7条) against the
    version of items (1)–(5) in force today."""
    if not _network_user(user):
        return []
    current = version_in_force(Document.STAFF_PLEDGE)
    memberships = (
        FacilityMembership.objects.filter(user=user, is_active=True)
        .select_related("facility")
        .order_by("facility__name")
    )
    pledges = {
        p.facility_id: p
        for p in StaffPledge.objects.filter(user=user).select_related("rule_version")
    }
    return [PledgeState(m, pledges.get(m.facility_id), current) for m in memberships]


def pledge_facility_of(user, pk: int) -> Facility:
    """A facility the user works at now (to confirm their own pledge), else 404."""
    if not _network_user(user):
        raise Http404
    return first_or_404(
        Facility.objects.filter(pk=pk, memberships__user=user, memberships__is_active=True)
    )


def memberships_printable_by(user) -> QuerySet[FacilityMembership]:
    """Whose 従事者誓約書 the user may print: their own, and the staff of the facilities where
    they run pledges (第7条: the facility manager)."""
    if not _network_user(user):
        return FacilityMembership.objects.none()
    return FacilityMembership.objects.filter(
        Q(user=user) | Q(facility_id__in=facility_ids_with(user, "manage_education")),
        is_active=True,
    )


def facility_rules_facility(user, pk: int) -> Facility:
    """A facility whose own rules (第14条) the user may read: they work there now."""
    return pledge_facility_of(user, pk)


def facility_rules_in_force(facility: Facility) -> RuleVersion | None:
    return version_in_force(Document.FACILITY_RULES, facility=facility)


def facility_rules_history(facility: Facility) -> QuerySet[RuleVersion]:
    return versions_of(Document.FACILITY_RULES, facility=facility)


def staff_pledge_version(pk) -> RuleVersion | None:
    """The version of the staff pledge a confirmation names (any published one; the service
    refuses one no longer in force)."""
    return RuleVersion.objects.filter(
        pk=pk, document=Document.STAFF_PLEDGE, facility__isnull=True
    ).first()


def pledge_version_in_force() -> RuleVersion:
    return version_in_force(Document.STAFF_PLEDGE)


def center_staff_users() -> QuerySet[User]:
    """The center's active staff: who hears of the facilities' papers and changes (第4条)."""
    return User.objects.filter(groups__name=CENTER_STAFF_GROUP, is_active=True).distinct()
