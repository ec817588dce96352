"""The home page cached per user (mcnet/pagecache.py) never shows a stale page: random
sequences of the services that change what home shows (docs/architecture.md, "Cached
pages"), and after each step every demo user's cached home equals a fresh render with the
cache bypassed — those who gain, keep and lose a patient, a request or a task alike. Real
PostgreSQL (the generation triggers of groups 0009 and mcnet.dashboard 0003)."""

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consents import services as consent_services
from consents.models import Patient, PatientRequest
from devices import services as device_services
from devices.models import Device, IncidentReport, LossReport, TakeoutRequest
from enrollment import services as enrollment_services
from enrollment.models import Application
from facilities import services as facility_services
from facilities.models import Facility, FacilityMembership, Invitation
from facilities.selectors import staff_gaps
from groups import selectors as group_selectors
from groups import services as group_services
from groups.models import Announcement, Group, GroupAttestation, StaffAttestationLine
from mcnet.fragments import fragments_forget
from tests.conftest import ADMINISTRATOR_ROLES, ROLE_EMAILS, log_in
from tests.groups import test_list_cache as list_steps

pytestmark = pytest.mark.django_db

ROLES = tuple(ROLE_EMAILS)  # every demo role, the center included
ADMINS = ("mcs_admin", "other_mcs_admin")
_names = itertools.count()
_page = list_steps._page
_pick = list_steps._pick


def _home(client):
    return _page(client, reverse("home"))


def _facility_of(user) -> Facility | None:
    membership = FacilityMembership.objects.filter(user=user, is_active=True).first()
    return membership.facility if membership else None


def _admin_of(people, facility_id):
    """The demo's MCS administrator of that facility (高田's or ABC's)."""
    for role in ADMINS:
        facility = _facility_of(people[role])
        if facility is not None and facility.pk == facility_id:
            return people[role]
    return people[ADMINS[0]]


def _admin(people, n):
    admin = people[_pick(ADMINS, n)]
    return admin, _facility_of(admin)


# Each step: (people, a number to pick with) -> None; a refusal changes nothing, which the
# cache must survive too.
def announce(people, n):
    audience = _pick(list(Announcement.Audience.values), n)
    group_services.announcement_create(
        actor=people["center"], title=f"お知らせ{next(_names)}", body="本文", audience=audience
    )


def announcement_read(people, n):
    user = people[_pick(ROLES, n)]
    announcement = _pick(list(group_selectors.unread_announcements_for(user).order_by("pk")), n)
    if announcement is not None:
        group_services.announcement_mark_read(user=user, announcement=announcement)


def staff_attest(people, n):
    admin, facility = _admin(people, n)
    statuses = list(StaffAttestationLine.Status.values)
    group_services.staff_attestation_record(
        actor=admin,
        facility=facility,
        statuses={
            user.pk: _pick(statuses, n + i)
            for i, (user, _in_post) in enumerate(group_selectors.staff_to_attest(facility))
        },
    )


def staff_resolve(people, n):
    line = _pick(
        list(StaffAttestationLine.objects.filter(discrepancy=True, resolved_at__isnull=True)), n
    )
    if line is not None:
        admin = _admin_of(people, line.attestation.facility_id)
        group_services.staff_discrepancy_resolve(actor=admin, line=line, resolution="MCSで修正")


def group_attest(people, n):
    group = _pick(list_steps._open_groups(), n)
    if group is not None and group.kind == Group.Kind.PATIENT:
        members = list(group.memberships.filter(state="accepted").values_list("user_id", flat=True))
        group_services.group_attestation_record(
            actor=group.manager,
            group=group,
            present_user_ids=members[: len(members) - n % 2],
            extra_in_mcs=n % 2,
        )


def group_resolve(people, n):
    attestation = _pick(
        list(GroupAttestation.objects.filter(discrepancy=True, resolved_at__isnull=True)), n
    )
    if attestation is not None:
        group_services.group_discrepancy_resolve(
            actor=attestation.group.manager, attestation=attestation, resolution="MCSで修正"
        )


def _patients():
    return list(Patient.objects.filter(erased_at__isnull=True).order_by("pk"))


