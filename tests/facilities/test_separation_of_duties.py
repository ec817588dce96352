"""Separation of duties: nobody grants themselves a role, a permission, a password or access to a
patient; center staff administer accounts but hold no facility role; facility managers use MFA;
a measure or a role change ends the person's sessions for good.

Each test reproduces what an insider once did by hand against older code: granting oneself a
role, a permission, a password or a patient, and skipping MFA as an administrator.
"""

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, reverse

from consents.models import Patient
from facilities import services
from facilities.models import Facility, FacilityRole, User
from groups.models import Group
from mcnet.models import AuditEvent, Notification
from tests.conftest import log_in

Role = FacilityRole.Role
LOGIN = "/accounts/login/"
# What must never reach the center: the demo patient's name, kana, date of birth, address.
YAMADA = ("山田太郎", "やまだ たろう", "ヤマダ タロウ", "1938", "昭和13", "春日野1-10-1")


def _facility_form(facility: Facility, **extra) -> dict:
    return {
        "name": facility.name,
        "kind": facility.kind,
        "postal_code": facility.postal_code,
        "prefecture": facility.prefecture,
        "city": facility.city,
        "town": facility.town,
        "address_line": facility.address_line,
        "phone": facility.phone,
        "fax": facility.fax,
        "manager_name": facility.manager_name,
        "manager_email": facility.manager_email,
        "state": facility.state,
        **extra,
    }


def _inline_management(page: str) -> dict:
    """The inline formsets' management fields as the page rendered them (a browser posts them)."""
    return dict(
        re.findall(r'name="(\w+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"', page)
    )


def _errors(response) -> str:
    context = response.context or {}
    form = context.get("adminform")
    inlines = context.get("inline_admin_formsets") or []
    return str(
        (
            form.form.errors if form else None,
            [f.formset.non_form_errors() for f in inlines],
            [f.formset.errors for f in inlines],
        )
    )


def _no_patient_in(body: str) -> list[str]:
    return [text for text in YAMADA if text in body]


# --- role appointments -------------------------------------------------------------------------


def test_an_mcs_administrator_cannot_appoint_themselves_group_manager(demo, people):
    abc_admin = people["other_mcs_admin"]  # ABC's MCS administrator, nothing else
    with pytest.raises(ValidationError) as refused:
        services.role_appoint(
            actor=abc_admin, user=abc_admin, facility=demo["abc"], role=Role.GROUP_MANAGER
        )
    assert refused.value.code == "self_appointment"
    assert "ご自身を任命することはできません" in refused.value.messages[0]
    assert not FacilityRole.objects.filter(user=abc_admin, role=Role.GROUP_MANAGER).exists()
    assert not abc_admin.has_perm("facilities.register_patients", demo["abc"])


def test_self_appointment_on_the_roles_page_is_refused_with_a_message(client_as, demo, people):
    """高田's facility manager (also its MCS administrator) names themself group manager."""
    me = people["mcs_admin"]
    client = client_as("mcs_admin")
    response = client.post(
        reverse("facilities:role_appoint", args=[demo["takada"].pk]),
        {"user": me.pk, "role": Role.GROUP_MANAGER},
    )
    assert response.status_code == 200
    assert "ご自身を任命することはできません" in response.content.decode()
    assert not FacilityRole.objects.filter(user=me, role=Role.GROUP_MANAGER).exists()


def test_an_mcs_administrator_appoints_group_managers_but_not_administrators(demo, people):
    abc = demo["abc"]
    abc_admin, doctor = people["other_mcs_admin"], people["other_facility_user"]
    newcomer = services.user_create(actor=None, email="new@abc.example.jp", name="新人一郎")
    services.membership_add(actor=None, user=newcomer, facility=abc)
    with pytest.raises(PermissionDenied):
        services.role_appoint(actor=abc_admin, user=newcomer, facility=abc, role=Role.MCS_ADMIN)
    services.role_appoint(actor=abc_admin, user=newcomer, facility=abc, role=Role.GROUP_MANAGER)
    # 第5条: the person appointed and the facility manager are told, the appointer is not.
    assert Notification.objects.filter(
        recipient=newcomer, kind="facilities.role_appointed"
    ).exists()
    told = Notification.objects.get(recipient=doctor, kind="facilities.role_appointed_by_other")
    assert "新人一郎" in told.title and "上越一" in told.body
    assert not Notification.objects.filter(
        recipient=abc_admin, kind__startswith="facilities.role_appointed"
    ).exists()
    # The facility manager appoints the MCS administrator.
    services.role_appoint(actor=doctor, user=newcomer, facility=abc, role=Role.MCS_ADMIN)


