"""The center's review in the admin: the queue by state, accept / return / reject, audited,
the applicant told by e-mail; accepting creates the facility and invites its manager."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrollment import selectors, services
from enrollment.models import Application, ApplicationEvent
from facilities import services as facility_services
from facilities.models import Facility, FacilityRole, Invitation
from mcnet.models import AuditEvent

from .test_applications import PNG

CHANGELIST = "admin:enrollment_application_changelist"


@pytest.fixture
def application(demo):
    return Application.objects.get(manager_email="manager@myoko-pharmacy.example.jp")


def decide(client, application, verb, reason=""):
    return client.post(
        reverse(CHANGELIST),
        {"action": verb, "_selected_action": [application.pk], "apply": "1", "reason": reason},
    )


def test_the_queue_shows_states_and_never_unconfirmed_applications(client_as, application):
    unconfirmed = services.application_create(
        data={
            "facility_name": "未確認の事業所",
            "postal_code": "943-0000",
            "prefecture": "新潟県",
            "city": "上越市",
            "town": "",
            "address_line": "1",
            "phone": "025-000-0000",
            "kind": "clinic",
            "manager_name": "未確認",
            "manager_email": "unconfirmed@example.jp",
            "pledge_affirmed": True,
        }
    )
    client = client_as("center")
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert application.facility_name in page
    assert unconfirmed.facility_name not in page
    for state in ("提出済み（センター審査待ち）", "差し戻し（修正待ち）", "承認", "却下"):
        assert state in page
    filtered = client.get(reverse(CHANGELIST) + "?state=accepted").content.decode()
    assert application.facility_name not in filtered
    detail = reverse("admin:enrollment_application_change", args=[unconfirmed.pk])
    assert client.get(detail).status_code == 302  # "does not exist" for the center


def test_accept_creates_the_facility_invites_its_manager_and_tells_the_applicant(
    client_as, application, send_mails
):
    client = client_as("center")
    page = client.post(
        reverse(CHANGELIST), {"action": "accept", "_selected_action": [application.pk]}
    )
    assert page.status_code == 200 and "理由・申込者への連絡" in page.content.decode()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED  # the intermediate page only

    response = decide(client, application, "accept", "ようこそ")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == Application.State.ACCEPTED
    assert application.decided_by.email == "center@example.jp"
    facility = application.facility
    assert facility.state == Facility.State.ACTIVE
    assert (facility.name, facility.kind, facility.postal_code, facility.phone) == (
        "妙高みどり薬局",
        "pharmacy",
        "944-0048",
        "0255-44-4444",
    )
    assert facility.manager_email == "manager@myoko-pharmacy.example.jp"
    invitation = Invitation.objects.get(facility=facility, email=facility.manager_email)
    assert invitation.state == Invitation.State.PENDING
    actions = set(
        AuditEvent.objects.filter(
            object_type="enrollment.application", object_id=str(application.pk)
        ).values_list("action", flat=True)
    )
    assert {"enrollment.application.create", "enrollment.application.submit"} <= actions
    assert "enrollment.application.accept" in actions
    assert AuditEvent.objects.filter(action="facility.create", facility_id=facility.pk).exists()

    send_mails()
    told = [m for m in mail.outbox if m.to == [facility.manager_email]]
    assert "承認" in told[-1].subject and "ようこそ" in told[-1].body

    # The manager accepts the invitation: the account is made and becomes the facility manager.
    user = facility_services.staff_invitation_accept(
        invitation=invitation, password="pharmacy-2026", name="妙高みどり"
    )
    assert FacilityRole.objects.filter(
        user=user, facility=facility, role=FacilityRole.Role.FACILITY_MANAGER
    ).exists()
    assert user.has_perm("facilities.sign_for_facility", facility)
    assert selectors.facility_for_filing(user, facility.pk) == facility


def test_return_needs_a_reason_and_tells_the_applicant(client_as, application, send_mails):
    client = client_as("center")
    response = decide(client, application, "return", "")
    assert response.status_code == 200
    assert "理由を入力してください" in response.content.decode()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED

    decide(client, application, "return", "住所の番地が抜けています。")
    application.refresh_from_db()
    assert application.state == Application.State.RETURNED
    assert application.decision_reason == "住所の番地が抜けています。"
    assert AuditEvent.objects.filter(
        action="enrollment.application.return", object_id=str(application.pk)
    ).exists()
    send_mails()
    assert "住所の番地が抜けています。" in mail.outbox[-1].body
    assert not Facility.objects.filter(name=application.facility_name).exists()


def test_reject_with_reason_and_no_facility(client_as, application, send_mails):
    client = client_as("center")
    decide(client, application, "reject", "上越・妙高地域外のため")
    application.refresh_from_db()
    assert application.state == Application.State.REJECTED
    assert not Facility.objects.filter(name=application.facility_name).exists()
    assert application.events.filter(kind=ApplicationEvent.Kind.REJECTED).exists()
    # A decided application cannot be accepted afterwards.
    response = decide(client, application, "accept")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == Application.State.REJECTED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("この操作はできません" in m for m in messages)


def test_one_application_page_links_its_decisions(client_as, application):
    client = client_as("center")
    change = client.get(reverse("admin:enrollment_application_change", args=[application.pk]))
    decide_url = reverse("admin:enrollment_application_decide", args=[application.pk, "accept"])
    assert decide_url in change.content.decode()
    assert client.get(decide_url).status_code == 200
    response = client.post(decide_url, {"apply": "1", "reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == Application.State.ACCEPTED
    bad = reverse("admin:enrollment_application_decide", args=[application.pk, "delete"])
    assert client.get(bad).status_code == 404


def test_the_center_opens_the_signed_scan_in_the_admin(client_as, application):
    services.application_attach_scan(
        application=application, scan=SimpleUploadedFile("scan.png", PNG)
    )
    client = client_as("center")
    url = reverse("admin:enrollment_application_scan", args=[application.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("role", ["user", "mcs_admin", "other_mcs_admin", "anonymous"])
def test_nobody_else_reaches_the_review(client_as, application, role):
    client = client_as(role)
    for url in (
        reverse(CHANGELIST),
        reverse("admin:enrollment_application_decide", args=[application.pk, "accept"]),
        reverse("admin:enrollment_application_scan", args=[application.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403, 404)
        assert "/admin/login/" in response.get("Location", "/admin/login/")
    response = decide(client, application, "accept")
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