def request_receive(people, n):
    actor = people[_pick(("group_manager", *ADMINS), n)]
    patient = _pick(_patients(), n)
    consent_services.patient_request_receive(
        actor=actor,
        patient=patient,
        kind=_pick(list(PatientRequest.Kind.values), n),
        requester_kind="patient",
        requester_name=patient.name,
        received_on=timezone.localdate(),
    )


def request_close(people, n):
    request = _pick(
        list(PatientRequest.objects.filter(state__in=PatientRequest.OPEN_STATES).order_by("pk")),
        n,
    )
    if request is None:
        return
    for role in ("group_manager", *ADMINS):  # whichever custodian holds the record
        try:
            if n % 2 and not request.is_verified:
                consent_services.patient_request_verify_identity(
                    actor=people[role], patient_request=request, document="drivers_license"
                )
            consent_services.patient_request_close(
                actor=people[role],
                patient_request=request,
                state="answered" if n % 2 else "rejected",
                outcome="回答しました",
                replied_on=timezone.localdate(),
            )
            return
        except PermissionDenied:
            continue


def patient_register(people, n):
    manager = people["group_manager"]
    if _facility_of(manager) is None:
        return
    patient = consent_services.patient_register(
        actor=manager, facility=_facility_of(manager), name=f"新患{next(_names)}", kana="しんかん"
    )
    if n % 2:
        from tests.factories import made_consent

        made_consent(manager=manager, patient=patient)


def pledge(people, n):
    admin, facility = _admin(people, n)
    for role in ADMINS:  # a facility with someone still to pledge, if there is one
        if staff_gaps(_facility_of(people[role]) or facility).without_pledge:
            admin, facility = people[role], _facility_of(people[role])
    # Someone without a pledge first (the count on the facility's card), else anyone.
    staff = staff_gaps(facility).without_pledge or [
        m.user for m in FacilityMembership.objects.filter(facility=facility, is_active=True)
    ]
    facility_services.pledge_record(
        actor=admin, user=_pick(staff, n), facility=facility, signed_on=timezone.localdate()
    )


def education(people, n):
    admin, facility = _admin(people, n)
    staff = [m.user for m in FacilityMembership.objects.filter(facility=facility, is_active=True)]
    facility_services.education_session_save(
        actor=admin,
        facility=facility,
        held_on=timezone.localdate(),
        topic="個人情報の取り扱い",
        attendees=staff[: n % (len(staff) + 1)],
    )


def staff_invitation(people, n):
    admin, facility = _admin(people, n)
    pending = list(Invitation.objects.filter(state=Invitation.State.PENDING).order_by("pk"))
    if n % 3 == 0 or not pending:
        facility_services.staff_invite(
            actor=admin, facility=facility, email=f"new{next(_names)}@example.jp", name="新人"
        )
    elif n % 3 == 1:
        invitation = _pick(pending, n)
        facility_services.invitation_revoke(actor=admin, invitation=invitation)
    else:
        facility_services.staff_invitation_accept(
            invitation=_pick(pending, n), password="Sakura-2026-pass", name="新人", kana="しんじん"
        )


def takeout(people, n):
    requester = people[_pick(ROLES, n)]
    pending = list(TakeoutRequest.objects.filter(state=TakeoutRequest.State.PENDING))
    if (n % 2 or not pending) and _facility_of(requester) is not None:
        device_services.takeout_file(
            actor=requester,
            facility=_facility_of(requester),
            kind="takeout",
            information="訪問記録",
            medium="USBメモリ",
            purpose="訪問",
            period_start=timezone.localdate(),
            period_end=timezone.localdate() + dt.timedelta(days=n % 3),
        )
    elif pending:
        request = _pick(pending, n)
        admin = _admin_of(people, request.facility_id)
        device_services.takeout_decide(actor=admin, request_obj=request, approve=bool(n % 3))


