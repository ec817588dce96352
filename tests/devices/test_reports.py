"""Loss and theft (art. 12 (11)) and incident reports (留意事項 4), every role."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from devices import selectors, services
from devices.models import Device, IncidentEvent, IncidentReport, LossReport
from mcnet.models import AuditEvent, Notification
from tests.conftest import log_in

from .conftest import refresh


def _loss_data(**overrides):
    data = {
        "kind": "lost",
        "device_description": "業務用スマートフォン",
        "occurred_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "訪問先の駐車場",
        "contents": "MCSアプリ（ログイン状態）",
        "password_changed": "yes",
        "carrier_contacted": "requested",
    }
    data.update(overrides)
    return data


# --- loss and theft -----------------------------------------------------------------------------
def test_the_report_page_says_to_change_the_password_first(client_as):
    html = client_as("user").get(reverse("devices:loss_create")).content.decode()
    assert "まず、別の機器からMCSのパスワードを変更してください" in html
    # The password to change is MCS's, changed in MCS (第12条(11)), not this portal's.
    assert 'href="https://www.medical-care.net/" target="_blank"' in html
    assert f'href="{reverse("account_change_password")}"' not in html.split("<main")[1]
    assert html.index("パスワードを変更してください") < html.index('name="kind"')
    assert 'data-keep-draft="devices-loss-report"' in html and "mcnet/draft.js" in html


def test_a_lost_phone_is_reported_and_the_administrator_alerted_at_once(client_as, people, tablet):
    client = client_as("user")
    response = client.post(
        reverse("devices:loss_create"),
        _loss_data(device=tablet.pk, device_description=tablet.label, password_changed="no"),
    )
    report = LossReport.objects.filter(reporter=people["user"]).latest("pk")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("devices:loss_detail", args=[report.pk])
    assert report.device == tablet and not report.password_changed
    assert report.carrier_contacted == "requested" and report.state == "reported"
    assert refresh(tablet).state == Device.State.LOST
    [alert] = Notification.objects.filter(
        kind="devices.loss_reported", url=reverse("devices:loss_detail", args=[report.pk])
    )
    assert alert.recipient == people["mcs_admin"] and "至急" in alert.title
    assert "パスワード変更: 未了" in alert.body
    # She has not changed her password yet: the page tells her to, with the link.
    page = client.get(response.headers["Location"]).content.decode()
    assert "今すぐ変更してください" in page
    assert reverse("account_change_password") in page
    assert AuditEvent.objects.filter(action="loss.report", object_id=str(report.pk)).exists()


def test_a_chosen_device_is_not_asked_for_again(client_as, people, tablet):
    """The registered device names itself; nothing generic is shown (art. 12 (11))."""
    client = client_as("user")
    response = client.post(
        reverse("devices:loss_create"), _loss_data(device=tablet.pk, device_description="")
    )
    assert response.status_code == 302
    report = LossReport.objects.filter(reporter=people["user"]).latest("pk")
    assert (report.device, report.device_description) == (tablet, str(tablet))


def test_neither_a_device_nor_a_description_gets_a_specific_message(client_as):
    before = LossReport.objects.count()
    html = (
        client_as("user")
        .post(reverse("devices:loss_create"), _loss_data(device_description=""))
        .content.decode()
    )
    assert "なくした機器を、登録済みの機器から選ぶか、ここに入力してください。" in html
    assert "このフィールドは必須です" not in html
    assert LossReport.objects.count() == before


def test_a_report_names_only_ones_own_device(client_as, people, takada):
    pc = Device.objects.get(facility=takada, label="事務所PC-01")  # not assigned to the nurse
    before = LossReport.objects.count()
    response = client_as("user").post(reverse("devices:loss_create"), _loss_data(device=pc.pk))
    assert response.status_code == 200
    assert LossReport.objects.count() == before
    with pytest.raises(ValidationError):
        services.loss_report_file(
            actor=people["user"],
            facility=takada,
            device=pc,
            **{
                k: v
                for k, v in _loss_data(password_changed=True).items()
                if k not in ("occurred_at",)
            },
            occurred_at=timezone.now(),
        )
    assert refresh(pc).state == "in_use"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"occurred_at": "2099-01-01T10:00"}, "日時に未来は指定できません"),
        ({"occurred_at": "きのう"}, "日時を正しく入力してください"),
        ({"password_changed": ""}, "MCSのパスワードを変更したかどうかを選んでください。"),
        ({"place": ""}, "なくした（盗まれた）場所を入力してください。"),
        ({"device_description": ""}, "なくした機器を、登録済みの機器から選ぶか"),
    ],
)
def test_bad_loss_reports_are_refused(client_as, overrides, message):
    before = LossReport.objects.count()
    response = client_as("user").post(reverse("devices:loss_create"), _loss_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert LossReport.objects.count() == before


def test_the_administrator_acknowledges_and_closes(client_as, people, loss):
    client = client_as("mcs_admin")
    page = client.get(reverse("devices:loss_detail", args=[loss.pk])).content.decode()
    assert "報告を確認する" in page
    response = client.post(
        reverse("devices:loss_acknowledge", args=[loss.pk]), {"comment": "警察に届けてください"}
    )
    assert response.status_code == 302
    loss = refresh(loss)
    assert loss.state == "acknowledged" and loss.acknowledged_by == people["mcs_admin"]
    told = Notification.objects.get(kind="devices.loss_acknowledged", recipient=people["user"])
    assert told.body == "警察に届けてください"

    response = client.post(reverse("devices:loss_close", args=[loss.pk]), {"outcome": ""})
    assert response.status_code == 400
    assert "対応結果を記入してください" in response.content.decode()
    client.post(
        reverse("devices:loss_close", args=[loss.pk]),
        {"outcome": "携帯電話会社がリモートワイプを実施。端末は見つからず。"},
    )
    loss = refresh(loss)
    assert loss.state == "closed" and loss.closed_by == people["mcs_admin"]
    assert loss.device.state == Device.State.LOST
    assert Notification.objects.filter(
        kind="devices.loss_closed", recipient=people["user"]
    ).exists()
    assert {
        e.action
        for e in AuditEvent.objects.filter(object_id=str(loss.pk), object_type="devices.lossreport")
    } >= {"loss.acknowledge", "loss.close"}


def test_closing_before_acknowledging_is_refused(client_as, loss):
    client = client_as("mcs_admin")
    response = client.post(reverse("devices:loss_close", args=[loss.pk]), {"outcome": "済"})
    assert response.status_code == 302
    assert refresh(loss).state == "reported"
    assert "先に確認してください" in client.get(response.headers["Location"]).content.decode()


def test_acknowledging_can_name_the_registered_device(people, takada):
    report = services.loss_report_file(
        actor=people["user"],
        facility=takada,
        kind="stolen",
        device_description="私用スマホ",
        occurred_at=timezone.now(),
        place="電車",
        contents="MCS",
        password_changed=True,
        carrier_contacted="not_yet",
    )
    byod = Device.objects.get(facility=takada, label="高田看子の私用スマートフォン")
    services.loss_report_acknowledge(actor=people["mcs_admin"], report=report, device=byod)
    assert refresh(report).device == byod and refresh(byod).state == "lost"


def test_the_reporter_cannot_acknowledge_or_close(client_as, loss):
    client = client_as("user")
    assert client.post(reverse("devices:loss_acknowledge", args=[loss.pk])).status_code == 403
    assert (
        client.post(reverse("devices:loss_close", args=[loss.pk]), {"outcome": "x"}).status_code
        == 403
    )
    assert refresh(loss).state == "reported"


@pytest.mark.parametrize(
    "role", ["other_mcs_admin", "group_manager", "other_facility_user", "center"]
)
def test_other_facilities_get_404_and_nothing_changes(client_as, role, loss):
    client = client_as(role)
    assert client.get(reverse("devices:loss_detail", args=[loss.pk])).status_code == 404
    assert client.post(reverse("devices:loss_acknowledge", args=[loss.pk])).status_code == 404
    assert (
        client.post(reverse("devices:loss_close", args=[loss.pk]), {"outcome": "x"}).status_code
        == 404
    )
    assert refresh(loss).state == "reported"
    assert "訪問用スマホ2号" not in client.get(reverse("devices:loss_list")).content.decode()


def test_each_side_sees_the_loss_report(client_as, loss):
    for role in ("user", "mcs_admin"):
        assert (
            "訪問用スマホ2号" in client_as(role).get(reverse("devices:loss_list")).content.decode()
        )


# --- incidents ------------------------------------------------------------------------------------
def test_a_user_reports_an_anomaly_and_the_administrator_is_told(client_as, people, takada):
    client = client_as("user")
    html = client.get(reverse("devices:incident_create")).content.decode()
    assert "システムの異常" in html and "不正アクセス" in html
    response = client.post(
        reverse("devices:incident_create"),
        {
            "kind": "unauthorized_access",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "description": "知らない端末からのログイン通知",
        },
    )
    incident = IncidentReport.objects.filter(reporter=people["user"]).latest("pk")
    assert response.status_code == 302
    assert incident.facility == takada and incident.state == "reported"
    [event] = incident.events.all()
    assert (event.action, event.actor) == ("reported", people["user"])
    notice = Notification.objects.get(
        kind="devices.incident_reported", url=reverse("devices:incident_detail", args=[incident.pk])
    )
    assert notice.recipient == people["mcs_admin"] and "留意事項4" in notice.reason


def test_the_administrator_works_the_report_and_the_timeline_shows_who_did_what(
    client_as, people, fresh_incident
):
    url = lambda name: reverse(f"devices:{name}", args=[fresh_incident.pk])  # noqa: E731
    client = client_as("mcs_admin")
    assert client.post(url("incident_acknowledge")).status_code == 302
    assert client.post(url("incident_note"), {"note": "本人に聞き取りした"}).status_code == 302
    assert client.post(url("incident_escalate"), {"note": "MCS側の調査を依頼"}).status_code == 302
    center = client_as("center")
    assert center.post(url("incident_note"), {"note": "MCS運営会社へ照会中"}).status_code == 302
    log_in(center, people["mcs_admin"], mfa=True)  # TOTP is set up already (client_as above)
    assert (
        center.post(url("incident_close"), {"outcome": "画面表示の不具合と判明"}).status_code == 302
    )

    incident = refresh(fresh_incident)
    assert incident.state == "closed" and incident.escalated_by == people["mcs_admin"]
    timeline = [(e.action, e.actor.email) for e in incident.events.order_by("created_at", "pk")]
    assert timeline == [
        ("reported", "nurse@takada.example.jp"),
        ("acknowledged", "admin@takada.example.jp"),
        ("note", "admin@takada.example.jp"),
        ("escalated", "admin@takada.example.jp"),
        ("note", "center@example.jp"),
        ("closed", "admin@takada.example.jp"),
    ]
    html = client_as("user").get(url("incident_detail")).content.decode()
    for text in (
        "本人に聞き取りした",
        "MCS運営会社へ照会中",
        "画面表示の不具合と判明",
        "センターへ報告",
    ):
        assert text in html
    assert Notification.objects.filter(
        kind="devices.incident_escalated", recipient=people["center"]
    ).exists()
    assert Notification.objects.filter(
        kind="devices.incident_closed", recipient=people["user"]
    ).exists()
    # A closed report takes no more steps.
    with pytest.raises(ValidationError):
        services.incident_note_add(actor=people["mcs_admin"], incident=incident, note="追記")


def test_empty_steps_are_refused_with_a_message(client_as, fresh_incident):
    client = client_as("mcs_admin")
    response = client.post(
        reverse("devices:incident_escalate", args=[fresh_incident.pk]), {"note": ""}
    )
    assert response.status_code == 400
    assert "センターへ伝える内容を入力してください" in response.content.decode()
    response = client.post(
        reverse("devices:incident_close", args=[fresh_incident.pk]), {"outcome": ""}
    )
    assert "対応結果を記入してください" in response.content.decode()
    fresh_incident = refresh(fresh_incident)
    assert fresh_incident.escalated_at is None and fresh_incident.state == "reported"


def test_the_center_sees_only_escalated_reports(client_as, people, fresh_incident, escalated):
    center = client_as("center")
    assert (
        center.get(reverse("devices:incident_detail", args=[fresh_incident.pk])).status_code == 404
    )
    assert center.get(reverse("devices:incident_detail", args=[escalated.pk])).status_code == 200
    assert (
        center.post(
            reverse("devices:incident_note", args=[fresh_incident.pk]), {"note": "x"}
        ).status_code
        == 404
    )
    # The center notes, but does not acknowledge, escalate, close or restrict.
    for name, data in (("incident_close", {"outcome": "x"}), ("incident_acknowledge", {})):
        assert center.post(reverse(f"devices:{name}", args=[escalated.pk]), data).status_code == 403
    assert refresh(escalated).state == "acknowledged"
    listing = center.get(reverse("devices:incident_list")).content.decode()
    assert reverse("devices:incident_detail", args=[escalated.pk]) in listing
    assert reverse("devices:incident_detail", args=[fresh_incident.pk]) not in listing
    with pytest.raises(PermissionDenied):
        services.incident_note_add(actor=people["center"], incident=fresh_incident, note="x")


@pytest.mark.parametrize("role", ["other_mcs_admin", "group_manager", "other_facility_user"])
def test_other_facilities_cannot_touch_an_incident(client_as, role, fresh_incident):
    client = client_as(role)
    pk = fresh_incident.pk
    assert client.get(reverse("devices:incident_detail", args=[pk])).status_code == 404
    for name, data in (
        ("incident_acknowledge", {}),
        ("incident_note", {"note": "x"}),
        ("incident_escalate", {"note": "x"}),
        ("incident_close", {"outcome": "x"}),
    ):
        assert client.post(reverse(f"devices:{name}", args=[pk]), data).status_code == 404
    assert client.get(reverse("devices:incident_restrict", args=[pk])).status_code == 404
    incident = refresh(fresh_incident)
    assert incident.state == "reported" and incident.escalated_at is None
    assert incident.events.count() == 1


def test_the_reporter_cannot_work_her_own_report(client_as, fresh_incident):
    client = client_as("user")
    pk = fresh_incident.pk
    assert client.post(reverse("devices:incident_acknowledge", args=[pk])).status_code == 403
    assert (
        client.post(reverse("devices:incident_escalate", args=[pk]), {"note": "x"}).status_code
        == 403
    )
    assert client.post(reverse("devices:incident_note", args=[pk]), {"note": ""}).status_code == 403
    assert client.get(reverse("devices:incident_restrict", args=[pk])).status_code == 403
    assert refresh(fresh_incident).events.count() == 1


def test_the_center_overview_has_counts_not_device_details(client_as, escalated, loss):
    response = client_as("center").get(reverse("devices:center_overview"))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "高田訪問看護ステーション" in html
        and reverse("devices:incident_detail", args=[escalated.pk]) in html
    )
    for detail in (
        "訪問用タブレット1号",
        "事務所PC-01",
        "高田看子の私用スマートフォン",
        "訪問用スマホ2号",
    ):
        assert detail not in html
    [row] = [
        r for r in selectors.center_facility_counts() if r["facility"] == "高田訪問看護ステーション"
    ]
    assert row["devices"] == 4 and row["devices_lost"] == 1 and row["devices_check_overdue"] == 1
    assert row["takeouts_pending"] == 1 and row["takeouts_active"] == 1
    assert row["loss_reports_open"] == 1 and row["incidents_escalated"] == 1


def test_the_center_overview_stays_within_8_queries(
    client_as, escalated, loss, django_assert_max_num_queries
):
    client = client_as("center")
    url = reverse("devices:center_overview")
    client.get(url)  # the session's first request settles MFA and the caches
    with django_assert_max_num_queries(8):  # the page budget, with every count shown
        assert client.get(url).status_code == 200


def test_center_counts_take_constant_queries(django_assert_max_num_queries, people, takada):
    for i in range(5):
        services.device_register(
            actor=people["mcs_admin"], facility=takada, kind="pc", label=f"PC-{i}"
        )
    with django_assert_max_num_queries(8):
        selectors.center_facility_counts()


def test_the_admin_shows_the_center_escalated_reports_only(client_as, escalated, fresh_incident):
    client = client_as("center")
    listing = client.get(reverse("admin:devices_incidentreport_changelist")).content.decode()
    assert f"/{escalated.pk}/change/" in listing
    assert f"/{fresh_incident.pk}/change/" not in listing
    assert (
        client.get(
            reverse("admin:devices_incidentreport_change", args=[fresh_incident.pk])
        ).status_code
        == 302
    )
    assert (
        client_as("mcs_admin").get(reverse("admin:devices_incidentreport_changelist")).status_code
        == 302
    )


# --- restriction from a report (留意事項 2, with the facilities app) ------------------------------------
def test_the_administrator_restricts_a_user_from_the_report(
    client_as, people, takada, fresh_incident
):
    models = pytest.importorskip("facilities.models")
    if not hasattr(models, "UserRestriction"):
        pytest.skip("facilities.UserRestriction is not there yet")
    from facilities.models import User

    client = client_as("mcs_admin")
    url = reverse("devices:incident_restrict", args=[fresh_incident.pk])
    page = client.get(url).content.decode()
    assert "高田看子" in page and "高田次郎" not in page.split("<form")[1]  # not oneself
    response = client.post(
        url, {"user": people["user"].pk, "level": "restricted", "reason": "IDの貸し借り"}
    )
    assert response.status_code == 302
    [restriction] = fresh_incident.restrictions.all()
    assert restriction.user == people["user"] and restriction.level == "restricted"
    assert restriction.incident_reports.get() == fresh_incident
    assert User.objects.get(pk=people["user"].pk).state == "restricted"
    assert fresh_incident.events.filter(action=IncidentEvent.Action.RESTRICTED).exists()
    html = client.get(reverse("devices:incident_detail", args=[fresh_incident.pk])).content.decode()
    assert "この報告による利用制限" in html
    # Another facility's staff member is not offered and is refused.
    response = client.post(
        url, {"user": people["other_facility_user"].pk, "level": "banned", "reason": "x"}
    )
    assert response.status_code == 200
    assert fresh_incident.restrictions.count() == 1