def test_an_invitation_as_administrator_appoints_only_while_the_inviter_may(demo, people):
    abc, doctor = demo["abc"], people["other_facility_user"]
    invitation = services.staff_invite(
        actor=doctor, facility=abc, email="next.admin@abc.example.jp", is_mcs_admin=True
    )
    services.role_relieve(actor=None, user=doctor, facility=abc, role=Role.FACILITY_MANAGER)
    account = services.staff_invitation_accept(
        invitation=invitation, password="abcd1234xyz", name="次"
    )
    assert account.memberships.filter(facility=abc, is_active=True).exists()
    assert not FacilityRole.objects.filter(user=account).exists()
    assert AuditEvent.objects.filter(action="invitation.role_not_appointed").exists()


def test_center_staff_cannot_hold_a_facility_role(demo, people):
    center, doctor = people["center"], people["other_facility_user"]
    for role in Role.values:
        with pytest.raises(ValidationError) as refused:
            services.role_appoint(actor=doctor, user=center, facility=demo["abc"], role=role)
        assert refused.value.code == "center_staff"
    with pytest.raises(ValidationError):  # not even by the system
        services.role_appoint(
            actor=None, user=center, facility=demo["abc"], role=Role.GROUP_MANAGER
        )
    assert not FacilityRole.objects.filter(user=center).exists()


def test_a_role_holder_or_staff_member_cannot_be_made_center_staff(demo, people):
    for person in (people["mcs_admin"], people["user"]):
        with pytest.raises(ValidationError) as refused:
            services.center_staff_add(actor=people["center"], user=person)
        assert refused.value.code == "holds_facility_role"
        assert not person.groups.exists()


def test_center_staff_cannot_join_a_facility_and_so_no_patient_group(demo, people):
    """Staff of a facility can be invited into its patients' groups; the center never is."""
    center = people["center"]
    with pytest.raises(ValidationError) as refused:
        services.staff_invite(
            actor=people["mcs_admin"], facility=demo["takada"], email=center.email
        )
    assert "センター職員" in refused.value.message_dict["email"][0]
    with pytest.raises(ValidationError):
        services.membership_add(actor=None, user=center, facility=demo["takada"])
    assert not center.memberships.exists()


# --- the center's admin ------------------------------------------------------------------------


