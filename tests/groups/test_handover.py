"""Group handover (留意事項 1, 第8条): the current manager hands over; the facility's MCS
administrator or facility manager may only when the manager has left or was deactivated, and
records why. Nobody takes a group from a manager who is still there."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from facilities import services as facility_services
from facilities.models import FacilityRole
from groups import services
from mcnet.models import AuditEvent
from tests.conftest import log_in
from tests.demo_objects import yamada_group

Role = FacilityRole.Role


@pytest.fixture
def kasugano_staff(demo, people):
    """春日野: a second patient-group manager and an MCS administrator who is not cm,
    each appointed by cm, the facility manager (第5条)."""
    cm, kasugano = people["group_manager"], demo["kasugano"]
    made = {}
    for key, email, name, role in (
        ("second", "cm2@kasugano.example.jp", "春日野二郎", Role.GROUP_MANAGER),
        ("admin", "admin@kasugano.example.jp", "春日野管理", Role.MCS_ADMIN),
    ):
        person = facility_services.user_create(actor=None, email=email, name=name)
        facility_services.membership_add(actor=None, user=person, facility=kasugano)
        facility_services.role_appoint(actor=cm, user=person, facility=kasugano, role=role)
        made[key] = person
    return made


def test_an_mcs_administrator_cannot_take_a_group_while_its_manager_is_active(
    demo, people, kasugano_staff
):
    """The reproduction: the administrator tries to make themself group manager, then takes
    another manager's group by handover."""
    yamada, admin = yamada_group(), kasugano_staff["admin"]
    with pytest.raises(ValidationError) as self_appointed:
        facility_services.role_appoint(
            actor=admin, user=admin, facility=demo["kasugano"], role=Role.GROUP_MANAGER
        )
    assert self_appointed.value.code == "self_appointment"
    with pytest.raises(ValidationError) as refused:
        services.group_handover(
            actor=admin, group=yamada, new_manager=kasugano_staff["second"], reason="人事異動"
        )
    assert refused.value.code == "manager_present"
    assert "在籍中" in refused.value.messages[0]
    yamada.refresh_from_db()
    assert yamada.manager == people["group_manager"]
    assert not AuditEvent.objects.filter(action="group.handover").exists()


def test_after_the_manager_left_the_administrator_hands_over_with_a_reason(
    demo, people, kasugano_staff
):
    yamada, admin, second = yamada_group(), kasugano_staff["admin"], kasugano_staff["second"]
    cm = people["group_manager"]
    facility_services.staff_deactivate(
        actor=admin, user=cm, facility=demo["kasugano"], reason="退職"
    )
    with pytest.raises(ValidationError) as no_reason:
        services.group_handover(actor=admin, group=yamada, new_manager=second)
    assert "理由" in no_reason.value.messages[0]
    services.group_handover(
        actor=admin, group=yamada, new_manager=second, reason="前任の退職による引き継ぎ"
    )
    yamada.refresh_from_db()
    assert yamada.manager == second
    event = AuditEvent.objects.get(action="group.handover")
    assert event.actor == admin
    assert event.changes["reason"] == "前任の退職による引き継ぎ"
    assert event.changes["previous"] == cm.email and event.changes["by_manager"] is False


def test_a_banned_manager_counts_as_gone(demo, people, kasugano_staff):
    yamada, admin, second = yamada_group(), kasugano_staff["admin"], kasugano_staff["second"]
    facility_services.user_restrict(
        actor=admin,
        user=people["group_manager"],
        facility=demo["kasugano"],
        level="banned",
        reason="IDの貸与",
    )
    services.group_handover(actor=admin, group=yamada, new_manager=second, reason="利用禁止")
    yamada.refresh_from_db()
    assert yamada.manager == second


def test_the_manager_hands_over_without_anyones_leave(demo, people, kasugano_staff):
    yamada, second = yamada_group(), kasugano_staff["second"]
    services.group_handover(actor=people["group_manager"], group=yamada, new_manager=second)
    yamada.refresh_from_db()
    assert yamada.manager == second


def test_another_facilitys_administrator_never_hands_over(demo, people, kasugano_staff):
    facility_services.staff_deactivate(
        actor=kasugano_staff["admin"],
        user=people["group_manager"],
        facility=demo["kasugano"],
        reason="退職",
    )
    with pytest.raises(PermissionDenied):
        services.group_handover(
            actor=people["other_mcs_admin"],
            group=yamada_group(),
            new_manager=kasugano_staff["second"],
            reason="x",
        )


def test_the_handover_page_says_why_the_administrator_is_refused(
    client, demo, people, kasugano_staff
):
    yamada, admin, second = yamada_group(), kasugano_staff["admin"], kasugano_staff["second"]
    log_in(client, admin, mfa=True)
    url = reverse("groups:handover", args=[yamada.pk])
    response = client.post(url, {"new_manager": second.pk, "reason": "人事異動"})
    assert response.status_code == 200
    assert "在籍中のため" in response.content.decode()
    yamada.refresh_from_db()
    assert yamada.manager == people["group_manager"]
