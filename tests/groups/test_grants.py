"""Object permissions follow the membership rows, change only in the services, and can be
rebuilt from the rows (ARCHITECTURE.md, "Roles and object permissions")."""

from guardian.models import UserObjectPermission

from consents import services as consent_services
from groups import services
from groups.models import Group, GroupUserObjectPermission, Membership
from groups.permissions import grants_for
from tests.demo_objects import joetsu_group, membership, yamada_group
from tests.factories import made_membership, made_patient_group


def held_grants() -> set[tuple[int, int, str]]:
    return set(
        GroupUserObjectPermission.objects.values_list(
            "user_id", "content_object_id", "permission__codename"
        )
    )


def grants_from_membership_rows() -> set[tuple[int, int, str]]:
    """The rule of groups.permissions, applied to every row from scratch."""
    expected = set()
    groups = {g.pk: g for g in Group.objects.all()}
    for user_id, group_id, state in Membership.objects.values_list("user_id", "group_id", "state"):
        group = groups[group_id]
        for perm in grants_for(
            accepted=state == Membership.State.ACCEPTED,
            is_manager=group.manager_id == user_id,
            archived=group.state == Group.State.ARCHIVED,
            closed=group.is_closed,
        ):
            expected.add((user_id, group_id, perm.split(".")[1]))
    return expected


def test_grants_rebuilt_from_membership_rows_equal_those_held(demo, people):
    cm, nurse, doctor = people["group_manager"], people["user"], people["other_facility_user"]
    admin_takada, admin_abc = people["mcs_admin"], people["other_mcs_admin"]
    # A life of groups: accept, decline, remove, leave, hand over, withdraw, archive, new group.
    yamada = yamada_group()
    services.group_invitation_accept(
        actor=admin_takada, membership=membership(yamada, admin_takada.email)
    )
    services.membership_remove(
        actor=cm, membership=membership(yamada, nurse.email), reason="担当外"
    )
    services.membership_leave(actor=doctor, group=yamada)
    joetsu = joetsu_group()
    invitation = services.membership_invite(actor=cm, group=joetsu, user=admin_abc)
    services.group_invitation_decline(actor=admin_abc, membership=invitation)
    consent_services.consent_withdraw(
        actor=cm,
        consent=joetsu.patient.consents.get(status="active"),
        withdrawn_on=joetsu.patient.consents.get(status="active").signed_on,
        reported_by="長男",
        method="phone",
    )
    services.group_archive(actor=cm, group=joetsu)
    fresh = made_patient_group(manager=cm, facility=demo["kasugano"])
    made_membership(fresh, cm, nurse)
    free = services.group_create_free(actor=nurse, name="看護師の会")
    made_membership(free, nurse, doctor)
    services.group_handover(actor=nurse, group=free, new_manager=doctor)
    services.memberships_end_for_user(user=nurse, actor=admin_takada, reason="退職")

    assert held_grants() == grants_from_membership_rows()
    codenames = {codename for _, _, codename in held_grants()}
    assert codenames == {"access_group", "manage_group"}  # not trivially equal


def test_the_demo_grants_equal_the_rebuilt_ones(demo):
    assert held_grants() == grants_from_membership_rows()


def test_grants_live_in_the_direct_foreign_key_table(demo):
    assert GroupUserObjectPermission.objects.exists()
    assert not UserObjectPermission.objects.filter(content_type__app_label="groups").exists()


def test_access_ends_with_care_but_an_archived_free_group_stays_readable(demo, people):
    """別紙5 (2): an archived patient group keeps no grant, not even its manager's (its
    custodians open it with a purpose); a free group holds no patient: its members keep
    reading it in the archive (留意事項 2), without managing it."""
    myoko = Group.objects.get(name="妙高次郎さんのグループ")
    cm, doctor, nurse = people["group_manager"], people["other_facility_user"], people["user"]
    assert myoko.memberships.filter(user=doctor, state="accepted").exists()
    for user in (cm, doctor):
        assert not user.has_perm("groups.access_group", myoko)
        assert not user.has_perm("groups.manage_group", myoko)
    free = Group.objects.get(kind="free")
    services.group_archive(actor=cm, group=free, reason="other")
    assert nurse.has_perm("groups.access_group", free)
    assert cm.has_perm("groups.access_group", free)
    assert not cm.has_perm("groups.manage_group", free)
    assert held_grants() == grants_from_membership_rows()


def test_invitees_hold_no_grant(demo, people):
    yamada = yamada_group()
    assert not GroupUserObjectPermission.objects.filter(
        user=people["mcs_admin"], content_object=yamada
    ).exists()
