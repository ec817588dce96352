"""Roles are rows; guardian grants follow them, changed only by the services (第6条: the MCS
administrator manages the IDs)."""

from guardian.models import UserObjectPermission

from facilities import services
from facilities.models import Facility, FacilityRole, FacilityUserObjectPermission, User
from facilities.permissions import ROLE_PERMISSIONS
from mcnet.models import AuditEvent

Role = FacilityRole.Role


def _grants() -> set[tuple[int, int, str]]:
    return set(
        FacilityUserObjectPermission.objects.values_list(
            "user_id", "content_object_id", "permission__codename"
        )
    )


def _grants_from_role_rows() -> set[tuple[int, int, str]]:
    expected = set()
    for user_id, facility_id, role in FacilityRole.objects.values_list(
        "user_id", "facility_id", "role"
    ):
        for perm in ROLE_PERMISSIONS[role]:
            expected.add((user_id, facility_id, perm.split(".")[1]))
    return expected


def test_appointing_an_mcs_administrator_grants_on_that_facility_only(demo, people):
    nurse, abc, takada = people["user"], demo["abc"], demo["takada"]
    services.role_appoint(actor=people["center"], user=nurse, facility=takada, role=Role.MCS_ADMIN)
    nurse = User.objects.get(pk=nurse.pk)  # a fresh object: guardian caches per instance
    assert nurse.has_perm("facilities.manage_staff", takada)
    assert not nurse.has_perm("facilities.manage_staff", abc)
    assert not nurse.has_perm("facilities.register_patients", takada)
    event = AuditEvent.objects.filter(action="role.appoint").latest("id")
    assert event.actor == people["center"]
    assert event.facility_id == takada.pk
    assert event.changes == {"user": nurse.email, "role": "mcs_admin"}


def test_relieving_revokes_only_what_no_other_role_gives(demo, people):
    cm, kasugano = people["group_manager"], demo["kasugano"]
    services.role_relieve(actor=people["center"], user=cm, facility=kasugano, role=Role.MCS_ADMIN)
    cm = User.objects.get(pk=cm.pk)
    assert not cm.has_perm("facilities.manage_staff", kasugano)
    assert cm.has_perm("facilities.register_patients", kasugano)  # still a group manager
    assert AuditEvent.objects.filter(action="role.relieve", facility_id=kasugano.pk).exists()


def test_grants_rebuilt_from_role_rows_are_equal_to_those_held(demo, people):
    services.role_appoint(
        actor=None, user=people["user"], facility=demo["takada"], role=Role.GROUP_MANAGER
    )
    services.role_relieve(
        actor=None, user=people["mcs_admin"], facility=demo["takada"], role=Role.MCS_ADMIN
    )
    assert _grants() == _grants_from_role_rows()
    assert _grants()  # not trivially equal


def test_object_permissions_use_the_direct_foreign_key_table(demo):
    assert FacilityUserObjectPermission.objects.exists()
    assert not UserObjectPermission.objects.exists()


def test_a_user_with_no_role_holds_no_object_permission(demo, people):
    nurse = people["user"]
    for facility in Facility.objects.all():
        for perms in ROLE_PERMISSIONS.values():
            for perm in perms:
                assert not nurse.has_perm(perm, facility)


def test_appointing_twice_changes_nothing(demo, people):
    before = (FacilityRole.objects.count(), AuditEvent.objects.count(), _grants())
    services.role_appoint(
        actor=None, user=people["mcs_admin"], facility=demo["takada"], role=Role.MCS_ADMIN
    )
    assert before == (FacilityRole.objects.count(), AuditEvent.objects.count(), _grants())
