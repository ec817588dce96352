"""The group list and a group's page cached per user (mcnet/pagecache.py) never show a stale
page: random sequences of the services that change what they show, and after each step every
user's cached pages equal a fresh render with the cache bypassed, for users who keep, gain and
lose access alike. Real PostgreSQL (the generation triggers)."""

import datetime as dt
import itertools
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consents import services as consent_services
from consents.models import Consent, Patient
from facilities import services as facility_services
from facilities.models import Facility, FacilityRole, User
from groups import services
from groups.models import Group, Membership
from mcnet.models import AuditPending
from mcnet.notifications import notify
from mcnet.services import inbox_mark_read
from tests.conftest import ADMINISTRATOR_ROLES, ROLE_EMAILS, log_in

pytestmark = pytest.mark.django_db

ROLES = ("user", "other_facility_user", "mcs_admin", "group_manager")
TOKENS = re.compile(r'(name="(?:csrfmiddlewaretoken|[a-z_]*submission[a-z_]*)" value=")[^"]*"')
_names = itertools.count()


def _page(client, url=None) -> tuple[int, str, str]:
    response = client.get(url or reverse("groups:list"))
    html = (
        response.content.decode() if response.status_code == 200 else response.get("Location", "")
    )
    return response.status_code, TOKENS.sub(r'\1"', html), response.get("X-Page-Cache", "")


def _open_groups(*, manager=None) -> list[Group]:
    groups = Group.objects.filter(state=Group.State.ACTIVE).exclude(kind=Group.Kind.ALL_USERS)
    if manager is not None:
        groups = groups.filter(manager=manager)
    return list(groups.order_by("pk"))


def _pick(items, index):
    return items[index % len(items)] if items else None


# Each step: (people, a number to pick with) -> None. A refusal (the rules say no) is a step
# that changed nothing, which the cache must survive too.
def invite(people, n):
    manager = _pick([people[r] for r in ROLES], n)
    group, user = _pick(_open_groups(manager=manager), n), _pick(list(people.values()), n + 1)
    if group is not None:
        services.membership_invite(actor=manager, group=group, user=user)


def answer(people, n):
    invitation = _pick(list(Membership.objects.filter(state="invited").order_by("pk")), n)
    if invitation is not None:
        if n % 3:
            services.group_invitation_accept(actor=invitation.user, membership=invitation)
        else:
            services.group_invitation_decline(actor=invitation.user, membership=invitation)


def remove(people, n):
    membership = _pick(
        list(Membership.objects.filter(state="accepted", group__state="active").order_by("pk")), n
    )
    if membership is not None:
        services.membership_remove(
            actor=membership.group.manager, membership=membership, reason="担当を外れた"
        )


def leave(people, n):
    user = _pick([people[r] for r in ROLES], n)
    group = _pick([m.group for m in Membership.objects.filter(user=user, state="accepted")], n)
    if group is not None:
        services.membership_leave(actor=user, group=group)


def create_free(people, n):
    services.group_create_free(actor=_pick([people[r] for r in ROLES], n), name=f"班{next(_names)}")


def handover(people, n):
    group = _pick(_open_groups(), n)
    if group is not None:
        new = _pick(list(group.memberships.filter(state="accepted").select_related("user")), n)
        if new is not None:
            services.group_handover(actor=group.manager, group=group, new_manager=new.user)


def report_end_or_archive(people, n):
    group = _pick(_open_groups(), n)
    if group is None:
        return
    if group.kind == Group.Kind.FREE:
        services.group_archive(actor=group.manager, group=group, reason="other")
    else:
        services.group_report_end(actor=group.manager, group=group, reason="moved")


def rename_user(people, n):
    user = _pick(list(people.values()), n)
    facility_services.user_update(actor=people["center"], user=user, name=f"改名{next(_names)}")


