"""The patient's own requests (別紙6 ご本人の照会; 個人情報保護法 §33 開示, §34 訂正, §35 利用停止・
消去): recorded and answered by the custodians of the record only, the disclosure package
lists exactly what the portal holds, overdue requests remind once, the center sees numbers."""

import datetime as dt
import json
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consents import services
from consents.models import Consent, Patient, PatientRequest
from facilities import services as facility_services
from facilities.models import Facility, FacilityRole, Occupation, User
from groups.models import Group, Membership
from mcnet.models import AuditEvent, AuditTrail, GeneratedDocument, NetworkSettings, Notification
from mcnet.printing import services as printing_services
from tests.printing import pdf

State = PatientRequest.State
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
# What must never reach anyone but the custodians: 山田太郎's details.
YAMADA_DETAILS = ("山田太郎", "ヤマダ タロウ", "春日野1-10-1", "025-555-0101")


@pytest.fixture
def yamada(demo):
    return Patient.objects.get(name="山田太郎")


@pytest.fixture
def hanako(demo):
    return Patient.objects.get(name="上越花子")


def receive(people, patient, kind="disclosure", **extra):
    fields = {
        "requester_kind": "family",
        "requester_name": "山田一郎",
        "requester_relationship": "長男",
        "received_on": timezone.localdate() - dt.timedelta(days=1),
        **extra,
    }
    return services.patient_request_receive(
        actor=people["group_manager"], patient=patient, kind=kind, **fields
    )


def verified(people, patient, kind="disclosure", **extra):
    patient_request = receive(people, patient, kind, **extra)
    return services.patient_request_verify_identity(
        actor=people["group_manager"],
        patient_request=patient_request,
        document="my_number_card",
        note="顔写真で確認",
    )


def render_queued():
    for pk in GeneratedDocument.objects.filter(state="queued").values_list("pk", flat=True):
        printing_services.document_render(document_id=pk)


@pytest.fixture
def kasugano_admin(demo):
    """An MCS administrator of 春日野 who manages no group: a custodian through the facility."""
    kasugano = Facility.objects.get(name="春日野居宅介護支援事業所")
    user = facility_services.user_create(
        actor=None,
        email="admin2@kasugano.example.jp",
        password="mcnet-demo-2026",
        name="春日野二郎",
        kana="かすがの じろう",
        gender="male",
        occupation=Occupation.NURSE,
    )
    facility_services.membership_add(actor=None, user=user, facility=kasugano)
    facility_services.role_appoint(
        actor=None, user=user, facility=kasugano, role=FacilityRole.Role.MCS_ADMIN
    )
    return User.objects.get(pk=user.pk)


# --- the record ---------------------------------------------------------------------------------


def test_the_demo_has_one_open_disclosure_request(demo):
    open_requests = PatientRequest.objects.filter(state__in=PatientRequest.OPEN_STATES)
    assert open_requests.count() == 1
    demo_request = open_requests.get()
    assert demo_request.kind == "disclosure" and demo_request.requester_relationship == "長男"


def test_receiving_sets_the_due_date_from_the_network_setting(people, yamada):
    network = NetworkSettings.load()
    network.patient_request_due_days = 10
    network.save()
    patient_request = receive(people, yamada, received_on=dt.date(2026, 12, 1))
    assert patient_request.due_on == dt.date(2026, 12, 11)
    assert patient_request.state == State.RECEIVED
    assert patient_request.facility == yamada.facility
    event = AuditEvent.objects.filter(action="patient_request.receive").latest("id")
    # Ids and codes only: the asker's name is erased with the patient, the trail is not.
    assert "山田一郎" not in json.dumps(event.changes, ensure_ascii=False)
    assert event.changes["patient"] == yamada.pk


def test_a_family_member_names_the_relationship_and_full_width_is_normalized(people, yamada):
    with pytest.raises(ValidationError) as refused:
        receive(people, yamada, requester_relationship="")
    assert "続柄" in refused.value.messages[0]
    patient_request = receive(
        people, yamada, requester_name="山田　一郎", requester_contact="０２５"
    )
    assert patient_request.requester_contact == "025"
    assert patient_request.requester_name == "山田 一郎"


