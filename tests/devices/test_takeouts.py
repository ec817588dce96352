"""Take-out and BYOD requests (art. 12 (9)(10)): file, approve or reject, return; every role."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from devices import permissions, selectors, services
from devices.models import TakeoutRequest
from facilities import services as facility_services
from facilities.models import FacilityRole, User
from mcnet.models import AuditEvent, Notification

from .conftest import refresh

Role = FacilityRole.Role


def _request_data(**overrides):
    today = timezone.localdate()
    data = {
        "kind": "takeout",
        "information": "担当利用者3名の訪問記録（閲覧のみ）",
        "medium": "事業所のタブレット",
        "purpose": "訪問先での記録確認",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=7)).isoformat(),
        "personal_device": "",
    }
    data.update(overrides)
    return data


def _state(obj):
    obj = refresh(obj)
    return obj.state, obj.decided_by_id, obj.decided_at


# --- filing ------------------------------------------------------------------------------------------
def test_the_nurse_files_a_take_out_and_her_administrator_is_told(client_as, people, takada):
    client = client_as("user")
    page = client.get(reverse("devices:takeout_create")).content.decode()
    for label in ("持ち出す情報の内容", "格納する媒体", "持ち出す目的", "期間（開始日）"):
        assert label in page
    response = client.post(reverse("devices:takeout_create"), _request_data())
    request_obj = TakeoutRequest.objects.filter(requester=people["user"]).latest("pk")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("devices:takeout_detail", args=[request_obj.pk])
    assert request_obj.state == "pending" and request_obj.facility == takada
    [notice] = Notification.objects.filter(
        kind="devices.takeout_filed", url__endswith=f"/{request_obj.pk}/"
    )
    assert notice.recipient == people["mcs_admin"]
    assert "第12条(9)" in notice.reason
    assert AuditEvent.objects.filter(action="takeout.file", object_id=str(request_obj.pk)).exists()


def test_a_byod_request_names_the_personal_device(client_as, people):
    client = client_as("user")
    response = client.post(reverse("devices:takeout_create"), _request_data(kind="byod"))
    assert response.status_code == 200
    assert "使用する個人所有端末を記入してください" in response.content.decode()
    response = client.post(
        reverse("devices:takeout_create"),
        _request_data(kind="byod", personal_device="私用のAndroid（青）"),
    )
    assert response.status_code == 302
    request_obj = TakeoutRequest.objects.filter(requester=people["user"]).latest("pk")
    assert request_obj.kind == "byod" and request_obj.personal_device == "私用のAndroid（青）"
    # The database keeps the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        TakeoutRequest.objects.filter(pk=request_obj.pk).update(personal_device="")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"period_start": "2000-01-01"}, "開始日は今日以降にしてください"),
        (
            {"period_end": (dt.date.today() - dt.timedelta(days=30)).isoformat()},
            "終了日は開始日以降の日付にしてください",
        ),
        ({"period_end": "来週"}, "の形で入力してください"),
        ({"medium": ""}, "このフィールドは必須です"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(client_as, overrides, message):
    before = TakeoutRequest.objects.count()
    response = client_as("user").post(reverse("devices:takeout_create"), _request_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert TakeoutRequest.objects.count() == before


def test_the_center_has_no_facility_to_file_from(client_as):
    response = client_as("center").get(reverse("devices:takeout_create"))
    assert response.status_code == 403
    assert "所属している事業所がないため" in response.content.decode()


def test_a_user_cannot_file_for_another_facility(client_as, people, demo):
    before = TakeoutRequest.objects.count()
    response = client_as("user").post(
        reverse("devices:takeout_create"), _request_data(facility=demo["abc"].pk)
    )
    # The facility field only offers the nurse's own: another facility's id is refused.
    assert response.status_code == 200
    assert TakeoutRequest.objects.count() == before
    with pytest.raises(PermissionDenied):
        services.takeout_file(
            actor=people["user"],
            facility=demo["abc"],
            kind="takeout",
            information="x",
            medium="x",
            purpose="x",
            period_start=timezone.localdate(),
            period_end=timezone.localdate(),
        )


# --- deciding ----------------------------------------------------------------------------------
def test_the_administrator_approves_and_the_nurse_is_told(client_as, people, pending):
    client = client_as("mcs_admin")
    page = client.get(reverse("devices:takeout_detail", args=[pending.pk])).content.decode()
    assert "承認・却下" in page
    response = client.post(
        reverse("devices:takeout_decide", args=[pending.pk]),
        {"decision": "approve", "comment": "ロックを忘れずに"},
    )
    assert response.status_code == 302
    pending = refresh(pending)
    assert pending.state == "approved" and pending.decided_by == people["mcs_admin"]
    assert pending.decision_comment == "ロックを忘れずに"
    # Its period starts tomorrow: approved, but not out yet (「持ち出し中」 from the start date).
    assert pending.is_scheduled and not pending.is_active
    notice = Notification.objects.filter(
        kind="devices.takeout_decided", recipient=people["user"]
    ).latest("pk")
    assert notice.url == reverse("devices:takeout_detail", args=[pending.pk])
    assert "承認" in notice.title and notice.body == "ロックを忘れずに"
    assert AuditEvent.objects.filter(action="takeout.approve", object_id=str(pending.pk)).exists()


def test_rejecting_needs_a_reason(client_as, people, pending):
    client = client_as("mcs_admin")
    response = client.post(
        reverse("devices:takeout_decide", args=[pending.pk]), {"decision": "reject"}
    )
    assert response.status_code == 400
    assert "却下するときは理由をコメントに書いてください" in response.content.decode()
    assert refresh(pending).state == "pending"
    client.post(
        reverse("devices:takeout_decide", args=[pending.pk]),
        {"decision": "reject", "comment": "期間が長すぎます"},
    )
    assert refresh(pending).state == "rejected"
    notice = Notification.objects.filter(
        kind="devices.takeout_decided", recipient=people["user"]
    ).latest("pk")
    assert "却下" in notice.title and notice.body == "期間が長すぎます"


def test_a_decided_request_cannot_be_decided_again(client_as, approved):
    client = client_as("mcs_admin")
    response = client.post(
        reverse("devices:takeout_decide", args=[approved.pk]),
        {"decision": "reject", "comment": "やっぱり"},
    )
    assert response.status_code == 302
    assert refresh(approved).state == "approved"
    page = client.get(response.headers["Location"]).content.decode()
    assert "すでに処理されています" in page


@pytest.mark.parametrize(
    "role", ["other_mcs_admin", "group_manager", "other_facility_user", "center"]
)
def test_another_facilitys_administrator_cannot_approve(client_as, role, pending):
    before = _state(pending)
    notices = Notification.objects.count()
    client = client_as(role)
    assert client.get(reverse("devices:takeout_detail", args=[pending.pk])).status_code == 404
    response = client.post(
        reverse("devices:takeout_decide", args=[pending.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404
    assert _state(pending) == before
    assert Notification.objects.count() == notices


def test_the_nurse_cannot_approve_her_own_request(client_as, people, pending):
    before = _state(pending)
    response = client_as("user").post(
        reverse("devices:takeout_decide", args=[pending.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    assert "ご自身の届出を承認・却下することはできません" in response.content.decode()
    assert _state(pending) == before
    page = client_as("user").get(reverse("devices:takeout_detail", args=[pending.pk]))
    assert "承認・却下" not in page.content.decode()


def test_the_database_refuses_a_self_decision(pending):
    with pytest.raises(IntegrityError), transaction.atomic():
        TakeoutRequest.objects.filter(pk=pending.pk).update(
            decided_by_id=pending.requester_id, state="approved"
        )


def _admins_own_request(people, takada):
    return services.takeout_file(
        actor=people["mcs_admin"],
        facility=takada,
        kind="takeout",
        information="職員名簿",
        medium="USBメモリ（暗号化）",
        purpose="研修資料の作成",
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
    )


def test_an_administrator_cannot_approve_his_own_request_either(client_as, people, takada):
    own = _admins_own_request(people, takada)
    client = client_as("mcs_admin")
    page = client.get(reverse("devices:takeout_detail", args=[own.pk])).content.decode()
    # 高田 has nobody else who may decide: the page says so instead of offering the form.
    assert "この届出を承認できる人" in page and 'name="decision"' not in page
    response = client.post(
        reverse("devices:takeout_decide", args=[own.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    assert "ご自身の届出を承認・却下することはできません" in response.content.decode()
    assert refresh(own).state == "pending"
    with pytest.raises(PermissionDenied):
        services.takeout_decide(actor=people["mcs_admin"], request_obj=own, approve=True)


def test_another_administrator_or_the_facility_manager_decides_an_administrators_request(
    client_as, people, takada, pending
):
    own = _admins_own_request(people, takada)
    manager = facility_services.user_create(
        actor=None, email="manager@takada.example.jp", name="高田所長"
    )
    facility_services.role_appoint(
        actor=None, user=manager, facility=takada, role=Role.FACILITY_MANAGER
    )
    manager = User.objects.get(pk=manager.pk)
    assert permissions.takeout_deciders(own) == [manager]
    # The facility manager sees the administrator's request, not the nurse's.
    assert set(selectors.takeouts_visible_to(manager)) == {own}
    services.takeout_decide(actor=manager, request_obj=own, approve=True, comment="了承")
    assert refresh(own).decided_by == manager
    with pytest.raises(PermissionDenied):
        services.takeout_decide(actor=manager, request_obj=pending, approve=True)

    # A second MCS administrator decides the first one's requests, and is told when they come.
    second = facility_services.user_create(actor=None, email="admin2@takada.example.jp")
    facility_services.role_appoint(actor=None, user=second, facility=takada, role=Role.MCS_ADMIN)
    another = _admins_own_request(people, takada)
    assert {u.pk for u in permissions.takeout_deciders(another)} == {manager.pk, second.pk}
    assert Notification.objects.filter(kind="devices.takeout_filed", recipient=second).exists()
    services.takeout_decide(
        actor=User.objects.get(pk=second.pk), request_obj=another, approve=False, comment="不要"
    )
    assert refresh(another).state == "rejected"


def test_decide_only_accepts_post(client_as, pending):
    assert (
        client_as("mcs_admin").get(reverse("devices:takeout_decide", args=[pending.pk])).status_code
        == 405
    )


# --- active, returned, overdue -------------------------------------------------------------------------
def test_the_nurse_marks_it_returned(client_as, people, approved):
    client = client_as("user")
    page = client.get(reverse("devices:takeout_detail", args=[approved.pk])).content.decode()
    assert "持ち出し中" in page and "返却した" in page
    response = client.post(reverse("devices:takeout_return", args=[approved.pk]))
    assert response.status_code == 302
    approved = refresh(approved)
    assert approved.state == "returned" and approved.returned_at is not None
    assert not approved.is_active
    assert Notification.objects.filter(
        kind="devices.takeout_returned", recipient=people["mcs_admin"]
    ).exists()


@pytest.mark.parametrize("role", ["mcs_admin", "other_mcs_admin", "center"])
def test_only_the_requester_marks_it_returned(client_as, role, approved):
    response = client_as(role).post(reverse("devices:takeout_return", args=[approved.pk]))
    assert response.status_code in (403, 404)
    assert refresh(approved).state == "approved"


def test_a_pending_request_cannot_be_returned(client_as, pending):
    client_as("user").post(reverse("devices:takeout_return", args=[pending.pk]))
    assert refresh(pending).state == "pending"


def test_the_requester_withdraws_a_pending_request(client_as, pending):
    assert (
        client_as("mcs_admin")
        .post(reverse("devices:takeout_withdraw", args=[pending.pk]))
        .status_code
        == 403
    )
    assert refresh(pending).state == "pending"
    client_as("user").post(reverse("devices:takeout_withdraw", args=[pending.pk]))
    assert refresh(pending).state == "withdrawn"


def test_a_take_out_past_its_period_is_flagged(client_as, approved):
    TakeoutRequest.objects.filter(pk=approved.pk).update(
        period_start=timezone.localdate() - dt.timedelta(days=10),
        period_end=timezone.localdate() - dt.timedelta(days=1),
    )
    assert refresh(approved).is_overdue()
    client = client_as("mcs_admin")
    listing = client.get(reverse("devices:takeout_list") + "?status=overdue").content.decode()
    assert "期間超過・未返却" in listing
    assert reverse("devices:takeout_detail", args=[approved.pk]) in listing
    pending_only = client.get(reverse("devices:takeout_list") + "?status=pending").content.decode()
    assert reverse("devices:takeout_detail", args=[approved.pk]) not in pending_only
    detail = client_as("user").get(reverse("devices:takeout_detail", args=[approved.pk]))
    assert "返却が報告されていません" in detail.content.decode()


# --- who sees which ---------------------------------------------------------------------------
def test_each_role_sees_the_requests_it_should(client_as, people, takada, pending, approved):
    ids = {pending.pk, approved.pk}
    assert {r.pk for r in selectors.takeouts_visible_to(people["user"])} >= ids
    assert {r.pk for r in selectors.takeouts_visible_to(people["mcs_admin"])} >= ids
    for role in ("other_facility_user", "other_mcs_admin", "group_manager", "center"):
        assert not set(selectors.takeouts_visible_to(people[role])) & {pending, approved}
        html = client_as(role).get(reverse("devices:takeout_list")).content.decode()
        assert reverse("devices:takeout_detail", args=[pending.pk]) not in html


def test_a_colleague_does_not_see_the_nurses_requests(people, takada, pending):
    colleague = facility_services.user_create(actor=None, email="nurse2@takada.example.jp")
    facility_services.membership_add(actor=None, user=colleague, facility=takada)
    assert not selectors.takeouts_visible_to(colleague).exists()


# --- the printed form ------------------------------------------------------------------------------
def test_the_preview_prints_the_form_with_the_approver(client_as, people, approved):
    html = (
        client_as("user")
        .get(reverse("printing:takeout_preview", args=[approved.pk]))
        .content.decode()
    )
    for text in (
        "情報及び情報機器の持ち出し届",
        "持ち出す情報の内容",
        "格納する媒体",
        "持ち出す目的",
        "高田訪問看護ステーション",
        "高田看子",
        "高田次郎",
        "印",
        "令和",
        "第12条(9)",
    ):
        assert text in html, text
    assert html.count("<h1") == 1  # the form's title is the page's heading
    assert "<style" not in html  # the PDF's stylesheet stays out of the page (CSP)
    assert (
        client_as("other_mcs_admin")
        .get(reverse("printing:takeout_preview", args=[approved.pk]))
        .status_code
        == 404
    )


def test_the_preview_and_the_pdf_share_the_words(approved):
    """The preview shows the printed form's own template, filled from our context."""
    from django.template.loader import render_to_string

    from mcnet.printing.forms import takeout

    pdf_html = render_to_string("forms/takeout.html", takeout.for_request(approved))
    assert "情報及び情報機器の持ち出し届" in pdf_html and "高田次郎" in pdf_html
    # The tablet's checklist was confirmed 30 days ago: its boxes are ticked.
    assert pdf_html.count("■") >= 5