def facility_state(people, n):
    facility = _pick(list(Facility.objects.order_by("pk")), n)
    state = _pick([Facility.State.SUSPENDED, Facility.State.ACTIVE], n)
    facility_services.facility_set_state(actor=people["center"], facility=facility, state=state)


def role_change(people, n):
    user = _pick([people[r] for r in ROLES], n)
    row = FacilityRole.objects.filter(user=user, role="group_manager").first()
    if row is not None:
        facility_services.role_relieve(
            actor=people["center"], user=user, facility=row.facility, role=row.role
        )
    else:
        facility = user.memberships.filter(is_active=True).first()
        if facility is not None:
            facility_services.role_appoint(
                actor=people["center"], user=user, facility=facility.facility, role="group_manager"
            )


def patient_update(people, n):
    patient = _pick(list(Patient.objects.filter(erased_at__isnull=True).order_by("pk")), n)
    if patient is not None:
        manager = _pick([g.manager for g in patient.groups.all()], n) or people["group_manager"]
        consent_services.patient_update(
            actor=manager, patient=patient, name=f"患者{next(_names)}", phone=f"025-555-{n:04d}"
        )


def consent_withdraw(people, n):
    consent = _pick(list(Consent.objects.filter(status="active").order_by("pk")), n)
    if consent is not None:
        manager = _pick([g.manager for g in consent.patient.groups.all()], n)
        consent_services.consent_withdraw(
            actor=manager or people["group_manager"],
            consent=consent,
            withdrawn_on=dt.date(2026, 6, 1),
            reported_by="長男",
            method="phone",
        )


def new_patient_group(people, n):
    from tests.factories import made_patient_group

    manager = people["group_manager"]
    facility = manager.memberships.filter(is_active=True).first().facility
    made_patient_group(manager=manager, facility=facility, name=f"患者{next(_names)}")


def review(people, n):
    group = _pick(_open_groups(), n)
    if group is not None and group.kind == Group.Kind.PATIENT:
        services.supporter_review_record(actor=group.manager, group=group)


def unread(people, n):
    user = _pick([people[r] for r in ROLES], n)
    if n % 2:
        notify(recipients=[user], kind="groups.invitation", title="お知らせ")
    else:
        inbox_mark_read(user=user)


STEPS = [
    invite,
    answer,
    remove,
    leave,
    create_free,
    handover,
    report_end_or_archive,
    rename_user,
    facility_state,
    role_change,
    unread,
    patient_update,
    consent_withdraw,
    new_patient_group,
    review,
]


@pytest.fixture
def signed_in(people):
    def sign_in(role):
        return log_in(Client(), people[role], mfa=role in ADMINISTRATOR_ROLES)

    return sign_in


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 50)), min_size=1, max_size=5))
def test_the_cached_list_always_equals_a_fresh_render(people, signed_in, steps):
    clients = {role: signed_in(role) for role in ROLES}
    # Groups' pages for every user: members see them, the others (and those who lose them)
    # get the same refusal whether the cache is on or not.
    pages = [reverse("groups:list")]
    for role in ROLES:  # filled before any change, so that a stale copy would be there
        for url in pages + _group_pages():
            _page(clients[role], url)
    for step, n in steps:
        try:
            step(people, n)
        except (ValidationError, PermissionDenied, Http404):
            pass
        for role in ROLES:
            for url in pages + _group_pages():
                cached = _page(clients[role], url)
                with override_settings(MCNET_PAGE_CACHE=False):
                    fresh = _page(clients[role], url)
                assert cached[:2] == fresh[:2], f"{role} {url} after {step.__name__}({n})"


def _group_pages() -> list[str]:
    """The pages of the demo people's groups (the newest: those the steps made and changed)."""
    groups = (
        Group.objects.exclude(kind=Group.Kind.ALL_USERS)
        .filter(memberships__user__email__in=[ROLE_EMAILS[role] for role in ROLES])
        .distinct()
        .order_by("-pk")
    )
    return [reverse("groups:detail", args=[pk]) for pk in groups.values_list("pk", flat=True)[:4]]