def test_who_may_record_a_request(people, yamada, kasugano_admin):
    receive(people, yamada)  # the care manager: the group's manager and 春日野's MCS admin
    services.patient_request_receive(
        actor=kasugano_admin,
        patient=yamada,
        kind="correction",
        requester_kind="patient",
        requester_name="山田太郎",
        received_on=timezone.localdate(),
    )
    # The patient's supporters at other facilities, their administrators, the center: no.
    for role in ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"):
        with pytest.raises(PermissionDenied):
            services.patient_request_receive(
                actor=people[role],
                patient=yamada,
                kind="disclosure",
                requester_kind="patient",
                requester_name="山田太郎",
                received_on=timezone.localdate(),
            )


def test_nothing_is_answered_before_the_identity_check(people, yamada):
    patient_request = receive(people, yamada, kind="correction")
    with pytest.raises(ValidationError):
        services.patient_request_correct(
            actor=people["group_manager"], patient_request=patient_request, address="新住所"
        )
    with pytest.raises(ValidationError):
        services.patient_request_close(
            actor=people["group_manager"],
            patient_request=patient_request,
            state="answered",
            outcome="訂正しました",
            replied_on=timezone.localdate(),
        )
    with pytest.raises(ValidationError):  # "other" needs a note saying what was seen
        services.patient_request_verify_identity(
            actor=people["group_manager"], patient_request=patient_request, document="other"
        )
    services.patient_request_verify_identity(
        actor=people["group_manager"], patient_request=patient_request, document="interview"
    )
    patient_request.refresh_from_db()
    assert patient_request.state == State.VERIFIED
    assert patient_request.identity_checked_by == people["group_manager"]


# --- §34 訂正, §35 利用停止・消去: through the existing services, the request linked ---------------


def test_correction_goes_through_patient_update_with_the_request_linked(
    people, yamada, kasugano_admin
):
    patient_request = verified(people, yamada, kind="correction", requester_kind="patient")
    # 春日野's MCS administrator may correct for a request, though not a patient manager.
    services.patient_request_correct(
        actor=kasugano_admin, patient_request=patient_request, address="新潟県上越市大手町1-1"
    )
    yamada.refresh_from_db()
    assert yamada.address == "新潟県上越市大手町1-1"
    event = AuditEvent.objects.filter(action="patient.update").latest("id")
    assert event.changes == {"fields": ["address"], "patient_request": patient_request.pk}
    patient_request.refresh_from_db()
    assert patient_request.state == State.IN_PROGRESS
    # Without a request, the MCS administrator is no patient manager (the paper's handlers).
    with pytest.raises(PermissionDenied):
        services.patient_update(actor=kasugano_admin, patient=yamada, phone="025-000-0000")


@pytest.mark.parametrize("custodian", ["group_manager", "facility_mcs_admin"])
def test_stop_of_use_is_the_withdrawal_with_the_request_linked(
    people, yamada, kasugano_admin, custodian
):
    actor = kasugano_admin if custodian == "facility_mcs_admin" else people[custodian]
    patient_request = verified(people, yamada, kind="stop_use", channel="phone")
    services.patient_request_stop_use(
        actor=actor,
        patient_request=patient_request,
        withdrawn_on=timezone.localdate(),
    )
    consent = Consent.objects.filter(patient=yamada).latest("pk")
    assert consent.status == Consent.Status.INACTIVE
    assert consent.withdrawal_method == "phone"
    event = AuditEvent.objects.get(action="consent.withdraw")
    assert event.changes["patient_request"] == patient_request.pk
    # The patient's group ends with the consent (the withdrawal flow's own effect).
    assert not Group.objects.filter(patient=yamada, state="active").exists()


def test_deletion_erases_the_patient_now_and_the_request_keeps_no_names(people, yamada):
    patient_request = verified(
        people,
        yamada,
        kind="deletion",
        requester_kind="patient",
        requester_name="山田太郎",
        details="すべて消してほしい",
    )
    services.patient_request_erase(actor=people["group_manager"], patient_request=patient_request)
    yamada.refresh_from_db()
    patient_request.refresh_from_db()
    assert yamada.is_erased and "山田" not in yamada.name
    assert patient_request.state == State.ANSWERED and patient_request.replied_on
    assert patient_request.requester_name == "" and patient_request.details == ""
    assert patient_request.erased_at is not None
    assert AuditEvent.objects.filter(
        action="patient.erase", changes__reason="patient_request"
    ).exists()


def test_the_wrong_step_for_the_kind_is_refused(people, yamada):
    patient_request = verified(people, yamada, kind="disclosure")
    with pytest.raises(ValidationError):
        services.patient_request_erase(
            actor=people["group_manager"], patient_request=patient_request
        )
    assert not Patient.objects.get(pk=yamada.pk).is_erased


# --- §33 開示: the package ---------------------------------------------------------------------