def test_center_cannot_add_itself_to_a_facilitys_roles_in_the_admin_nor_open_patients(
    client_as, demo, people
):
    center, kasugano = people["center"], demo["kasugano"]
    client = client_as("center")
    url = reverse("admin:facilities_facility_change", args=[kasugano.pk])
    page = client.get(url).content.decode()
    assert "roles-TOTAL_FORMS" not in page  # no role inline to fill in
    assert "春日野一郎" in page  # the holders are shown, read-only
    response = client.post(
        url,
        _facility_form(
            kasugano,
            **{
                "roles-TOTAL_FORMS": "1",
                "roles-INITIAL_FORMS": "0",
                "roles-0-user": str(center.pk),
                "roles-0-role": Role.GROUP_MANAGER,
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not FacilityRole.objects.filter(user=center).exists()

    yamada = Patient.objects.get(name="山田太郎")
    group = Group.objects.get(patient=yamada)
    leaked = {}
    for path in (
        reverse("consents:patient_list"),
        reverse("consents:patient_detail", args=[yamada.pk]),
        reverse("consents:record_open", args=[yamada.pk]),
        reverse("groups:list"),
        reverse("groups:detail", args=[group.pk]),
        url,
    ):
        body = client.get(path, follow=True).content.decode()
        if found := _no_patient_in(body):
            leaked[path] = found
    assert not leaked, leaked


def test_center_cannot_make_anyone_superuser_staff_or_change_groups(client_as, people):
    center, nurse = people["center"], people["user"]
    client = client_as("center")
    for target in (center, nurse):
        url = reverse("admin:facilities_user_change", args=[target.pk])
        page = client.get(url).content.decode()
        for field in ("is_superuser", "is_staff", "groups", "user_permissions", "password"):
            assert f'name="{field}"' not in page, field
        response = client.post(
            url,
            {
                "email": target.email,
                "name": target.name,
                "kana": target.kana,
                "gender": target.gender,
                "occupation": target.occupation,
                "phone": "０２５－１２３－４５６７",
                "is_superuser": "on",
                "is_staff": "on",
                "is_active": "",
                "state": "banned",
                "groups": [str(g.pk) for g in center.groups.all()],
                "user_permissions": ["1", "2"],
                **_inline_management(page),
            },
        )
        assert response.status_code == 302, _errors(response)
    center.refresh_from_db()
    nurse.refresh_from_db()
    assert not center.is_superuser and not center.user_permissions.exists()
    assert (nurse.is_superuser, nurse.is_staff, nurse.is_active, nurse.state) == (
        False,
        False,
        True,
        "active",
    )
    assert not nurse.groups.exists() and not nurse.user_permissions.exists()
    # The profile change went through the service, with its audit event.
    assert nurse.phone == "025-123-4567"
    event = AuditEvent.objects.filter(action="user.update", object_id=str(nurse.pk)).get()
    assert event.actor == center and "phone" in event.changes["fields"]
    assert "025-123-4567" not in str(event.changes)  # names, never values


def test_center_cannot_set_a_password_in_the_admin(client_as, people):
    nurse = people["user"]
    client = client_as("center")
    with pytest.raises(NoReverseMatch):
        reverse("admin:auth_user_password_change", args=[nurse.pk])
    old_hash = nurse.password
    url = f"/admin/facilities/user/{nurse.pk}/password/"
    response = client.get(url, follow=True)
    assert 'name="password1"' not in response.content.decode()
    client.post(url, {"password1": "takeover2026", "password2": "takeover2026"})
    nurse.refresh_from_db()
    assert nurse.password == old_hash
    change_page = client.get(reverse("admin:facilities_user_change", args=[nurse.pk]))
    assert "password/" not in change_page.content.decode()


def test_a_user_added_in_the_admin_has_no_password_until_they_set_one(client_as, people):
    client = client_as("center")
    add_url = reverse("admin:facilities_user_add")
    assert 'name="password1"' not in client.get(add_url).content.decode()
    response = client.post(
        add_url,
        {
            "email": "ＮＥＷ＠ｅｘａｍｐｌｅ．ｊｐ",
            "name": "新規太郎",
            "kana": "しんき たろう",
            "occupation": "nurse",
            "password1": "chosen-by-center-1",
            "password2": "chosen-by-center-1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new@example.jp")
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_center_sends_a_password_reset_link_which_is_audited(
    client_as, people, django_capture_on_commit_callbacks
):
    nurse = people["user"]
    client = client_as("center")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:facilities_user_changelist"),
            {"action": "send_password_reset", "_selected_action": [str(nurse.pk)]},
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[nurse.email]]
    assert re.search(r"/accounts/password/reset/key/\S+", mail.outbox[0].body)
    event = AuditEvent.objects.get(action="user.password_reset_link")
    assert (event.actor, event.object_id) == (people["center"], str(nurse.pk))


def test_only_a_superuser_appoints_center_staff_and_never_in_the_admin_a_superuser(
    client_as, people
):
    nurse = people["user"]
    client = client_as("center")
    changelist = client.get(reverse("admin:facilities_user_changelist")).content.decode()
    assert "send_password_reset" in changelist
    assert "make_center_staff" not in changelist
    client.post(
        reverse("admin:facilities_user_changelist"),
        {"action": "make_center_staff", "_selected_action": [str(nurse.pk)]},
    )
    nurse.refresh_from_db()
    assert not nurse.groups.exists() and not nurse.is_staff


def test_password_changes_by_the_person_are_audited(client_as, people, password):
    client = client_as("user")
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": "kasugano2026x", "password2": "kasugano2026x"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.object_id == str(people["user"].pk)


# --- MFA for facility managers -----------------------------------------------------------------


def test_a_facility_manager_without_mfa_is_sent_to_set_it_up(client, people, settings):
    settings.MCNET_REQUIRE_MFA = True
    doctor = people["other_facility_user"]  # ABC's facility manager, no other role
    assert set(FacilityRole.objects.filter(user=doctor).values_list("role", flat=True)) == {
        Role.FACILITY_MANAGER
    }
    log_in(client, doctor, mfa=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_index") + "?required=1"


# --- sessions ----------------------------------------------------------------------------------


def _logged_in(client, email, password) -> str:
    response = client.post(LOGIN, {"login": email, "password": password})
    assert response.status_code == 302 and response.url == reverse("home"), response
    assert client.get(reverse("home")).status_code == 200
    return client.session.session_key


def _signed_in(client) -> bool:
    response = client.get(reverse("inbox"))
    return response.status_code == 200


def test_a_banned_users_old_session_is_dead_after_reinstatement(client, demo, people, password):
    nurse, admin, takada = people["user"], people["mcs_admin"], demo["takada"]
    key = _logged_in(client, nurse.email, password)
    services.user_restrict(actor=admin, user=nurse, facility=takada, level="banned", reason="貸与")
    services.user_reinstate(actor=admin, user=nurse, facility=takada, reason="確認済み")
    assert User.objects.get(pk=nurse.pk).is_active
    response = client.get(reverse("inbox"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    # Flushed from the database (and the cache in front of it), not merely refused.
    assert not Session.objects.filter(session_key=key).exists()
    from django.contrib.sessions.backends.cached_db import SessionStore

    assert not SessionStore(session_key=key).exists(key)
    # Signing in again works.
    _logged_in(client, nurse.email, password)


@pytest.mark.parametrize("measure", ["restricted", "role", "deactivate"])
def test_a_measure_or_a_role_change_ends_the_sessions_at_once(
    client, demo, people, password, measure
):
    nurse, admin, takada = people["user"], people["mcs_admin"], demo["takada"]
    _logged_in(client, nurse.email, password)
    if measure == "restricted":
        services.user_restrict(
            actor=admin, user=nurse, facility=takada, level="restricted", reason="確認中"
        )
    elif measure == "role":
        services.role_appoint(actor=admin, user=nurse, facility=takada, role=Role.GROUP_MANAGER)
    else:
        services.staff_deactivate(actor=admin, user=nurse, facility=takada, reason="退職")
    assert not _signed_in(client)


def test_relieving_oneself_keeps_the_session_that_asked(client_as, demo, people):
    client = client_as("mcs_admin")
    row = FacilityRole.objects.get(user=people["mcs_admin"], role=Role.MCS_ADMIN)
    response = client.post(
        reverse("facilities:role_relieve", args=[demo["takada"].pk, row.pk]), follow=True
    )
    assert response.status_code == 200
    assert _signed_in(client)


def test_facility_writes_in_the_admin_go_through_the_services(client_as, people):
    client = client_as("center")
    response = client.post(
        reverse("admin:facilities_facility_add"),
        {
            "name": "新井薬局",
            "kind": "pharmacy",
            "postal_code": "９４４－００００",
            "state": "applying",
            "state_note": "別紙1受付",
        },
    )
    assert response.status_code == 302, _errors(response)
    facility = Facility.objects.get(name="新井薬局")
    created = AuditEvent.objects.get(action="facility.create", object_id=str(facility.pk))
    assert created.actor == people["center"]
    assert facility.state_changes.get().note == "別紙1受付"
    change = reverse("admin:facilities_facility_change", args=[facility.pk])
    response = client.post(
        change, _facility_form(facility, phone="025-000-0000", state="active", state_note="承認")
    )
    assert response.status_code == 302, _errors(response)
    assert AuditEvent.objects.filter(action="facility.update", object_id=str(facility.pk)).get()
    assert AuditEvent.objects.filter(action="facility.state", object_id=str(facility.pk)).get()
