"""The center's announcements to the all-users group (基本設定 7 ①), or to MCS administrators
only, from their publish date; each user sees the unread ones on the home page."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from groups import selectors, services
from groups.models import Announcement, AnnouncementRead
from mcnet.models import AuditEvent


def test_the_center_posts_through_the_admin(demo, people, client_as):
    client = client_as("center")
    response = client.post(
        "/admin/groups/announcement/add/",
        {
            "title": "システム停止のお知らせ",
            "body": "12月1日 2時から4時まで停止します。",
            "audience": "all_users",
            "publish_at_0": timezone.localdate().isoformat(),
            "publish_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    announcement = Announcement.objects.get(title="システム停止のお知らせ")
    assert announcement.created_by == people["center"]
    assert AuditEvent.objects.filter(action="announcement.create", actor=people["center"]).exists()
    home = client_as("user").get(reverse("home")).content.decode()
    assert "システム停止のお知らせ" in home


@pytest.mark.parametrize("role", ["user", "other_facility_user", "mcs_admin", "group_manager"])
def test_only_the_center_posts(demo, people, role):
    with pytest.raises(PermissionDenied):
        services.announcement_create(actor=people[role], title="x", body="y")


def test_users_cannot_reach_the_announcement_admin(demo, client_as):
    response = client_as("mcs_admin").get("/admin/groups/announcement/add/")
    assert response.status_code in (302, 403)


def test_audiences(demo, people):
    titles = lambda role: {a.title for a in selectors.announcements_for(people[role])}  # noqa: E731
    admins_only = "MCS管理者の皆さまへ: 年次のIT機器点検のお願い"
    for role in ("mcs_admin", "other_mcs_admin", "group_manager", "center"):
        assert admins_only in titles(role), role
    for role in ("user", "other_facility_user"):
        assert admins_only not in titles(role)
        assert "MC ネットへようこそ" in titles(role)


def test_an_announcement_appears_from_its_publish_date(demo, people):
    later = services.announcement_create(
        actor=people["center"],
        title="来週のお知らせ",
        body="…",
        publish_at=timezone.now() + dt.timedelta(days=7),
    )
    assert not selectors.announcements_for(people["user"]).filter(pk=later.pk).exists()
    Announcement.objects.filter(pk=later.pk).update(publish_at=timezone.now())
    assert selectors.unread_announcements_for(people["user"]).filter(pk=later.pk).exists()


def test_reading_removes_it_from_the_home_page(demo, people, client_as):
    client = client_as("user")
    welcome = Announcement.objects.get(title="MC ネットへようこそ")
    assert "MC ネットへようこそ" in client.get(reverse("home")).content.decode()
    response = client.post(
        reverse("groups:announcement_read", args=[welcome.pk]), {"next": reverse("home")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert AnnouncementRead.objects.filter(user=people["user"], announcement=welcome).exists()
    assert "MC ネットへようこそ" not in client.get(reverse("home")).content.decode()
    # Still listed on the all-users group's page.
    assert "MC ネットへようこそ" in client.get(reverse("groups:announcements")).content.decode()
    # Reading twice is harmless.
    client.post(reverse("groups:announcement_read", args=[welcome.pk]))
    assert AnnouncementRead.objects.filter(user=people["user"]).count() == 1


def test_an_admins_only_announcement_cannot_be_marked_by_others(demo, client_as):
    admins_only = Announcement.objects.get(audience="mcs_admins")
    response = client_as("user").post(reverse("groups:announcement_read", args=[admins_only.pk]))
    assert response.status_code == 404