def _open_pages(client_as, yamada):
    """Accesses to record: the nurse of 高田 and the doctor of ABC open 山田太郎's pages."""
    group = Group.objects.get(patient=yamada, state="active")
    client_as("user").get(reverse("consents:patient_detail", args=[yamada.pk]))
    client_as("other_facility_user").get(reverse("groups:detail", args=[group.pk]))
    client_as("user").get(reverse("groups:detail", args=[group.pk]))


def _package(client_as, people, yamada):
    patient_request = verified(people, yamada)
    client = client_as("group_manager")
    response = client.post(
        reverse("printing:patient_request_disclosure", args=[patient_request.pk])
    )
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(form_code="disclosure")
    assert response.headers["Location"] == reverse("printing:detail", args=[document.pk])
    render_queued()
    document.refresh_from_db()
    assert document.state == "ready"
    return patient_request, document, client


def test_disclosure_package_lists_exactly_the_facilities_and_accesses_recorded(
    client_as, people, yamada, media
):
    _open_pages(client_as, yamada)
    patient_request, document, client = _package(client_as, people, yamada)
    patient_request.refresh_from_db()
    assert patient_request.state == State.IN_PROGRESS

    data = json.loads(client.get(reverse("printing:data", args=[document.pk])).content)
    assert data["patient"]["name"] == "山田太郎"
    assert data["patient"]["birth_date"]["iso"] == "1938-04-12"

    # Consents: each with its version and the facilities it covers, as recorded.
    consents = list(Consent.objects.filter(patient=yamada).order_by("signed_on", "pk"))
    assert [c["number"] for c in data["consents"]] == [c.pk for c in consents]
    for row, consent in zip(data["consents"], consents, strict=True):
        assert row["text_version"] == getattr(consent, "text_version", "")
        assert row["covered_facilities"] == sorted(
            consent.covered_facilities.values_list("name", flat=True)
        )

    # Groups: each membership, with the member's facility and profession.
    groups = list(Group.objects.filter(patient=yamada).order_by("created_at"))
    assert [g["number"] for g in data["groups"]] == [g.pk for g in groups]
    for row, group in zip(data["groups"], groups, strict=True):
        memberships = Membership.objects.filter(group=group).select_related("user")
        expected = sorted(
            (m.user.memberships.get().facility.name, m.user.get_occupation_display())
            for m in memberships
        )
        got = sorted((m["facility"], m["occupation"]) for m in row["members"])
        assert got == expected
        assert row["member_facilities"] == sorted({facility for facility, _ in expected})
    assert "高田訪問看護ステーション" in data["groups"][0]["member_facilities"]
    assert "ABCクリニック" in data["groups"][0]["member_facilities"]

    # The access log: every opening of the patient's pages recorded before the package, each
    # with the opener's facility and profession — and no staff name.
    events = AuditTrail.objects.filter(
        action="patient.view", object_type="consents.patient", object_id=str(yamada.pk)
    ).order_by("created_at", "id")
    events = [e for e in events if e.created_at <= document.created_at]
    assert len(data["accesses"]) == len(events) >= 3
    for row, event in zip(data["accesses"], events, strict=True):
        actor = event.actor
        assert row["facility"] == actor.memberships.get().facility.name
        assert row["occupation"] == actor.get_occupation_display()
        assert row["date"]["iso"] == timezone.localtime(event.created_at).date().isoformat()
    pages = {row["page"] for row in data["accesses"]}
    assert {"患者のページ", "患者グループのページ"} <= pages
    assert {row["facility"] for row in data["accesses"]} >= {
        "高田訪問看護ステーション",
        "ABCクリニック",
    }
    body = json.dumps(data, ensure_ascii=False)
    for staff_name in ("高田看子", "山田花子", "春日野一郎"):
        assert staff_name not in body

    # The PDF says the same (real text, not an image of it).
    response = client.get(reverse("printing:download", args=[document.pk]))
    content = b"".join(response.streaming_content)
    text = pdf.normalize(pdf.text(content))
    assert pdf.font_problems(content) == []
    for expected in (
        "保有個人データの開示",
        "山田太郎",
        "昭和13年4月12日",
        "高田訪問看護ステーション",
        "ABCクリニック",
        "閲覧の記録",
        "患者グループのページ",
    ):
        assert pdf.normalize(expected) in text, expected
    assert text.count(pdf.normalize("患者グループのページ")) == sum(
        1 for row in data["accesses"] if row["page"] == "患者グループのページ"
    )
    assert "高田看子" not in text


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"]
)
def test_nobody_but_the_custodians_gets_the_package_or_the_request(
    client_as, people, yamada, media, role
):
    patient_request, document, _client = _package(client_as, people, yamada)
    client = client_as(role)
    for url in (
        reverse("printing:data", args=[document.pk]),
        reverse("printing:download", args=[document.pk]),
        reverse("printing:detail", args=[document.pk]),
        reverse("consents:patient_request_detail", args=[patient_request.pk]),
        reverse("consents:patient_request_list") + "?state=all",
    ):
        response = client.get(url)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode("utf-8", "replace")
        for detail in (*YAMADA_DETAILS, "山田一郎"):
            assert detail not in body, (role, url, detail)
    response = client.post(
        reverse("printing:patient_request_disclosure", args=[patient_request.pk])
    )
    assert response.status_code == 404


