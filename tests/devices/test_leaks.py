"""A leak of patient information starts the legal clock (個人情報保護法 §26; 規則7条1号: any leak
of 要配慮個人情報 is reportable, even for one person; 規則8条: 速報 promptly, 確報 within 30 days,
60 for an improper purpose): deadlines, reminders before each (once), the draft report, the
notice to the affected person, the other facilities told, and the center's view of the clocks."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from devices import services
from devices.models import PrivacyLeak
from groups.models import Group
from mcnet.models import AuditEvent, NetworkSettings, Notification
from mcnet.printing import registry
from mcnet.printing.forms import leak_report
from mcnet.printing.renderer import render_pdf
from tests.printing import pdf

DAY = dt.timedelta(days=1)
# What no one outside the custodians may read about 山田太郎 (his group is the affected one).
YAMADA = ("山田太郎", "やまだ たろう", "ヤマダ タロウ", "1938", "春日野1-10-1", "025-555-0101")


@pytest.fixture
def yamada_group(demo):
    return Group.objects.get(patient__name="山田太郎")


@pytest.fixture
def leak(people, loss, yamada_group):
    """高田's lost phone, marked by 高田's MCS administrator: 山田太郎's group (高田's nurse is
    a member) is affected."""
    return services.leak_mark(
        actor=people["mcs_admin"],
        report=loss,
        known_at=timezone.now() - dt.timedelta(hours=1),
        groups=[yamada_group],
    )


def test_marking_starts_the_clock_with_both_deadlines(client_as, people, loss, yamada_group):
    client = client_as("mcs_admin")
    page = client.get(reverse("devices:leak_mark_loss", args=[loss.pk])).content.decode()
    # The group is another facility's (春日野's): its number and facility, not the patient.
    assert f"No.{yamada_group.pk}" in page
    for detail in YAMADA:
        assert detail not in page
    known = timezone.localtime() - dt.timedelta(hours=2)
    response = client.post(
        reverse("devices:leak_mark_loss", args=[loss.pk]),
        {"known_at": known.strftime("%Y-%m-%dT%H:%M"), "groups": [yamada_group.pk]},
    )
    leak = PrivacyLeak.objects.get(loss_report=loss)
    assert response.url == reverse("devices:leak_detail", args=[leak.pk])
    assert leak.preliminary_due == known.date() + 3 * DAY  # the network's default: 3 days
    assert leak.final_due == known.date() + 30 * DAY
    assert list(leak.affected_groups.all()) == [yamada_group]
    page = client.get(reverse("devices:leak_detail", args=[leak.pk])).content.decode()
    assert leak.preliminary_due.strftime("%Y年%-m月%-d日") in page
    assert leak.final_due.strftime("%Y年%-m月%-d日") in page
    assert AuditEvent.objects.filter(action="privacy_leak.mark", object_id=str(leak.pk)).exists()
    # The loss report's page links to it.
    page = client.get(reverse("devices:loss_detail", args=[loss.pk])).content.decode()
    assert reverse("devices:leak_detail", args=[leak.pk]) in page


def test_an_improper_purpose_gives_60_days_and_the_network_sets_the_preliminary(
    people, fresh_incident
):
    settings = NetworkSettings.load()
    settings.leak_preliminary_report_days = 5
    settings.save()
    known = timezone.now() - DAY
    leak = services.leak_mark(
        actor=people["mcs_admin"], report=fresh_incident, known_at=known, improper_purpose=True
    )
    known_on = timezone.localdate(known)
    assert leak.preliminary_due == known_on + 5 * DAY
    assert leak.final_due == known_on + 60 * DAY


def test_only_the_facilitys_mcs_administrator_marks_a_leak(client_as, people, loss):
    for role in ("user", "other_facility_user", "other_mcs_admin", "group_manager", "center"):
        response = client_as(role).get(reverse("devices:leak_mark_loss", args=[loss.pk]))
        assert response.status_code == 404, role
        with pytest.raises(PermissionDenied):
            services.leak_mark(actor=people[role], report=loss, known_at=timezone.now())
    assert not PrivacyLeak.objects.filter(loss_report=loss).exists()


def test_a_future_moment_or_a_second_mark_is_refused(people, loss):
    with pytest.raises(ValidationError):
        services.leak_mark(
            actor=people["mcs_admin"], report=loss, known_at=timezone.now() + 2 * DAY
        )
    services.leak_mark(actor=people["mcs_admin"], report=loss, known_at=timezone.now())
    with pytest.raises(ValidationError, match="すでに"):
        services.leak_mark(actor=people["mcs_admin"], report=loss, known_at=timezone.now())


def test_the_other_facilities_mcs_administrators_are_told_without_patient_details(people, leak):
    alerts = Notification.objects.filter(kind="devices.leak_alert")
    told = set(alerts.values_list("recipient__email", flat=True))
    # 春日野 manages the group (its MCS administrator is the care manager); ABC's doctor is in it.
    assert told == {"cm@kasugano.example.jp", "admin@abc.example.jp"}
    for alert in alerts:
        text = alert.title + alert.body + alert.url
        for detail in (*YAMADA, "さんのグループ"):
            assert detail not in text
        assert leak.facility.name in alert.body


def test_reminders_come_before_each_deadline_once_each(people, leak):
    admin = people["mcs_admin"]
    start = leak.known_at

    def run(moment) -> int:
        """How many reminders about this leak the job sent (the demo has its own clock)."""
        before = mine.count()
        with time_machine.travel(moment, tick=False):
            services.leak_deadlines_remind()
        return mine.count() - before

    mine = Notification.objects.filter(url=reverse("devices:leak_detail", args=[leak.pk]))

    def reminders(stage: str):
        return mine.filter(recipient=admin, kind=f"devices.leak_{stage}_due")

    assert run(start) == 0  # the day it was learned: the 速報 is 3 days off
    assert run(start + 2 * DAY) == 1  # the day before the 速報 is due
    note = reminders("preliminary").get()
    assert "速報" in note.title and note.url == reverse("devices:leak_detail", args=[leak.pk])
    assert run(start + 2 * DAY) == 0 and run(start + 3 * DAY) == 0  # once only
    services.leak_report_record(
        actor=admin, leak=leak, stage="preliminary", reported_on=timezone.localdate()
    )
    assert run(start + 20 * DAY) == 0  # the 確報 is a week and more away
    assert run(start + 23 * DAY) == 1  # a week before the 確報
    assert reminders("final").count() == 1 and "確報" in reminders("final").get().title
    assert run(start + 29 * DAY) == 0
    with time_machine.travel(start + 25 * DAY, tick=False):
        services.leak_report_record(
            actor=admin, leak=leak, stage="final", reported_on=timezone.localdate()
        )
    leak.refresh_from_db()
    assert leak.state == PrivacyLeak.State.CLOSED


def test_a_reported_preliminary_is_not_reminded(people, leak):
    services.leak_report_record(
        actor=people["mcs_admin"], leak=leak, stage="preliminary", reported_on=timezone.localdate()
    )
    with time_machine.travel(leak.known_at + 2 * DAY, tick=False):
        services.leak_deadlines_remind()
    url = reverse("devices:leak_detail", args=[leak.pk])
    assert not Notification.objects.filter(url=url, kind="devices.leak_preliminary_due").exists()


def test_the_notice_to_the_person_and_the_report_items_are_recorded(client_as, leak):
    client = client_as("mcs_admin")
    response = client.post(
        reverse("devices:leak_notified", args=[leak.pk]),
        {"notified_on": timezone.localdate().isoformat(), "how": "書面を郵送"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("devices:leak_report", args=[leak.pk]),
        {"overview": "訪問用スマートフォンを紛失した。", "person_count": "１", "cause": "置き忘れ"},
    )
    assert response.status_code == 302
    leak.refresh_from_db()
    assert leak.persons_notified_how == "書面を郵送" and leak.person_count == 1
    bad = client.post(reverse("devices:leak_notified", args=[leak.pk]), {"how": ""})
    assert bad.status_code == 400
    assert "本人へ通知した日を入力してください" in bad.content.decode()


def test_the_draft_report_prints_the_nine_items_and_no_patient(people, leak):
    services.leak_report_update(
        actor=people["mcs_admin"], leak=leak, overview="訪問用スマートフォンを紛失した。"
    )
    leak.refresh_from_db()
    with mock.patch.object(NetworkSettings, "load", return_value=NetworkSettings()):
        context = leak_report.for_leak(leak)
        text = pdf.text(render_pdf(registry.get("leak_report").template, context))
    normalized = pdf.normalize(text)
    for label in (
        "概要",
        "漏えい等が発生し、又は発生したおそれがある個人データの項目",
        "原因",
        "二次被害又はそのおそれの有無及びその内容",
        "本人への対応の実施状況",
        "公表の実施状況",
        "再発防止のための措置",
        "その他参考となる事項",
        "訪問用スマートフォンを紛失した。",
        leak.facility.name,
    ):
        assert pdf.normalize(label) in normalized, label
    assert "令和" in text
    for detail in YAMADA:
        assert detail not in text


def test_the_demo_has_an_open_clock(escalated):
    assert escalated.privacy_leak.state == PrivacyLeak.State.OPEN


def test_the_center_sees_each_open_clock_and_no_patient(client_as, leak):
    center = client_as("center")
    page = center.get(reverse("devices:leak_center"))
    body = page.content.decode()
    assert page.status_code == 200
    assert leak.facility.name in body
    assert leak.preliminary_due.strftime("%Y/%-m/%-d") in body
    assert leak.final_due.strftime("%Y/%-m/%-d") in body
    for detail in (*YAMADA, "さんのグループ"):
        assert detail not in body
    # The leak's own page is the facility's: 404 for the center and every other role.
    assert center.get(reverse("devices:leak_detail", args=[leak.pk])).status_code == 404


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "other_mcs_admin", "group_manager"]
)
def test_nobody_else_sees_the_leak(client_as, leak, role):
    client = client_as(role)
    assert client.get(reverse("devices:leak_detail", args=[leak.pk])).status_code == 404
    response = client.get(reverse("devices:leak_center"))
    assert response.status_code in (403, 404)
    assert leak.final_due.strftime("%Y/%-m/%-d") not in response.content.decode()