def loss_report(people, n):
    reporter = people[_pick(ROLES, n)]
    open_reports = list(LossReport.objects.filter(state=LossReport.State.REPORTED))
    if (n % 2 or not open_reports) and _facility_of(reporter) is not None:
        device_services.loss_report_file(
            actor=reporter,
            facility=_facility_of(reporter),
            kind="lost",
            device_description="タブレット",
            occurred_at=timezone.now(),
            place="訪問先",
            contents="なし",
            password_changed=True,
            carrier_contacted="",
        )
    elif open_reports:
        report = _pick(open_reports, n)
        device_services.loss_report_acknowledge(
            actor=_admin_of(people, report.facility_id), report=report
        )


def incident(people, n):
    reporter = people[_pick(ROLES, n)]
    incidents = list(IncidentReport.objects.exclude(state=IncidentReport.State.CLOSED))
    chosen = _pick(incidents, n)
    admin = _admin_of(people, chosen.facility_id) if chosen else None
    if n % 3 == 0 or not incidents:
        if _facility_of(reporter) is None:
            return
        device_services.incident_file(
            actor=reporter,
            facility=_facility_of(reporter),
            kind=IncidentReport.Kind.ANOMALY,
            occurred_at=timezone.now(),
            description="見知らぬ端末からのログイン",
        )
    elif n % 3 == 1:
        device_services.incident_escalate(actor=admin, incident=chosen, note="センターへ報告します")
    else:
        device_services.incident_close(actor=admin, incident=chosen, outcome="対応済み")


def device_check(people, n):
    device = _pick(list(Device.objects.order_by("pk")), n)
    if device is not None:
        device_services.device_checklist_confirm(
            actor=_admin_of(people, device.facility_id),
            device=device,
            items=[name for name, _label in Device.CHECKLIST],
        )


def application(people, n):
    from tests.enrollment.test_applications import FORM

    submitted = list(Application.objects.filter(state=Application.State.SUBMITTED))
    if n % 2 or not submitted:
        made = enrollment_services.application_create(
            data={
                **FORM,
                "facility_name": f"新規事業所{next(_names)}",
                "manager_email": f"apply{next(_names)}@example.jp",
                "prefecture": "新潟県",
                "city": "上越市",
            }
        )
        enrollment_services.application_confirm_email(application=made)
    else:
        enrollment_services.application_reject(
            actor=people["center"], application=_pick(submitted, n), reason="記載不備"
        )


def paper(people, n):
    admin, facility = _admin(people, n)
    if n % 2:
        enrollment_services.notice_submit(
            actor=admin,
            facility=facility,
            rows=[
                {
                    "action": "add",
                    "name": f"追加{next(_names)}",
                    "kana": "ついか",
                    "occupation": "nurse",
                    "email": f"add{next(_names)}@example.jp",
                }
            ],
        )
    else:
        enrollment_services.roster_submit(
            actor=admin,
            facility=facility,
            rows=[
                {
                    "name": f"名簿{next(_names)}",
                    "gender": "女",
                    "occupation": "看護師",
                    "email": f"roster{next(_names)}@example.jp",
                    "is_mcs_admin": "〇",
                }
            ],
            source="web",
            admin_count_confirmed=True,
        )


def leave_facility(people, n):
    user = people[_pick(("user", "other_facility_user", "group_manager"), n)]
    membership = FacilityMembership.objects.filter(user=user, is_active=True).first()
    if membership is not None:
        admin = _pick([people[r] for r in ADMINS], n)
        facility_services.staff_deactivate(
            actor=admin, user=user, facility=membership.facility, reason="退職"
        )


def review(people, n):
    group = _pick(list_steps._open_groups(), n)
    if group is not None and group.kind == Group.Kind.PATIENT:
        group_services.supporter_review_record(
            actor=group.manager, group=group, timeline_checked=True
        )


def new_patient_group(people, n):
    if _facility_of(people["group_manager"]) is not None:  # not once she has left
        list_steps.new_patient_group(people, n)


