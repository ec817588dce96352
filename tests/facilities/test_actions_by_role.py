"""Every write of a facility's pages, tried by every role (deny by default).

Only 高田's MCS administrator (who is also its facility manager) succeeds; the other facility's
administrator, its staff, 高田's own nurse, the care manager of 春日野 and the center get 404
(anonymous visitors go to the login page) and nothing changes. Each role's attempt runs in a
savepoint that is rolled back, so every role starts from the same demo data.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from facilities import services
from facilities.models import (
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    Invitation,
    StaffPledge,
    User,
    UserRestriction,
)
from mcnet.models import AuditEvent
from tests.security.expectations_base import ROLES

TAKADA = "高田訪問看護ステーション"
Role = FacilityRole.Role


def takada() -> Facility:
    return Facility.objects.get(name=TAKADA)


def nurse() -> User:
    return User.objects.get(email="nurse@takada.example.jp")


def takada_admin() -> User:
    return User.objects.get(email="admin@takada.example.jp")


def invitation() -> Invitation:
    return Invitation.objects.get(facility__name=TAKADA)


def session() -> EducationSession:
    return EducationSession.objects.get(facility__name=TAKADA)


@dataclass
class Action:
    name: str
    url: Any  # () -> str
    data: Any  # () -> dict
    state: Any  # () -> anything comparable: what the action changes
    setup: Any = None  # () -> None, run before each role's attempt


def _facility_form() -> dict:
    f = takada()
    return {
        "name": f.name,
        "kind": f.kind,
        "postal_code": "９４３－０８３５",
        "prefecture": f.prefecture,
        "city": f.city,
        "town": f.town,
        "address_line": f.address_line,
        "phone": "０２５－９９９－９９９９",
        "fax": "025-999-9998",
        "manager_name": f.manager_name,
        "manager_email": f.manager_email,
    }


def _restrict_nurse():
    services.user_restrict(
        actor=takada_admin(), user=nurse(), facility=takada(), level="restricted", reason="確認中"
    )


ACTIONS = [
    Action(
        "facility_edit",
        lambda: reverse("facilities:edit", args=[takada().pk]),
        _facility_form,
        lambda: (takada().phone, takada().fax),
    ),
    Action(
        "role_appoint",
        lambda: reverse("facilities:role_appoint", args=[takada().pk]),
        lambda: {"user": nurse().pk, "role": Role.GROUP_MANAGER},
        lambda: sorted(
            FacilityRole.objects.filter(facility__name=TAKADA).values_list("pk", "role")
        ),
    ),
    Action(
        "role_relieve",
        lambda: reverse(
            "facilities:role_relieve",
            args=[
                takada().pk,
                FacilityRole.objects.get(user=takada_admin(), role=Role.MCS_ADMIN).pk,
            ],
        ),
        dict,
        lambda: sorted(
            FacilityRole.objects.filter(facility__name=TAKADA).values_list("pk", "role")
        ),
    ),
    Action(
        "staff_deactivate",
        lambda: reverse("facilities:staff_deactivate", args=[takada().pk, nurse().pk]),
        lambda: {"reason": "退職", "confirm": "on"},
        lambda: (
            nurse().state,
            nurse().is_active,
            FacilityMembership.objects.get(user=nurse(), facility=takada()).is_active,
            nurse().group_memberships.filter(state="accepted").count(),
        ),
    ),
    Action(
        "staff_restrict",
        lambda: reverse("facilities:staff_restrict", args=[takada().pk, nurse().pk]),
        lambda: {"level": "banned", "reason": "IDの貸与"},
        lambda: (nurse().state, nurse().is_active, UserRestriction.objects.count()),
    ),
    Action(
        "staff_reinstate",
        lambda: reverse("facilities:staff_reinstate", args=[takada().pk, nurse().pk]),
        lambda: {"reason": "確認済み"},
        lambda: (nurse().state, list(UserRestriction.objects.values_list("lifted_at", flat=True))),
        setup=_restrict_nurse,
    ),
    Action(
        "pledge_record",
        lambda: reverse("facilities:pledge_record", args=[takada().pk, nurse().pk]),
        lambda: {"signed_on": "2026-04-02", "note": "再提出"},
        lambda: list(StaffPledge.objects.filter(user=nurse()).values_list("signed_on", "note")),
    ),
    Action(
        "invitation_create",
        lambda: reverse("facilities:invitation_create", args=[takada().pk]),
        lambda: {"email": "new2@takada.example.jp", "name": "新人", "occupation": "nurse"},
        lambda: Invitation.objects.count(),
    ),
    Action(
        "invitation_resend",
        lambda: reverse("facilities:invitation_resend", args=[takada().pk, invitation().pk]),
        dict,
        lambda: (invitation().key, invitation().send_count),
    ),
    Action(
        "invitation_revoke",
        lambda: reverse("facilities:invitation_revoke", args=[takada().pk, invitation().pk]),
        dict,
        lambda: invitation().state,
    ),
    Action(
        "education_create",
        lambda: reverse("facilities:education_create", args=[takada().pk]),
        lambda: {
            "held_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
            "topic": "情報漏えい事例の共有",
            "attendees": [nurse().pk],
        },
        lambda: EducationSession.objects.count(),
    ),
    Action(
        "education_edit",
        lambda: reverse("facilities:education_edit", args=[takada().pk, session().pk]),
        lambda: {
            "held_on": session().held_on.isoformat(),
            "topic": "訂正した内容",
            "attendees": [nurse().pk],
        },
        lambda: (session().topic, sorted(session().attendees.values_list("pk", flat=True))),
    ),
]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_only_the_facilitys_own_administrator_can(client_as, action):
    outcomes = {}
    for role in ROLES:
        with transaction.atomic():
            if action.setup:
                action.setup()
            client = client_as(role)
            url, data = action.url(), action.data()
            before = action.state()
            events_before = AuditEvent.objects.count()
            response = client.post(url, data)
            after = action.state()
            outcomes[role] = (response.status_code, before != after)
            if role == "mcs_admin":
                assert response.status_code == 302, (
                    response.content.decode()[:3000] if response.status_code == 200 else response
                )
                assert before != after, f"{action.name}: nothing changed for the MCS admin"
                assert AuditEvent.objects.count() > events_before, "not audited"
            elif role == "anonymous":
                assert response.status_code == 302
                assert response.url.startswith("/accounts/login/")
            else:
                assert response.status_code == 404, (role, response.status_code)
            if role != "mcs_admin":
                assert before == after, f"{action.name}: {role} changed {before} → {after}"
            transaction.set_rollback(True)
    assert outcomes["mcs_admin"] == (302, True)


@pytest.mark.parametrize(
    "action", [a for a in ACTIONS if a.name not in {"role_relieve"}], ids=lambda a: a.name
)
def test_get_never_writes(client_as, action):
    client = client_as("mcs_admin")
    if action.setup:
        action.setup()
    before = action.state()
    response = client.get(action.url(), action.data())
    assert response.status_code in (200, 405)
    assert action.state() == before


def test_post_only_actions_refuse_get(client_as):
    client = client_as("mcs_admin")
    for name, url in [
        ("role_appoint", reverse("facilities:role_appoint", args=[takada().pk])),
        (
            "invitation_resend",
            reverse("facilities:invitation_resend", args=[takada().pk, invitation().pk]),
        ),
    ]:
        assert client.get(url).status_code == 405, name


def test_objects_of_another_facility_are_404_even_under_ones_own_facility(client_as, demo):
    """高田's administrator, with 高田's id in the URL, names ABC's staff, invitation, session."""
    abc = demo["abc"]
    abc_doctor = User.objects.get(email="doctor@abc.example.jp")
    abc_invitation = services.staff_invite(
        actor=User.objects.get(email="admin@abc.example.jp"), facility=abc, email="z@abc.example.jp"
    )
    abc_session = services.education_session_save(
        actor=None, facility=abc, held_on=dt.date(2026, 4, 10), topic="ABC研修", attendees=[]
    )
    abc_role = FacilityRole.objects.filter(facility=abc).first()
    client = client_as("mcs_admin")
    pk = takada().pk
    urls = [
        ("get", reverse("facilities:staff_detail", args=[pk, abc_doctor.pk])),
        ("post", reverse("facilities:staff_deactivate", args=[pk, abc_doctor.pk])),
        ("post", reverse("facilities:staff_restrict", args=[pk, abc_doctor.pk])),
        ("post", reverse("facilities:pledge_record", args=[pk, abc_doctor.pk])),
        ("post", reverse("facilities:invitation_revoke", args=[pk, abc_invitation.pk])),
        ("post", reverse("facilities:invitation_resend", args=[pk, abc_invitation.pk])),
        ("post", reverse("facilities:education_edit", args=[pk, abc_session.pk])),
        ("post", reverse("facilities:role_relieve", args=[pk, abc_role.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"reason": "x", "level": "banned", "confirm": "on"})
        assert response.status_code == 404, url
    abc_invitation.refresh_from_db()
    assert abc_invitation.state == Invitation.State.PENDING
    assert User.objects.get(pk=abc_doctor.pk).is_active
    assert FacilityRole.objects.filter(pk=abc_role.pk).exists()


def test_role_appoint_offers_only_the_facilitys_staff(client_as, demo):
    client = client_as("mcs_admin")
    outsider = User.objects.get(email="doctor@abc.example.jp")
    response = client.post(
        reverse("facilities:role_appoint", args=[takada().pk]),
        {"user": outsider.pk, "role": Role.GROUP_MANAGER},
    )
    assert response.status_code == 200
    assert "正しく選択してください" in response.content.decode() or response.context["form"].errors
    assert not FacilityRole.objects.filter(user=outsider, facility=takada()).exists()