def test_reply_letter_prints_the_wareki_date_the_facility_and_the_network_contact(
    client_as, people, yamada, media
):
    patient_request = verified(people, yamada, received_on=dt.date(2026, 12, 1))
    services.patient_request_close(
        actor=people["group_manager"],
        patient_request=patient_request,
        state="answered",
        outcome="開示資料を郵送しました。",
        replied_on=dt.date(2026, 12, 3),
    )
    client = client_as("group_manager")
    response = client.post(
        reverse("printing:request_for", args=["request_reply", patient_request.pk]),
        {"model": "consents.PatientRequest"},
    )
    assert response.status_code == 302
    render_queued()
    document = GeneratedDocument.objects.get(form_code="request_reply")
    content = b"".join(
        client.get(reverse("printing:download", args=[document.pk])).streaming_content
    )
    text = pdf.normalize(pdf.text(content))
    network = NetworkSettings.load()
    for expected in (
        "令和8年12月3日",
        "山田一郎",
        "山田太郎",
        "春日野居宅介護支援事業所",
        network.center_name,
        network.center_phone,
        "開示資料を郵送しました。",
    ):
        assert pdf.normalize(expected) in text, expected
    # Another facility's administrator cannot print it.
    response = client_as("mcs_admin").post(
        reverse("printing:request_for", args=["request_reply", patient_request.pk]),
        {"model": "consents.PatientRequest"},
    )
    assert response.status_code == 404


# --- 「遅滞なく」: overdue reminders, once ------------------------------------------------------


def test_overdue_requests_remind_the_custodians_once_per_due_date(people, hanako):
    demo_request = PatientRequest.objects.get(patient=hanako)
    due = demo_request.due_on
    kinds = "consents.patient_request_overdue"
    with time_machine.travel(dt.datetime.combine(due, dt.time(12), TOKYO), tick=False):
        assert services.patient_requests_remind_overdue() == 0  # due today: not late yet
    with time_machine.travel(
        dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9), TOKYO), tick=False
    ):
        sent = services.patient_requests_remind_overdue()
        again = services.patient_requests_remind_overdue()
    assert sent >= 1 and again == 0
    notified = Notification.objects.filter(kind=kinds)
    # 春日野's MCS administrator (the care manager) — nobody at other facilities.
    assert set(notified.values_list("recipient__email", flat=True)) == {"cm@kasugano.example.jp"}
    # A message never names the patient or the asker (mails never carry patient details).
    for notification in notified:
        text = notification.title + notification.body
        assert "上越花子" not in text and "上越一郎" not in text
        assert f"#{demo_request.pk}" in notification.title
    # Answered: no more reminders, even later.
    services.patient_request_verify_identity(
        actor=people["group_manager"], patient_request=demo_request, document="interview"
    )
    services.patient_request_close(
        actor=people["group_manager"],
        patient_request=demo_request,
        state="rejected",
        outcome="代理権が確認できなかったため",
        replied_on=timezone.localdate(),
    )
    with time_machine.travel(
        dt.datetime.combine(due + dt.timedelta(days=30), dt.time(9), TOKYO), tick=False
    ):
        assert services.patient_requests_remind_overdue() == 0


# --- the center: numbers only -------------------------------------------------------------------