STEPS = [
    announce,
    announcement_read,
    staff_attest,
    staff_resolve,
    group_attest,
    group_resolve,
    request_receive,
    request_close,
    patient_register,
    staff_invitation,
    pledge,
    education,
    takeout,
    loss_report,
    incident,
    device_check,
    application,
    paper,
    # the group list's steps that reach home too
    list_steps.invite,
    list_steps.answer,
    list_steps.remove,
    list_steps.leave,
    list_steps.handover,
    list_steps.report_end_or_archive,
    list_steps.patient_update,
    list_steps.consent_withdraw,
    new_patient_group,
    review,
    list_steps.rename_user,
    list_steps.facility_state,
    list_steps.role_change,
    leave_facility,  # last: a walk through the steps in order would find nobody left
]
REFUSALS = (ValidationError, PermissionDenied, Http404, enrollment_services.RowsInvalid)


@pytest.fixture
def signed_in(people):
    """A client of its own per demo role, signed in (administrators with MFA)."""
    return lambda role: log_in(Client(), people[role], mfa=role in ADMINISTRATOR_ROLES)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 50)), min_size=1, max_size=6))
def test_the_cached_home_always_equals_a_fresh_render(people, signed_in, steps):
    # The examples share the test's database transaction; each starts with no cached page,
    # so a stale copy is blamed on the example that made it.
    cache.clear()
    clients = {role: signed_in(role) for role in ROLES}
    for role in ROLES:  # filled before any change, so that a stale copy would be there
        _home(clients[role])
    for step, n in steps:
        try:
            step(people, n)
        except REFUSALS:
            pass
        for role in ROLES:
            cached = _home(clients[role])
            with override_settings(MCNET_PAGE_CACHE=False):
                fresh = _home(clients[role])
            assert cached[:2] == fresh[:2], f"{role} after {step.__name__}({n})"


def test_every_step_changes_something_home_shows_for_someone(people, signed_in):
    """The steps are not all refusals: each, run twice, renders someone's home anew."""
    clients = {role: signed_in(role) for role in ROLES}
    quiet = []
    for step in STEPS:
        before = {role: _home(clients[role])[1] for role in ROLES}
        for n in (1, 2, 3):
            try:
                step(people, n)
            except REFUSALS:
                pass
        after = {role: _home(clients[role])[1] for role in ROLES}
        if before == after and step not in QUIET_STEPS:
            quiet.append(step.__name__)
    assert not quiet, quiet


# Steps whose change shows on nobody's home page in the demo (kept for the sequences).
QUIET_STEPS = {
    list_steps.patient_update,  # home names no patient
    # the walk's three picks are refused in the demo (already invited; no other manager at
    # the facility); the random sequences reach them
    list_steps.invite,
    list_steps.handover,
    list_steps.leave,
    # shown only while someone lacks a pledge / a review is due, which the walk may not meet
    pledge,
    review,
}


def test_a_second_home_is_served_from_the_cache_in_one_query(
    people, signed_in, django_assert_num_queries
):
    client = signed_in("group_manager")
    assert _home(client)[2] == ""
    with django_assert_num_queries(1):  # the signed-in user, read with the generations
        status, _html, served = _home(client)
    assert (status, served) == (200, "hit")


def test_an_announcement_reaches_every_cached_home(people, signed_in):
    clients = {role: signed_in(role) for role in ROLES}
    for client in clients.values():
        _home(client)
    group_services.announcement_create(actor=people["center"], title="停電のお知らせ", body="…")
    for role, client in clients.items():
        _status, html, served = _home(client)
        assert served == "" and "停電のお知らせ" in html, role


def test_a_cached_home_holds_only_until_the_next_announcement_is_published(
    people, signed_in, time_machine
):
    client = signed_in("user")
    soon = timezone.now() + dt.timedelta(minutes=2)
    group_services.announcement_create(
        actor=people["center"], title="来月の研修", body="…", publish_at=soon
    )
    assert "来月の研修" not in _home(client)[1]
    assert _home(client)[2] == "hit"
    time_machine.move_to(soon + dt.timedelta(minutes=1))
    _status, html, served = _home(client)
    assert served == "" and "来月の研修" in html


def test_an_erasure_removes_the_cached_home(signed_in):
    client = signed_in("group_manager")
    _home(client)
    assert _home(client)[2] == "hit"
    assert fragments_forget() >= 1
    assert _home(client)[2] == ""
