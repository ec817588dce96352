"""Staff administration by the MCS administrator (第6条): invitations, leaving, restriction."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from facilities import services
from facilities.models import (
    FacilityMembership,
    FacilityRole,
    Invitation,
    Occupation,
    User,
    UserRestriction,
)
from facilities.tasks import send_invitation_email
from mcnet.models import AuditEvent, NetworkSettings, Notification
from tests.conftest import log_in

Role = FacilityRole.Role


def _invite(people, demo, email="kango@takada.example.jp", **kwargs) -> Invitation:
    return services.staff_invite(
        actor=people["mcs_admin"],
        facility=demo["takada"],
        email=email,
        name=kwargs.pop("name", "看護 新"),
        kana=kwargs.pop("kana", "かんご あらた"),
        occupation=kwargs.pop("occupation", Occupation.NURSE),
        **kwargs,
    )


# --- invitations ---------------------------------------------------------------------------------


def test_invitation_expires_after_the_networks_setting(demo, people):
    settings = NetworkSettings.load()
    settings.invitation_expiry_days = 3
    settings.save()
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        invitation = _invite(people, demo, email="ＫＡＮＧＯ＠takada.example.jp")
        assert invitation.email == "kango@takada.example.jp"
        assert invitation.kana == "カンゴ アラタ"
        assert invitation.expires_at == timezone.now() + dt.timedelta(days=3)
        assert invitation.is_usable
    with time_machine.travel(dt.datetime(2026, 5, 4, 9, 1, tzinfo=dt.UTC), tick=False):
        invitation.refresh_from_db()
        assert invitation.is_expired and not invitation.is_usable
        with pytest.raises(ValidationError):
            services.staff_invitation_accept(invitation=invitation, password="kango2026x")
    event = AuditEvent.objects.filter(action="invitation.create").latest("id")
    assert event.actor == people["mcs_admin"]
    assert event.facility_id == demo["takada"].pk


def test_invitation_email_carries_a_link_that_only_the_current_key_opens(demo, people):
    invitation = _invite(people, demo)
    old_token = invitation.token
    assert send_invitation_email(invitation.pk, invitation.key) == "sent"
    assert send_invitation_email(invitation.pk, invitation.key) == "already sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kango@takada.example.jp"]
    assert "高田訪問看護ステーション" in message.subject
    assert invitation.get_accept_url() in message.body

    resent = services.invitation_resend(actor=people["mcs_admin"], invitation=invitation)
    assert resent.send_count == 2 and resent.emailed_at is None
    assert resent.token != old_token
    # A message still queued for the old key is dropped: it would carry a dead link.
    assert send_invitation_email(invitation.pk, invitation.key) == "superseded"
    assert send_invitation_email(resent.pk, resent.key) == "sent"
    assert resent.get_accept_url() in mail.outbox[-1].body
    assert Invitation.key_from_token(old_token) == invitation.key  # genuine but superseded
    assert not Invitation.objects.filter(key=invitation.key).exists()


def test_a_forged_token_is_refused(demo, people):
    invitation = _invite(people, demo)
    assert Invitation.key_from_token(invitation.token) == invitation.key
    assert Invitation.key_from_token(invitation.key) is None  # the key alone is not enough
    assert Invitation.key_from_token(invitation.key + ".0123456789abcdef") is None
    assert Invitation.key_from_token("") is None


def test_revoked_invitation_cannot_be_accepted_or_resent(demo, people):
    invitation = _invite(people, demo)
    services.invitation_revoke(actor=people["mcs_admin"], invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED
    assert invitation.revoked_by == people["mcs_admin"]
    with pytest.raises(ValidationError):
        services.staff_invitation_accept(invitation=invitation, password="kango2026x")
    with pytest.raises(ValidationError):
        services.invitation_resend(actor=people["mcs_admin"], invitation=invitation)
    assert not User.objects.filter(email=invitation.email).exists()
    assert AuditEvent.objects.filter(action="invitation.revoke").exists()


def test_cannot_invite_twice_or_invite_current_staff(demo, people):
    _invite(people, demo)
    with pytest.raises(ValidationError) as excinfo:
        _invite(people, demo)
    assert "招待中" in str(excinfo.value)
    with pytest.raises(ValidationError) as excinfo:
        _invite(people, demo, email="nurse@takada.example.jp")
    assert "既にこの事業所の職員" in str(excinfo.value)


def test_only_the_facility_manager_or_center_invites_an_mcs_administrator(demo, people):
    abc = demo["abc"]
    # ABC's MCS administrator is not its facility manager (第5条: the manager appoints).
    with pytest.raises(ValidationError):
        services.staff_invite(
            actor=people["other_mcs_admin"],
            facility=abc,
            email="x@abc.example.jp",
            is_mcs_admin=True,
        )
    invitation = services.staff_invite(
        actor=people["center"], facility=abc, email="x@abc.example.jp", is_mcs_admin=True
    )
    user = services.staff_invitation_accept(
        invitation=invitation, password="abcAdmin2026", name="X"
    )
    assert FacilityRole.objects.filter(user=user, facility=abc, role=Role.MCS_ADMIN).exists()
    assert User.objects.get(pk=user.pk).has_perm("facilities.manage_staff", abc)


def test_new_person_accepts_sets_password_and_profile_and_becomes_staff(demo, people):
    invitation = _invite(people, demo)
    user = services.staff_invitation_accept(
        invitation=invitation,
        password="kango2026x",
        name="看護 新",
        kana="ｶﾝｺﾞ ｱﾗﾀ",
        occupation=Occupation.NURSE,
        phone="０２５－３３３－４４４４",
    )
    assert user.check_password("kango2026x")
    assert (user.kana, user.phone, user.occupation) == ("カンゴ アラタ", "025-333-4444", "nurse")
    assert FacilityMembership.objects.get(user=user, facility=demo["takada"]).is_active
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.ACCEPTED and invitation.accepted_user == user
    assert Notification.objects.filter(
        recipient=people["mcs_admin"], kind="facilities.invitation_accepted"
    ).exists()
    with pytest.raises(ValidationError):  # used once
        services.staff_invitation_accept(invitation=invitation, password="kango2026x")


def test_existing_account_invited_by_a_second_facility_is_one_account_two_memberships(demo, people):
    nurse = people["user"]  # works at 高田
    invitation = services.staff_invite(
        actor=people["other_mcs_admin"], facility=demo["abc"], email="ＮＵＲＳＥ@takada.example.jp"
    )
    assert invitation.name == nurse.name  # taken from the account
    with pytest.raises(ValidationError):  # not without signing in as her
        services.staff_invitation_accept(invitation=invitation, password="another2026x")
    with pytest.raises(PermissionDenied):  # someone else signed in cannot take it
        services.staff_invitation_accept(invitation=invitation, user=people["other_facility_user"])
    services.staff_invitation_accept(invitation=invitation, user=nurse)
    assert User.objects.filter(email="nurse@takada.example.jp").count() == 1
    assert set(
        FacilityMembership.objects.filter(user=nurse, is_active=True).values_list(
            "facility__name", flat=True
        )
    ) == {"高田訪問看護ステーション", "ABCクリニック"}
    nurse.refresh_from_db()
    assert nurse.check_password("mcnet-demo-2026")  # her password did not change


# --- a staff member who left ---------------------------------------------------------------------


def _in_demo_groups(user):
    from groups.models import Membership

    return Membership.objects.filter(user=user, state__in=Membership.OPEN_STATES)


def test_deactivating_stops_login_ends_membership_and_every_group(demo, people, client):
    from groups.models import Membership

    nurse = people["user"]
    groups_before = list(_in_demo_groups(nurse).select_related("group__manager"))
    assert groups_before, "the demo puts the nurse in 山田太郎さんのグループ"
    managers = {m.group.manager for m in groups_before if m.group.manager_id}

    services.staff_deactivate(
        actor=people["mcs_admin"], user=nurse, facility=demo["takada"], reason="退職"
    )

    nurse.refresh_from_db()
    assert nurse.state == User.State.LEFT and not nurse.is_active
    membership = FacilityMembership.objects.get(user=nurse, facility=demo["takada"])
    assert not membership.is_active and membership.ended_at and membership.end_reason == "退職"
    assert not _in_demo_groups(nurse).exists()
    assert Membership.objects.filter(user=nurse, state=Membership.State.REMOVED).count() == len(
        groups_before
    )
    for manager in managers:
        assert Notification.objects.filter(
            recipient=manager, kind="groups.member_ended"
        ).exists(), manager
    event = AuditEvent.objects.filter(action="staff.deactivate").latest("id")
    assert event.changes["left_network"] is True
    assert event.changes["groups_ended"] == len(groups_before)
    # Her login stops.
    response = client.post(
        "/accounts/login/", {"login": nurse.email, "password": "mcnet-demo-2026"}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_deactivating_an_open_session_signs_her_out(demo, people, client):
    nurse = people["user"]
    log_in(client, nurse, mfa=False)
    assert client.get("/").status_code == 200
    services.staff_deactivate(
        actor=people["mcs_admin"], user=nurse, facility=demo["takada"], reason="退職"
    )
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_deactivating_relieves_the_roles_at_that_facility(demo, people):
    cm = people["group_manager"]
    services.staff_deactivate(
        actor=people["center"], user=cm, facility=demo["kasugano"], reason="異動"
    )
    assert not FacilityRole.objects.filter(user=cm).exists()
    cm = User.objects.get(pk=cm.pk)
    assert not cm.has_perm("facilities.manage_staff", demo["kasugano"])


def test_leaving_one_of_two_facilities_keeps_the_account(demo, people):
    nurse = people["user"]
    services.membership_add(actor=None, user=nurse, facility=demo["abc"])
    services.staff_deactivate(
        actor=people["other_mcs_admin"], user=nurse, facility=demo["abc"], reason="兼務終了"
    )
    nurse.refresh_from_db()
    assert nurse.is_active and nurse.state == User.State.ACTIVE
    assert FacilityMembership.objects.get(user=nurse, facility=demo["takada"]).is_active
    assert _in_demo_groups(nurse).exists()


def test_deactivating_needs_a_reason_and_a_current_member(demo, people):
    with pytest.raises(ValidationError):
        services.staff_deactivate(
            actor=people["mcs_admin"], user=people["user"], facility=demo["takada"], reason=" "
        )
    with pytest.raises(ValidationError):
        services.staff_deactivate(
            actor=people["mcs_admin"],
            user=people["other_facility_user"],
            facility=demo["takada"],
            reason="退職",
        )
    assert people["user"].memberships.get().is_active


def test_a_person_who_left_can_come_back_by_a_new_invitation(demo, people):
    nurse = people["user"]
    services.staff_deactivate(
        actor=people["mcs_admin"], user=nurse, facility=demo["takada"], reason="退職"
    )
    invitation = _invite(people, demo, email=nurse.email)
    services.staff_invitation_accept(
        invitation=invitation, password="kaettekita2026", name="高田看子"
    )
    nurse.refresh_from_db()
    assert nurse.is_active and nurse.state == User.State.ACTIVE
    assert nurse.check_password("kaettekita2026")
    assert User.objects.filter(email=nurse.email).count() == 1


# --- restriction and ban (留意事項 2) ------------------------------------------------------------


def test_restrict_then_ban_then_reinstate(demo, people):
    nurse, takada, admin = people["user"], demo["takada"], people["mcs_admin"]
    restricted = services.user_restrict(
        actor=admin, user=nurse, facility=takada, level="restricted", reason="患者以外の話題"
    )
    nurse.refresh_from_db()
    assert nurse.state == User.State.RESTRICTED and nurse.is_active
    banned = services.user_restrict(
        actor=admin, user=nurse, facility=takada, level="banned", reason="IDの貸与"
    )
    restricted.refresh_from_db()
    assert restricted.lifted_at is not None  # superseded
    nurse.refresh_from_db()
    assert nurse.state == User.State.BANNED and not nurse.is_active

    lifted = services.user_reinstate(actor=admin, user=nurse, facility=takada, reason="再教育済み")
    assert lifted.pk == banned.pk and lifted.lift_reason == "再教育済み"
    nurse.refresh_from_db()
    assert nurse.state == User.State.ACTIVE and nurse.is_active
    actions = list(
        AuditEvent.objects.filter(action__in=["user.restrict", "user.reinstate"])
        .order_by("id")
        .values_list("action", "changes__reason")
    )
    assert actions == [
        ("user.restrict", "患者以外の話題"),
        ("user.restrict", "IDの貸与"),
        ("user.reinstate", "再教育済み"),
    ]


def test_a_ban_by_another_facility_still_holds_after_one_reinstates(demo, people):
    nurse = people["user"]
    services.membership_add(actor=None, user=nurse, facility=demo["abc"])
    services.user_restrict(
        actor=people["other_mcs_admin"],
        user=nurse,
        facility=demo["abc"],
        level="banned",
        reason="不正アクセス",
    )
    services.user_restrict(
        actor=people["mcs_admin"],
        user=nurse,
        facility=demo["takada"],
        level="restricted",
        reason="確認中",
    )
    services.user_reinstate(
        actor=people["mcs_admin"], user=nurse, facility=demo["takada"], reason="確認済み"
    )
    nurse.refresh_from_db()
    assert nurse.state == User.State.BANNED and not nurse.is_active


def test_restriction_needs_a_reason_a_level_and_a_member(demo, people):
    admin, takada = people["mcs_admin"], demo["takada"]
    for kwargs in (
        {"user": people["user"], "level": "restricted", "reason": ""},
        {"user": people["user"], "level": "suspended", "reason": "x"},
        {"user": people["other_facility_user"], "level": "banned", "reason": "x"},
        {"user": admin, "level": "banned", "reason": "x"},  # not oneself
    ):
        with pytest.raises(ValidationError):
            services.user_restrict(actor=admin, facility=takada, **kwargs)
    with pytest.raises(ValidationError):  # nothing to lift
        services.user_reinstate(actor=admin, user=people["user"], facility=takada, reason="x")
    assert not UserRestriction.objects.exists()
    assert User.objects.get(pk=people["user"].pk).state == User.State.ACTIVE


def test_restricted_user_leaves_the_directory_and_cannot_be_invited_to_groups(demo, people):
    from facilities.selectors import directory_users

    nurse = people["user"]
    assert nurse in directory_users(viewer=people["group_manager"], query="たかだ")
    services.user_restrict(
        actor=people["mcs_admin"],
        user=nurse,
        facility=demo["takada"],
        level="restricted",
        reason="確認中",
    )
    assert nurse not in directory_users(viewer=people["group_manager"], query="たかだ")


def test_invitation_email_to_an_existing_account_asks_to_sign_in(demo, people):
    invitation = services.staff_invite(
        actor=people["other_mcs_admin"], facility=demo["abc"], email=people["user"].email
    )
    send_invitation_email(invitation.pk, invitation.key)
    body = mail.outbox[-1].body
    assert "アカウントは既にあります" in body and "パスワードとプロフィールを設定" not in body


def test_the_center_is_told_when_a_facility_changes_its_data(demo, people):
    services.facility_update(actor=people["mcs_admin"], facility=demo["takada"], fax="025-1")
    note = Notification.objects.get(recipient=people["center"], kind="facilities.facility_updated")
    assert "FAX番号:  → 025-1" in note.body
    services.facility_update(actor=people["center"], facility=demo["takada"], fax="025-2")
    assert Notification.objects.filter(kind="facilities.facility_updated").count() == 1