def test_the_pdf_button_reaches_the_printing_app(client_as, approved):
    client = client_as("user")
    page = client.get(reverse("devices:takeout_detail", args=[approved.pk])).content.decode()
    action = reverse("printing:request_for", args=["takeout", approved.pk])
    assert f'action="{action}"' in page
    response = client.post(action, {"model": "devices.TakeoutRequest"})
    assert response.status_code == 302 and "/documents/" in response.headers["Location"]
    other = client_as("other_mcs_admin").post(action, {"model": "devices.TakeoutRequest"})
    assert other.status_code == 404


def test_the_takeout_form_has_what_the_request_says(people, approved, pending):
    from mcnet.printing.forms import takeout
    from mcnet.wareki import wareki

    context = takeout.for_request(approved)
    assert context["title"] == "情報及び情報機器の持ち出し届"
    assert context["facility"] == "高田訪問看護ステーション"
    assert context["requester_name"] == "高田看子" and context["requester_occupation"] == "看護師"
    assert [context[key] for key in ("information", "medium", "purpose")] == [
        approved.information,
        approved.medium,
        approved.purpose,
    ]
    assert context["period_start"] == wareki(approved.period_start)
    assert context["approver_name"] == "高田次郎" and context["decision"] == "approved"
    assert context["decided_on"] == wareki(timezone.localdate(approved.decided_at))
    byod = takeout.for_request(pending)
    assert byod["kind"] == "byod" and byod["title"] == "個人所有端末の業務利用届（BYOD）"
    checked = {item["label"]: item["checked"] for item in context["checklist"]}
    assert checked["適切なウイルス対策を施している（第12条(3)）"] is True  # confirmed 30 days ago
    assert byod["approver_name"] == "" and byod["decision"] == ""
    assert byod["decided_on"] == wareki(None)
    assert byod["device"] == str(pending.device or pending.personal_device)