def test_a_second_view_is_served_from_the_cache_without_a_query(
    people, signed_in, django_assert_num_queries
):
    client = signed_in("group_manager")
    assert _page(client)[2] == ""
    with django_assert_num_queries(1):  # the signed-in user, read with the generation
        status, _html, served = _page(client)
    assert (status, served) == (200, "hit")


def test_a_cached_group_page_still_decides_and_records_in_two_queries(
    people, signed_in, django_assert_num_queries
):
    # The signed-in user, and the decision (with what the access log records: never the whole
    # group with its patient, facility and manager, which only a fresh render reads) with the
    # access-log record in the same statement.
    patient_group = Group.objects.filter(
        kind=Group.Kind.PATIENT,
        state=Group.State.ACTIVE,
        memberships__user=people["group_manager"],
        memberships__state=Membership.State.ACCEPTED,
    ).first()
    client = signed_in("group_manager")
    url = reverse("groups:detail", args=[patient_group.pk])
    assert _page(client, url)[2] == ""
    recorded = AuditPending.objects.filter(object_id=str(patient_group.patient_id)).count()
    with django_assert_num_queries(2) as queries:
        status, _html, served = _page(client, url)
    assert (status, served) == (200, "hit")
    assert not any("description" in q["sql"] for q in queries.captured_queries)
    assert AuditPending.objects.filter(object_id=str(patient_group.patient_id)).count() == (
        recorded + 1
    )


def test_a_change_of_the_group_renders_the_list_anew(people, signed_in):
    client = signed_in("group_manager")
    group = services.group_create_free(actor=people["group_manager"], name="訪問看護の班")
    _page(client)
    group.name = "訪問リハビリの班"
    group.save(update_fields=["name"])  # any writer, not only a service: the trigger sees it
    status, html, served = _page(client)
    assert (status, served) == (200, "")
    assert "訪問リハビリの班" in html and "訪問看護の班" not in html


def test_a_message_to_show_is_never_served_from_the_cache(people, signed_in):
    client = signed_in("group_manager")
    _page(client)
    services.group_create_free(actor=people["group_manager"], name="退院調整の班")
    client.post(reverse("groups:create_free_group"), {"name": "見守りの班"})
    status, html, served = _page(client)
    assert (status, served) == (200, "")
    assert "見守りの班" in html


def test_forms_get_fresh_tokens_on_every_cached_answer(signed_in):
    client = signed_in("user")
    client.get(reverse("groups:list"))
    first = client.get(reverse("groups:list"))
    second = client.get(reverse("groups:list"))
    assert first["X-Page-Cache"] == second["X-Page-Cache"] == "hit"
    submission = re.compile(r'name="[a-z_]*submission[a-z_]*" value="([0-9a-f]+)"')
    assert submission.findall(first.content.decode())
    assert submission.findall(first.content.decode()) != submission.findall(second.content.decode())


def test_a_user_who_loses_the_group_no_longer_sees_it(people, signed_in):
    manager, nurse = people["group_manager"], people["user"]
    group = services.group_create_free(actor=manager, name="褥瘡ケアの班")
    membership = services.membership_invite(actor=manager, group=group, user=nurse)
    services.group_invitation_accept(actor=nurse, membership=membership)
    client = signed_in("user")
    assert "褥瘡ケアの班" in _page(client)[1]
    services.membership_remove(actor=manager, membership=membership, reason="担当を外れた")
    assert "褥瘡ケアの班" not in _page(client)[1]
    assert User.objects.filter(pk=nurse.pk).exists()


def test_an_erasure_removes_every_cached_page(signed_in):
    """別紙6: an erased patient's name must not stay in a rendered copy either."""
    from mcnet.fragments import fragments_forget

    client = signed_in("group_manager")
    _page(client)
    assert _page(client)[2] == "hit"
    assert fragments_forget() >= 1
    assert _page(client)[2] == ""
