"""Announcements: the center writes to the all-users group or to the MCS
administrators only, with a publish date, from its admin (linked from the dashboard); each user
sees the unread ones on their home page. The groups app keeps them (groups.Announcement)."""

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from groups.models import Announcement
from mcnet.models import AuditEvent

ADD = reverse("admin:groups_announcement_add")
HOME = reverse("home")


def _post(client, *, title: str, audience: str, publish_at: dt.datetime):
    local = timezone.localtime(publish_at)
    return client.post(
        ADD,
        {
            "title": title,
            "body": f"{title}の本文",
            "audience": audience,
            "publish_at_0": f"{local:%Y-%m-%d}",
            "publish_at_1": f"{local:%H:%M:%S}",
        },
    )


def test_the_dashboard_links_to_writing_announcements(client_as):
    page = client_as("center").get(reverse("dashboard:index")).content.decode()
    assert ADD in page and reverse("admin:groups_announcement_changelist") in page


def test_announcements_by_audience_and_publish_date_on_the_home_page(client_as):
    center = client_as("center")
    later = timezone.now() + dt.timedelta(days=3)
    now = _post(center, title="全員へ今日から", audience="all_users", publish_at=timezone.now())
    assert now.status_code == 302
    response = _post(center, title="管理者へ三日後", audience="mcs_admins", publish_at=later)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Announcement.objects.get(title="管理者へ三日後")
    assert created.audience == "mcs_admins" and created.created_by.email == "center@example.jp"
    assert AuditEvent.objects.filter(action="announcement.create", object_id=str(created.pk))

    nurse_home = client_as("user").get(HOME).content.decode()
    assert "全員へ今日から" in nurse_home and "管理者へ三日後" not in nurse_home
    admin_home = client_as("mcs_admin").get(HOME).content.decode()
    assert "全員へ今日から" in admin_home and "管理者へ三日後" not in admin_home  # not yet

    with time_machine.travel(later + dt.timedelta(minutes=1)):
        admin = client_as("mcs_admin")
        assert "管理者へ三日後" in admin.get(HOME).content.decode()
        assert "管理者へ三日後" not in client_as("user").get(HOME).content.decode()
        # Read: gone from the home page, still in the list of announcements.
        admin = client_as("mcs_admin")
        admin.post(reverse("groups:announcement_read", args=[created.pk]), {"next": HOME})
        assert "管理者へ三日後" not in admin.get(HOME).content.decode()
        assert "管理者へ三日後" in admin.get(reverse("groups:announcements")).content.decode()


def test_only_the_center_writes_announcements(client_as):
    for role in ("user", "mcs_admin", "group_manager"):
        response = client_as(role).get(ADD)
        assert response.status_code in (302, 403), role
        assert response.status_code != 200