def test_the_center_sees_counts_and_overdue_numbers_never_content(client_as, people, hanako):
    demo_request = PatientRequest.objects.get(patient=hanako)
    PatientRequest.objects.filter(pk=demo_request.pk).update(
        due_on=timezone.localdate() - dt.timedelta(days=1)
    )
    body = client_as("center").get(reverse("dashboard:index")).content.decode()
    assert 'data-count="open">1<' in body
    assert 'data-count="overdue">1<' in body
    assert "春日野居宅介護支援事業所" in body  # which facility has requests waiting
    for content in ("上越花子", "ジョウエツ ハナコ", "上越一郎", "長男", "本町3-2-1", "母の情報"):
        assert content not in body
    # And nothing from the request pages themselves.
    for url in (
        reverse("consents:patient_request_detail", args=[demo_request.pk]),
        reverse("consents:patient_request_create", args=[hanako.pk]),
    ):
        response = client_as("center").get(url)
        assert response.status_code == 404
        assert "上越花子" not in response.content.decode()
    listed = client_as("center").get(reverse("consents:patient_request_list") + "?state=all")
    assert "上越花子" not in listed.content.decode()


def full_width_today() -> str:
    return str(timezone.localdate()).translate(
        str.maketrans("0123456789-", "０１２３４５６７８９－")
    )


def test_custodian_pages_walk(client_as, people, hanako):
    """The care manager sees the request on the patient's page, checks identity, answers."""
    demo_request = PatientRequest.objects.get(patient=hanako)
    client = client_as("group_manager")
    page = client.get(reverse("consents:patient_detail", args=[hanako.pk])).content.decode()
    assert reverse("consents:patient_request_detail", args=[demo_request.pk]) in page
    response = client.post(
        reverse("consents:patient_request_verify", args=[demo_request.pk]),
        {"document": "health_insurance", "note": ""},
    )
    assert response.status_code == 302
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        reverse("consents:patient_request_close", args=[demo_request.pk]),
        {"state": "answered", "outcome": "開示しました", "replied_on": tomorrow.isoformat()},
    )
    assert response.status_code == 200
    assert "回答日は受付日から今日までの日付にしてください。" in response.content.decode()
    response = client.post(
        reverse("consents:patient_request_close", args=[demo_request.pk]),
        # As a Japanese keyboard types it: full-width figures and a long dash.
        {"state": "answered", "outcome": "開示しました", "replied_on": full_width_today()},
    )
    assert response.status_code == 302
    demo_request.refresh_from_db()
    assert demo_request.state == State.ANSWERED
    listed = client.get(reverse("consents:patient_request_list") + "?state=all").content.decode()
    assert "上越花子" in listed


def test_the_request_forms_are_not_offered_blank(client_as):
    """The package and the reply letter are printed for a recorded request only."""
    body = client_as("group_manager").get(reverse("printing:index")).content.decode()
    assert reverse("printing:request", args=["besshi6"]) in body
    assert "保有個人データの開示" not in body and "回答書" not in body
    response = client_as("group_manager").post(reverse("printing:request", args=["disclosure"]))
    assert response.status_code == 404


def test_a_custodians_opening_of_a_closed_record_is_in_the_access_log(people, yamada):
    """留意事項 医療介護情報の取り扱い (2): an archived record opened with a purpose is listed."""
    from mcnet.audit import AuditAction, audit_record
    from mcnet.printing.forms.disclosure import for_request as disclosure_for_request

    audit_record(
        actor=people["group_manager"],
        action=AuditAction.PATIENT_OPEN_RECORD,
        target=yamada,
        changes={"purpose": "patient_request"},
    )
    data = disclosure_for_request(verified(people, yamada))
    assert data["accesses"][-1]["page"] == "終了した記録の閲覧"
    assert data["accesses"][-1]["facility"] == "春日野居宅介護支援事業所"


def test_after_the_stop_of_use_the_request_page_opens_the_record_with_its_purpose(
    client_as, people, yamada
):
    """Access ends with care: once the consent is withdrawn the custodian still answers the
    request, and each opening of its page is logged as a closed record's, purpose 別紙6."""
    patient_request = verified(people, yamada, kind="stop_use")
    services.patient_request_stop_use(
        actor=people["group_manager"],
        patient_request=patient_request,
        withdrawn_on=timezone.localdate(),
    )
    url = reverse("consents:patient_request_detail", args=[patient_request.pk])
    response = client_as("group_manager").get(url)
    assert response.status_code == 200 and "山田太郎" in response.content.decode()
    opening = AuditEvent.objects.filter(action="patient.open_record").latest("id")
    assert opening.changes == {"purpose": "patient_request"}
    assert opening.object_id == str(yamada.pk)
    for role in ("user", "other_facility_user", "mcs_admin", "center"):
        response = client_as(role).get(url)
        assert response.status_code == 404 and "山田太郎" not in response.content.decode()
