"""第7条: both the facility manager and the MCS administrator record education sessions,
choosing the attendees in bulk from the facility's staff (ABC: 上越一 is only its MCS
administrator, 山田花子 only its facility manager)."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from facilities import services
from facilities.models import EducationSession, User
from mcnet.models import AuditEvent


def _abc_staff(abc) -> list[User]:
    return list(User.objects.filter(memberships__facility=abc, memberships__is_active=True))


@pytest.mark.parametrize("role", ["other_mcs_admin", "other_facility_user"])
def test_mcs_administrator_and_facility_manager_both_record_a_session(client_as, abc, role):
    client = client_as(role)
    page = client.get(reverse("facilities:education_create", args=[abc.pk])).content.decode()
    # Every active staff member is a checkbox of one list, with 「全員を選択」 (select_all.js).
    staff = _abc_staff(abc)
    assert page.count('data-select-all="全員を選択"') == len(staff) == 2
    assert "mcnet/select_all.js" in page
    events = AuditEvent.objects.filter(action="education.create").count()
    response = client.post(
        reverse("facilities:education_create", args=[abc.pk]),
        {
            "held_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
            "topic": "MCSへの書き込みの注意",
            "attendees": [u.pk for u in staff],
        },
    )
    assert response.status_code == 302
    session = EducationSession.objects.get(facility=abc, topic="MCSへの書き込みの注意")
    assert set(session.attendees.all()) == set(staff)
    assert AuditEvent.objects.filter(action="education.create").count() == events + 1
    # The facility's education page lists it; who missed this 年度's education is fewer now.
    page = client.get(reverse("facilities:education", args=[abc.pk])).content.decode()
    assert "MCSへの書き込みの注意" in page and "今年度の教育が未受講: 0 人" in page


def test_the_mcs_administrator_sees_no_pledge_actions(client_as, abc):
    """Pledges stay the facility manager's (第7条): the MCS administrator records sessions only."""
    admin_page = client_as("other_mcs_admin").get(reverse("facilities:education", args=[abc.pk]))
    doctor = User.objects.get(email="doctor@abc.example.jp")
    assert admin_page.status_code == 200
    # No link to record a colleague's pledge (the menu's own-pledge page is everyone's).
    record_prefix = reverse("facilities:staff", args=[abc.pk])
    page = admin_page.content.decode()
    assert not re.search(re.escape(record_prefix) + r"\d+/pledge/", page)
    assert f"/facilities/{abc.pk}/staff/{doctor.pk}/pledge/" not in page
    refused = client_as("other_mcs_admin").get(
        reverse("facilities:pledge_record", args=[abc.pk, doctor.pk])
    )
    assert refused.status_code == 404
    manager_page = client_as("other_facility_user").get(
        reverse("facilities:education", args=[abc.pk])
    )
    assert reverse("facilities:pledge_record", args=[abc.pk, doctor.pk]) in (
        manager_page.content.decode()
    )


def test_the_staff_list_links_to_recording_a_session(client_as, abc):
    page = client_as("other_mcs_admin").get(reverse("facilities:staff", args=[abc.pk]))
    assert reverse("facilities:education_create", args=[abc.pk]) in page.content.decode()


def test_nobody_else_records_a_session(abc, people):
    for role in ("user", "mcs_admin", "group_manager", "center"):
        with pytest.raises(PermissionDenied):
            services.education_session_save(
                actor=people[role],
                facility=abc,
                held_on=dt.date.today(),
                topic="x",
                attendees=[],
            )
    assert not EducationSession.objects.filter(facility=abc).exists()


def test_attendees_only_from_the_facilitys_staff(client_as, abc, people):
    response = client_as("other_mcs_admin").post(
        reverse("facilities:education_create", args=[abc.pk]),
        {
            "held_on": dt.date.today().isoformat(),
            "topic": "研修",
            "attendees": [people["user"].pk],
        },
    )
    assert response.status_code == 200
    assert "正しく選択してください" in response.content.decode()
    with pytest.raises(ValidationError):
        services.education_session_save(
            actor=people["other_mcs_admin"],
            facility=abc,
            held_on=dt.date.today(),
            topic="研修",
            attendees=[people["user"]],
        )
    assert not EducationSession.objects.filter(facility=abc).exists()
