"""利用開始までの流れ 7: users are told to accept mail from MCS's two domains (held in the
network settings), and the center sends an announcement by mail too — to every user or to the
MCS administrators only — after a preview and a confirmation, once, through the outbox."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from facilities import services as facility_services
from facilities.models import Facility, FacilityRole, User
from facilities.tasks import send_invitation_email
from groups import services
from groups.models import Announcement
from mcnet.models import AuditEvent, NetworkSettings, Notification, validate_mail_domains
from mcnet.tasks import deliver_notification_emails

DOMAINS = ("@medical-care.net", "@embrace.co.jp")


def _invite(people):
    return facility_services.staff_invite(
        actor=people["mcs_admin"],
        facility=Facility.objects.get(name="高田訪問看護ステーション"),
        email="kango@takada.example.jp",
        name="看護新",
    )


def test_the_welcome_mail_and_the_first_login_page_name_the_two_domains(demo, people, client):
    invitation = _invite(people)
    assert send_invitation_email(invitation.pk, invitation.key) == "sent"
    [message] = mail.outbox
    assert "迷惑メール設定" in message.body
    assert all(domain in message.body for domain in DOMAINS)
    page = client.get(invitation.get_accept_url()).content.decode()
    assert "迷惑メール設定" in page and all(f"<code>{d}</code>" in page for d in DOMAINS)


def test_the_domains_come_from_the_network_settings(demo, people, client):
    network = NetworkSettings.load()
    network.mcs_mail_domains = "＠ｍｃｓ．ｅｘａｍｐｌｅ．ｊｐ、@embrace.co.jp"
    network.full_clean()
    network.save()
    invitation = _invite(people)
    send_invitation_email(invitation.pk, invitation.key)
    assert "@mcs.example.jp @embrace.co.jp" in mail.outbox[0].body
    assert "medical-care.net" not in mail.outbox[0].body
    page = client.get(invitation.get_accept_url()).content.decode()
    assert "<code>@mcs.example.jp</code>" in page and "medical-care.net" not in page


@pytest.mark.parametrize("value", ["medical-care.net", "@", "@bad domain", "@x..jp"])
def test_a_domain_not_written_from_the_at_sign_is_refused(value):
    with pytest.raises(ValidationError):
        validate_mail_domains(value)


def _announcement(people, audience="all_users", **kwargs) -> Announcement:
    return services.announcement_create(
        actor=people["center"],
        title="システム停止のお知らせ",
        body="12月1日 2時から4時まで停止します。",
        audience=audience,
        **kwargs,
    )


def _active_users():
    return set(User.objects.filter(is_active=True).values_list("email", flat=True))


def _mcs_admins():
    return set(
        User.objects.filter(
            is_active=True, facility_roles__role=FacilityRole.Role.MCS_ADMIN
        ).values_list("email", flat=True)
    )


@pytest.mark.parametrize("audience", ["all_users", "mcs_admins"])
def test_the_center_previews_confirms_and_the_mail_goes_once(
    demo, people, client_as, audience, django_capture_on_commit_callbacks
):
    announcement = _announcement(people, audience)
    expected = _active_users() if audience == "all_users" else _mcs_admins()
    client = client_as("center")
    url = reverse("groups:announcement_mail", args=[announcement.pk])
    preview = client.get(url).content.decode()
    assert "[MC ネット] システム停止のお知らせ" in preview
    assert "12月1日 2時から4時まで停止します。" in preview
    assert f"{len(expected)} 人" in preview
    # Without the confirmation nothing is sent.
    assert client.post(url, {}).status_code == 200
    assert not Notification.objects.filter(kind="groups.announcement_mail").exists()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert client.post(url, {"confirm": "on"}).status_code == 302
    rows = Notification.objects.filter(kind="groups.announcement_mail")
    assert {n.recipient.email for n in rows} == expected
    # The mail of each row goes through the outbox's task, each message once.
    assert queued
    ids = list(rows.values_list("pk", flat=True))
    assert deliver_notification_emails(ids) == len(expected)
    assert deliver_notification_emails(ids) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(expected)
    message = mail.outbox[0]
    assert message.subject == "[MC ネット] システム停止のお知らせ"
    assert "12月1日 2時から4時まで停止します。" in message.body

    # Pressed again (another tab, another center staff member): nothing more.
    again = client.post(url, {"confirm": "on"})
    assert again.status_code == 200 and "送信済み" in again.content.decode()
    with pytest.raises(ValidationError):
        services.announcement_mail_send(actor=people["center"], announcement=announcement)
    assert Notification.objects.filter(kind="groups.announcement_mail").count() == len(expected)
    announcement.refresh_from_db()
    assert announcement.mailed_by == people["center"]
    assert announcement.mailed_count == len(expected)
    event = AuditEvent.objects.get(action="announcement.mail", object_id=str(announcement.pk))
    assert event.changes == {"audience": audience, "recipients": len(expected)}


def test_an_announcement_not_yet_published_is_not_mailed(demo, people):
    later = _announcement(people, publish_at=timezone.now() + dt.timedelta(days=2))
    with pytest.raises(ValidationError):
        services.announcement_mail_send(actor=people["center"], announcement=later)
    assert not Notification.objects.filter(kind="groups.announcement_mail").exists()


@pytest.mark.parametrize("role", ["user", "mcs_admin", "other_mcs_admin", "group_manager"])
def test_only_the_center_sends(demo, people, client_as, role):
    announcement = _announcement(people)
    with pytest.raises(PermissionDenied):
        services.announcement_mail_send(actor=people[role], announcement=announcement)
    url = reverse("groups:announcement_mail", args=[announcement.pk])
    assert client_as(role).post(url, {"confirm": "on"}).status_code == 403
    assert not Notification.objects.filter(kind="groups.announcement_mail").exists()
    assert url not in client_as(role).get(reverse("groups:announcements")).content.decode()
