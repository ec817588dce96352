"""Supporter review (留意事項 1), end of care and the archive (留意事項 2, 3), and the reminders
that keep them on time."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consents import services as consent_services
from facilities.models import FacilityMembership
from groups import selectors, services
from groups.models import Group, Membership, SupporterReview
from mcnet.models import AuditEvent, NetworkSettings, Notification
from tests.conftest import log_in
from tests.demo_objects import joetsu_group, membership, yamada_group

State = Group.State


def age_group(group: Group, days: int) -> None:
    """As if the group had been made (and last reviewed) `days` days ago."""
    past = timezone.now() - dt.timedelta(days=days)
    Group.objects.filter(pk=group.pk).update(created_at=past, last_reviewed_at=None)


# --- review ------------------------------------------------------------------------------------


def test_the_review_screen_shows_each_supporters_facility_occupation_state_and_activity(
    demo, people, client_as
):
    yamada = yamada_group()
    nurse = people["user"]
    FacilityMembership.objects.filter(user=nurse).update(is_active=False)  # she left 高田
    doctor = people["other_facility_user"]
    doctor.state = doctor.State.RESTRICTED
    doctor.last_login = timezone.now()
    doctor.save()
    page = client_as("group_manager").get(reverse("groups:review", args=[yamada.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "高田訪問看護ステーション" in html and "退職・異動" in html  # facility, left it
    assert "ABCクリニック" in html and "医師" in html and "看護師" in html  # occupation
    assert "利用制限中" in html  # state
    assert timezone.localtime(doctor.last_login).strftime("%Y/%-m/%-d") in html  # last activity


def test_recording_a_review_with_removals(demo, people, client_as):
    yamada = yamada_group()
    nurse_row = membership(yamada, people["user"].email)
    client = client_as("group_manager")
    url = reverse("groups:review", args=[yamada.pk])
    refused = client.post(url, {"remove": [nurse_row.pk], "reason": ""})
    assert "解除の理由を入力してください" in refused.content.decode()
    assert not SupporterReview.objects.filter(group=yamada, removed__isnull=False).exists()
    response = client.post(
        url,
        {"remove": [nurse_row.pk], "reason": "担当終了", "note": "定期", "timeline_checked": "on"},
    )
    assert response.status_code == 302
    review = SupporterReview.objects.filter(group=yamada).latest("reviewed_at")
    assert review.reviewed_by == people["group_manager"]  # who
    assert review.reviewed_at  # when
    assert [m.user for m in review.removed.all()] == [people["user"]]  # removed whom
    nurse_row.refresh_from_db()
    assert nurse_row.state == Membership.State.REMOVED
    yamada.refresh_from_db()
    assert yamada.last_reviewed_at == review.reviewed_at
    assert AuditEvent.objects.filter(action="group.review", object_id=str(yamada.pk)).exists()
    assert Notification.objects.filter(recipient=people["user"], kind="groups.removed").exists()


def test_a_review_without_removals_is_recorded_too(demo, people):
    yamada = yamada_group()
    before = yamada.memberships.filter(state="accepted").count()
    review = services.supporter_review_record(
        actor=people["group_manager"], group=yamada, timeline_checked=True
    )
    assert not review.removed.exists()
    assert yamada.memberships.filter(state="accepted").count() == before


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_the_manager_reviews(demo, people, role):
    with pytest.raises(PermissionDenied):
        services.supporter_review_record(
            actor=people[role], group=yamada_group(), timeline_checked=True
        )


def test_the_interval_is_the_network_setting_and_the_list_shows_due_and_overdue(
    demo, people, client_as
):
    network = NetworkSettings.load()
    network.review_interval_days = 30
    network.save()
    yamada, joetsu = yamada_group(), joetsu_group()
    age_group(yamada, 40)  # overdue: 40 > 30
    age_group(joetsu, 20)  # due within 14 days: 30 - 20 = 10
    statuses = {
        g.pk: g.review.state
        for g in selectors.working_groups_of(people["group_manager"])
        if g.review
    }
    assert statuses[yamada.pk] == "overdue" and statuses[joetsu.pk] == "due"
    page = client_as("group_manager").get(reverse("groups:list")).content.decode()
    assert "期限切れ" in page and "期限間近" in page
    network.review_interval_days = 365
    network.save()
    statuses = {
        g.pk: g.review.state
        for g in selectors.working_groups_of(people["group_manager"])
        if g.review
    }
    assert statuses[yamada.pk] == "ok"


def test_overdue_reviews_remind_the_manager_then_the_administrator_once(demo, people):
    network = NetworkSettings.load()
    yamada = yamada_group()
    age_group(yamada, network.review_interval_days + 40)
    first = services.reminders_send()
    assert first["reviews"] >= 1 and first["escalations"] >= 1
    again = services.reminders_send()
    assert again == {"reviews": 0, "escalations": 0, "archives": 0}
    assert (
        Notification.objects.filter(
            recipient=people["group_manager"], kind="groups.review_overdue"
        ).count()
        == 1
    )


# --- end of care -------------------------------------------------------------------------------


def test_reporting_the_end_tells_the_facilitys_mcs_administrator(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("group_manager")
    response = client.post(
        reverse("groups:report_end", args=[yamada.pk]), {"reason": "moved", "note": "県外へ転居"}
    )
    assert response.status_code == 302
    yamada.refresh_from_db()
    assert yamada.state == State.TO_BE_ARCHIVED
    assert yamada.end_reason == "moved" and yamada.end_reported_by == people["group_manager"]
    note = Notification.objects.get(
        kind="groups.to_be_archived", url=reverse("groups:archive_group", args=[yamada.pk])
    )
    assert note.recipient == people["group_manager"]  # 春日野's MCS administrator in the demo
    # The pending invitation is withdrawn with the group.
    assert not selectors.invitations_for(people["mcs_admin"]).exists()
    # Still in the working list, marked.
    assert yamada.pk in [g.pk for g in selectors.working_groups_of(people["user"])]


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_the_manager_reports_the_end(demo, people, role):
    with pytest.raises(PermissionDenied):
        services.group_report_end(actor=people[role], group=yamada_group(), reason="death")


def test_withdrawing_consent_marks_the_group_to_be_archived_at_once(demo, people, client_as):
    joetsu = joetsu_group()
    consent = joetsu.patient.consents.get(status="active")
    response = client_as("group_manager").post(
        reverse("consents:consent_withdraw", args=[consent.pk]),
        {
            "withdrawn_on": timezone.localdate().isoformat(),
            "reported_by": "長男 上越一郎",
            "method": "phone",
            "note": "",
        },
    )
    assert response.status_code == 302
    joetsu.refresh_from_db()
    assert joetsu.state == State.TO_BE_ARCHIVED
    assert joetsu.end_reason == Group.EndReason.CONSENT_WITHDRAWN
    # Members are told to stop sharing, the MCS administrator to archive.
    assert Notification.objects.filter(
        recipient=people["other_facility_user"], kind="groups.consent_withdrawn"
    ).exists()
    assert Notification.objects.filter(kind="groups.to_be_archived").exists()
    consent.refresh_from_db()
    assert consent.status == "inactive" and consent.withdrawal_reported_by == "長男 上越一郎"


def test_a_consent_entered_in_error_ends_the_group_it_carried(demo, people):
    joetsu = joetsu_group()
    consent_services.consent_mark_entered_in_error(
        actor=people["group_manager"],
        consent=joetsu.patient.consents.get(status="active"),
        reason="別の患者の同意書だった",
    )
    joetsu.refresh_from_db()
    assert joetsu.state == State.TO_BE_ARCHIVED and joetsu.end_reason == "consent_invalid"


# --- archive -----------------------------------------------------------------------------------


def test_the_mcs_administrator_archives_and_the_group_becomes_read_only(demo, people, client_as):
    yamada = yamada_group()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="death")
    client = client_as("group_manager")  # 春日野's MCS administrator as well
    page = client.get(reverse("groups:archive_group", args=[yamada.pk])).content.decode()
    assert "死亡" in page and "1938" not in page
    response = client.post(reverse("groups:archive_group", args=[yamada.pk]))
    assert response.status_code == 302, response.content.decode().split("<main")[1][:1500]
    yamada.refresh_from_db()
    assert yamada.state == State.ARCHIVED and yamada.archived_by == people["group_manager"]
    assert yamada.end_reason == "death" and yamada.archived_at  # keeps why and when
    # Gone from everyone's working lists...
    for role in ("user", "other_facility_user", "group_manager"):
        assert yamada.pk not in [g.pk for g in selectors.working_groups_of(people[role])]
    # ...searchable in the archive by its custodians; a former member keeps a line without
    # the patient's name (access ends with care, 別紙5 (2))...
    archive = client.get(reverse("groups:archive"), {"q": "山田"}).content.decode()
    assert "山田太郎さんのグループ" in archive
    archive = client_as("user").get(reverse("groups:archive"), {"q": "山田"}).content.decode()
    assert "山田太郎" not in archive and f"患者グループ No.{yamada.pk}" in archive
    # ...and read-only: nothing can be changed any more.
    cm = people["group_manager"]
    with pytest.raises(PermissionDenied):
        services.membership_invite(actor=cm, group=yamada, user=people["other_mcs_admin"])
    with pytest.raises((PermissionDenied, ValidationError)):
        services.supporter_review_record(actor=cm, group=yamada, timeline_checked=True)
    with pytest.raises(ValidationError):
        services.group_archive(actor=cm, group=yamada)
    for name in ("groups:invite", "groups:review", "groups:report_end", "groups:handover"):
        assert client.get(reverse(name, args=[yamada.pk])).status_code == 404
    assert client_as("user").get(reverse("groups:detail", args=[yamada.pk])).status_code == 404
    log_in(client, cm, mfa=True)  # (its second factor is set up already)
    client.post(
        reverse("consents:record_open", args=[yamada.patient_id]), {"purpose": "correction"}
    )
    detail = client.get(reverse("groups:detail", args=[yamada.pk])).content.decode()
    assert "アーカイブ済み" in detail and "メンバーを招待" not in detail


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_only_the_owning_facilitys_administrator_archives(demo, people, role, client_as):
    yamada = yamada_group()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="death")
    with pytest.raises(PermissionDenied):
        services.group_archive(actor=people[role], group=yamada)
    assert client_as(role).get(reverse("groups:archive_group", args=[yamada.pk])).status_code == 404


def test_the_archive_queue_lists_reported_groups_for_their_administrator(demo, people, client_as):
    yamada = yamada_group()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="care_ended")
    page = client_as("group_manager").get(reverse("groups:archive_queue")).content.decode()
    assert "山田太郎さんのグループ" in page and "サービス終了" in page
    assert (
        "山田太郎"
        not in client_as("mcs_admin").get(reverse("groups:archive_queue")).content.decode()
    )


def test_the_archive_is_searchable_by_those_entitled_only(demo, people, client_as):
    myoko = Group.objects.get(name="妙高次郎さんのグループ")
    for role, sees in (
        ("group_manager", True),  # a custodian: its manager and 春日野's MCS administrator
        ("other_facility_user", False),  # was a member: a line without the name (history)
        ("user", False),
        ("mcs_admin", False),
        ("other_mcs_admin", False),
    ):
        page = client_as(role).get(reverse("groups:archive"), {"reason": "death"}).content.decode()
        assert (myoko.name in page) is sees, role


def test_archive_waiting_too_long_reminds_the_administrator_once(demo, people):
    yamada = yamada_group()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="death")
    Group.objects.filter(pk=yamada.pk).update(
        end_reported_at=timezone.now() - dt.timedelta(days=30)
    )
    assert services.reminders_send()["archives"] == 1
    assert services.reminders_send()["archives"] == 0


def test_a_free_group_is_closed_by_its_manager(demo, people):
    free = Group.objects.get(kind=Group.Kind.FREE)
    services.group_archive(actor=people["group_manager"], group=free, reason="other")
    free.refresh_from_db()
    assert free.state == State.ARCHIVED
