"""Invitations, acceptance, removal and leaving (第8条(2), 留意事項 1, 4): every change notifies
the people concerned and is audited; who sees what follows the membership's state."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consents import services as consent_services
from groups import selectors, services
from groups.models import Group, GroupUserObjectPermission, Membership
from mcnet.models import AuditEvent, Notification
from tests.demo_objects import (
    JOETSU_DETAILS,
    YAMADA_DOB_TEXTS,
    joetsu_group,
    membership,
    shown,
    user,
    yamada_group,
)

State = Membership.State


def notified(recipient, kind: str) -> bool:
    return Notification.objects.filter(recipient=recipient, kind=kind).exists()


def test_an_invitee_sees_the_patients_name_and_nothing_else(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("mcs_admin")  # 高田's MCS administrator: invited by the demo
    page = client.get(reverse("groups:invitation", args=[yamada.pk])).content.decode()
    assert "山田太郎さんのグループ" in page
    for text in (*YAMADA_DOB_TEXTS, "春日野1-10-1", "025-555-0101"):
        assert not shown(text, page)
    detail = client.get(reverse("groups:detail", args=[yamada.pk]))
    assert detail.status_code == 404
    assert "1938" not in detail.content.decode()
    patient = client.get(reverse("consents:patient_detail", args=[yamada.patient_id]))
    assert patient.status_code == 404
    assert not people["mcs_admin"].has_perm("groups.access_group", yamada)


def test_invitation_notifies_the_invitee_with_the_name_only(demo, people):
    joetsu = joetsu_group()
    nurse = people["user"]
    # The nurse's facility is not covered by 上越花子's consent: a signed addendum adds it.
    consent = joetsu.patient.consents.get(status="active")
    addendum = consent_services.consent_addendum_prepare(
        actor=people["group_manager"], consent=consent, facilities=[demo["takada"]]
    )
    consent_services.consent_addendum_record_signed(
        actor=people["group_manager"],
        addendum=addendum,
        signed_on=consent.signed_on,
        paper_kept_at_facility=True,
    )
    invitation = services.membership_invite(actor=people["group_manager"], group=joetsu, user=nurse)
    assert invitation.state == State.INVITED
    note = Notification.objects.filter(recipient=nurse, kind="groups.invitation").latest("id")
    assert "上越花子さんのグループ" in note.title
    assert "1942" not in note.body and "本町" not in note.body
    assert note.url == reverse("groups:invitation", args=[joetsu.pk])
    assert AuditEvent.objects.filter(action="membership.invite", object_id=str(invitation.pk))


def test_accepting_gives_access_and_tells_the_manager(demo, people, client_as):
    yamada = yamada_group()
    admin = people["mcs_admin"]
    invitation = membership(yamada, admin.email)
    client = client_as("mcs_admin")
    response = client.post(reverse("groups:invitation_accept", args=[yamada.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == State.ACCEPTED and invitation.responded_at
    page = client.get(reverse("groups:detail", args=[yamada.pk])).content.decode()
    assert "1938年4月12日" in page and "025-555-0101" in page
    assert notified(people["group_manager"], "groups.accepted")
    assert AuditEvent.objects.filter(action="membership.accept", actor=admin).exists()


def test_declining_keeps_the_door_shut_and_tells_the_manager(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("mcs_admin")
    assert client.post(reverse("groups:invitation_decline", args=[yamada.pk])).status_code == 302
    row = yamada.memberships.get(user=people["mcs_admin"])
    assert row.state == State.DECLINED
    assert client.get(reverse("groups:detail", args=[yamada.pk])).status_code == 404
    assert notified(people["group_manager"], "groups.declined")


def test_answering_needs_get_to_be_refused(demo, client_as):
    client = client_as("mcs_admin")
    assert (
        client.get(reverse("groups:invitation_accept", args=[yamada_group().pk])).status_code == 405
    )


def test_an_expired_invitation_cannot_be_accepted(demo, people):
    yamada = yamada_group()
    invitation = membership(yamada, people["mcs_admin"].email)
    Membership.objects.filter(pk=invitation.pk).update(
        invited_at=timezone.now() - dt.timedelta(days=30)
    )
    invitation.refresh_from_db()
    with pytest.raises(ValidationError, match="有効期限"):
        services.group_invitation_accept(actor=people["mcs_admin"], membership=invitation)


def test_the_expiry_job_cancels_old_invitations_once(demo, people):
    yamada = yamada_group()
    invitation = membership(yamada, people["mcs_admin"].email)
    Membership.objects.filter(pk=invitation.pk).update(
        invited_at=timezone.now() - dt.timedelta(days=30)
    )
    assert services.invitations_expire() == 1
    assert services.invitations_expire() == 0
    invitation.refresh_from_db()
    assert invitation.state == State.CANCELLED
    assert Notification.objects.filter(kind="groups.invitation_expired").count() == 1


def test_only_the_invitee_can_answer(demo, people):
    invitation = membership(yamada_group(), people["mcs_admin"].email)
    for role in ("user", "group_manager", "other_mcs_admin", "center"):
        with pytest.raises(PermissionDenied):
            services.group_invitation_accept(actor=people[role], membership=invitation)


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_the_manager_invites(demo, people, role):
    with pytest.raises(PermissionDenied):
        services.membership_invite(
            actor=people[role], group=yamada_group(), user=user("admin@abc.example.jp")
        )


def test_inviting_outside_the_consents_facilities_is_refused_with_the_reason(demo, people):
    joetsu = joetsu_group()  # her consent covers 春日野 and ABC, not 高田
    with pytest.raises(ValidationError) as exc:
        services.membership_invite(actor=people["group_manager"], group=joetsu, user=people["user"])
    assert exc.value.code == "not_covered" and "同意書の対象事業所" in exc.value.messages[0]


def test_inviting_twice_is_refused(demo, people):
    with pytest.raises(ValidationError, match="すでに"):
        services.membership_invite(
            actor=people["group_manager"], group=yamada_group(), user=people["user"]
        )


def test_inviting_someone_who_left_is_refused(demo, people):
    admin = user("admin@abc.example.jp")
    admin.state = admin.State.LEFT
    admin.save()
    with pytest.raises(ValidationError, match="利用中ではない"):
        services.membership_invite(actor=people["group_manager"], group=yamada_group(), user=admin)


def test_invite_picker_searches_the_directory_and_invites(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("group_manager")
    page = client.get(reverse("groups:invite", args=[yamada.pk]), {"q": "じょうえつ"})
    assert page.status_code == 200
    admin_abc = user("admin@abc.example.jp")
    assert "上越一" in page.content.decode()
    response = client.post(reverse("groups:invite", args=[yamada.pk]), {"user": admin_abc.pk})
    assert response.status_code == 302
    assert membership(yamada, admin_abc.email).state == State.INVITED


def test_the_manager_removes_a_member_with_a_reason(demo, people, client_as):
    yamada = yamada_group()
    nurse_row = membership(yamada, people["user"].email)
    client = client_as("group_manager")
    url = reverse("groups:member_remove", args=[yamada.pk, nurse_row.pk])
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and "理由を入力してください" in refused.content.decode()
    assert client.post(url, {"reason": "担当から外れたため"}).status_code == 302
    nurse_row.refresh_from_db()
    assert nurse_row.state == State.REMOVED
    assert nurse_row.ended_by == people["group_manager"]
    assert nurse_row.end_reason == "担当から外れたため"
    assert not people["user"].has_perm("groups.access_group", yamada)
    assert notified(people["user"], "groups.removed")
    assert AuditEvent.objects.filter(action="membership.removed", object_id=str(nurse_row.pk))
    assert client_as("user").get(reverse("groups:detail", args=[yamada.pk])).status_code == 404


def test_cancelling_an_invitation(demo, people):
    invitation = membership(yamada_group(), people["mcs_admin"].email)
    services.membership_remove(
        actor=people["group_manager"], membership=invitation, reason="誤って招待したため"
    )
    invitation.refresh_from_db()
    assert invitation.state == State.CANCELLED
    assert not selectors.invitations_for(people["mcs_admin"]).exists()


def test_the_manager_cannot_remove_themself(demo, people):
    own = membership(yamada_group(), people["group_manager"].email)
    with pytest.raises(ValidationError, match="引き継"):
        services.membership_remove(actor=people["group_manager"], membership=own, reason="x")


@pytest.mark.parametrize("role", ["other_facility_user", "other_mcs_admin", "center"])
def test_others_cannot_remove_a_member(demo, people, role):
    nurse_row = membership(yamada_group(), people["user"].email)
    with pytest.raises(PermissionDenied):
        services.membership_remove(actor=people[role], membership=nurse_row, reason="x")


def test_a_member_leaves_and_the_manager_is_told(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("user")
    assert client.get(reverse("groups:leave", args=[yamada.pk])).status_code == 200
    assert client.post(reverse("groups:leave", args=[yamada.pk])).status_code == 302
    row = yamada.memberships.get(user=people["user"])
    assert row.state == State.LEFT and row.ended_by == people["user"]
    assert not people["user"].has_perm("groups.access_group", yamada)
    assert notified(people["group_manager"], "groups.left")


def test_the_manager_must_hand_over_before_leaving(demo, people):
    with pytest.raises(ValidationError, match="引き継"):
        services.membership_leave(actor=people["group_manager"], group=yamada_group())


def test_handover_to_another_patient_group_manager_of_the_facility(demo, people):
    yamada = yamada_group()
    cm, kasugano = people["group_manager"], demo["kasugano"]
    from facilities import services as facility_services
    from facilities.models import FacilityRole

    second = facility_services.user_create(
        actor=None, email="cm2@kasugano.example.jp", name="春日野二郎", kana="かすがの じろう"
    )
    facility_services.role_appoint(
        actor=None, user=second, facility=kasugano, role=FacilityRole.Role.GROUP_MANAGER
    )
    # The nurse is not a patient-group manager: refused, with the rule.
    with pytest.raises(ValidationError, match="第8条"):
        services.group_handover(actor=cm, group=yamada, new_manager=people["user"])
    services.group_handover(actor=cm, group=yamada, new_manager=second)
    yamada.refresh_from_db()
    assert yamada.manager == second
    assert second.has_perm("groups.manage_group", yamada)
    assert not type(cm).objects.get(pk=cm.pk).has_perm("groups.manage_group", yamada)
    assert cm.has_perm("groups.access_group", yamada)  # still a member, may now leave
    services.membership_leave(actor=cm, group=yamada)
    assert notified(second, "groups.handover")


def test_another_facilitys_administrator_removes_only_their_own_staff(demo, people, client_as):
    yamada = yamada_group()
    nurse = people["user"]
    client = client_as("mcs_admin")  # 高田's MCS administrator; the nurse works at 高田
    page = client.get(reverse("groups:staff_memberships", args=[nurse.pk])).content.decode()
    # The narrow page: the group's neutral label (number and facility) and manager, never
    # the patient's name or details, nor a bare internal id.
    assert f"患者グループ No.{yamada.pk}（{yamada.facility.name}）" in page
    assert f"#{yamada.pk}" not in page
    for text in ("山田太郎", *YAMADA_DOB_TEXTS, "025-555-0101"):
        assert not shown(text, page)
    row = membership(yamada, nurse.email)
    response = client.post(
        reverse("groups:staff_membership_remove", args=[nurse.pk, row.pk]), {"reason": "退職"}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == State.REMOVED and row.ended_by == people["mcs_admin"]
    assert notified(people["group_manager"], "groups.removed_by_admin")
    # Not someone else's staff: the ABC doctor.
    doctor = people["other_facility_user"]
    assert client.get(reverse("groups:staff_memberships", args=[doctor.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.membership_remove(
            actor=people["mcs_admin"], membership=membership(yamada, doctor.email), reason="x"
        )
    # And the administrator still cannot open the group.
    assert client.get(reverse("groups:detail", args=[yamada.pk])).status_code == 404


def test_memberships_end_for_user_ends_everything_at_once(demo, people):
    nurse = people["user"]
    groups_before = set(
        nurse.group_memberships.filter(state__in=Membership.OPEN_STATES).values_list(
            "group_id", flat=True
        )
    )
    assert len(groups_before) == 2  # 山田太郎's group and the free group
    count = services.memberships_end_for_user(
        user=nurse, actor=people["mcs_admin"], reason="退職のため"
    )
    assert count == 2
    assert not nurse.group_memberships.filter(state__in=Membership.OPEN_STATES).exists()
    assert not GroupUserObjectPermission.objects.filter(user=nurse).exists()
    assert (
        Notification.objects.filter(
            recipient=people["group_manager"], kind="groups.member_ended"
        ).count()
        == 2
    )
    assert (
        AuditEvent.objects.filter(action="membership.removed", actor=people["mcs_admin"]).count()
        == 2
    )
    assert services.memberships_end_for_user(user=nurse, actor=None, reason="") == 0


def test_when_the_manager_leaves_the_facility_its_administrators_are_asked_to_hand_over(
    demo, people
):
    cm = people["group_manager"]
    services.memberships_end_for_user(user=cm, actor=None, reason="退職")
    yamada = yamada_group()
    assert not cm.has_perm("groups.manage_group", yamada)
    # 春日野's MCS administrator (cm themself in the demo, still an active account) is asked.
    assert Notification.objects.filter(
        kind="groups.manager_missing",
        url=reverse("groups:handover", args=[yamada.pk]),
        recipient__facility_roles__facility=demo["kasugano"],
        recipient__facility_roles__role="mcs_admin",
    ).exists()


def test_members_see_the_member_list_with_photos(demo, people, client_as):
    yamada = yamada_group()
    nurse = people["user"]
    if hasattr(nurse, "photo"):
        from django.core.files.base import ContentFile

        nurse.photo.save("p.jpg", ContentFile(b"jpeg"), save=True)
    page = client_as("other_facility_user").get(reverse("groups:detail", args=[yamada.pk]))
    html = page.content.decode()
    for name in ("春日野一郎", "山田花子", "高田看子"):
        assert name in html
    if hasattr(nurse, "photo"):
        assert nurse.photo_url.split("?")[0] in html
        assert "高田看子 さんの顔写真" in html


@pytest.mark.parametrize("role", ["user", "mcs_admin", "other_mcs_admin", "center"])
def test_nobody_outside_sees_joetsus_group(demo, people, role, client_as):
    joetsu = joetsu_group()
    response = client_as(role).get(reverse("groups:detail", args=[joetsu.pk]))
    assert response.status_code == 404
    for text in JOETSU_DETAILS:
        assert not shown(text, response.content.decode())


def test_group_kinds(demo):
    assert {g.kind for g in Group.objects.all()} == {"patient", "free", "all_users"}


def test_a_restricted_user_cannot_join_but_still_hears_from_the_center(demo, people):
    """留意事項 2: a restricted user signs in but cannot join groups."""
    admin = people["mcs_admin"]  # invited to 山田太郎's group by the demo
    type(admin).objects.filter(pk=admin.pk).update(state="restricted")
    admin.refresh_from_db()
    with pytest.raises(ValidationError, match="制限"):
        services.group_invitation_accept(
            actor=admin, membership=membership(yamada_group(), admin.email)
        )
    assert selectors.all_users_group_for(admin) is not None
    with pytest.raises(ValidationError, match="利用中ではない"):
        services.membership_invite(actor=people["group_manager"], group=joetsu_group(), user=admin)
