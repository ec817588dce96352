"""The pages of the printed forms: ask, watch the progress, download — with the object's own
permission, and without JavaScript."""

from django.urls import reverse

from consents.models import Consent
from facilities.models import Facility
from mcnet.models import AuditEvent, GeneratedDocument
from mcnet.printing import services

from . import pdf

State = GeneratedDocument.State


def render_queued():
    """What the worker would do: render every queued document."""
    for pk in GeneratedDocument.objects.filter(state=State.QUEUED).values_list("pk", flat=True):
        services.document_render(document_id=pk)


def ask(client, url, data=None):
    response = client.post(url, data or {})
    assert response.status_code == 302, response.status_code
    pk = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return GeneratedDocument.objects.get(pk=pk), response.headers["Location"]


def test_forms_page_lists_every_form(client_as, published):
    response = client_as("user").get(reverse("printing:index"))
    assert response.status_code == 200
    body = response.content.decode()
    for code in (
        "besshi1",
        "besshi2",
        "besshi3",
        "besshi4",
        "besshi5",
        "besshi6",
        "besshi7",
        "takeout",
    ):
        assert reverse("printing:request", args=[code]) in body
    # An ordinary nurse prints no facility's papers.
    assert "事業所の情報を記入した帳票" not in body


def test_blank_form_progress_without_javascript_then_download(client_as, published, media):
    client = client_as("user")
    document, location = ask(client, reverse("printing:request", args=["besshi7"]))
    page = client.get(location)
    body = page.content.decode()
    assert page.status_code == 200
    assert "待機中" in body
    # Without JavaScript the page reloads itself; with it, the static poller takes over.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in body
    assert "printing/progress.js" in body and "<script>" not in body
    assert 'role="status"' in body and "<progress" in body
    status = client.get(reverse("printing:status", args=[document.pk])).json()
    assert status["state"] == "queued" and status["download_url"] == "" and not status["finished"]

    render_queued()

    page = client.get(location).content.decode()
    assert "完成" in page and "http-equiv" not in page
    download_url = reverse("printing:download", args=[document.pk])
    assert download_url in page
    status = client.get(reverse("printing:status", args=[document.pk])).json()
    assert status == {**status, "state": "ready", "finished": True, "percent": 100}
    response = client.get(download_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content)
    assert pdf.page_count(content) == 2
    assert "令和\u3000年\u3000月\u3000日" in pdf.text(content) or "令和" in pdf.text(content)
    assert AuditEvent.objects.filter(
        action="document.download", object_id=str(document.pk)
    ).exists()


def test_facility_papers_only_for_who_signs_or_keeps_them(client_as, takada, published, media):
    url = reverse("printing:request_for", args=["besshi3", takada.pk])
    facility = {"model": "facilities.Facility"}
    for role in ("user", "other_facility_user", "other_mcs_admin", "group_manager"):
        assert client_as(role).post(url, facility).status_code == 404, role
    document, _ = ask(client_as("mcs_admin"), url, facility)
    render_queued()
    download = reverse("printing:download", args=[document.pk])
    # The document follows the facility's permission, whoever asked for it.
    for role in ("user", "other_facility_user", "other_mcs_admin", "group_manager"):
        client = client_as(role)
        assert client.get(download).status_code == 404, role
        assert client.get(reverse("printing:detail", args=[document.pk])).status_code == 404
        assert client.get(reverse("printing:status", args=[document.pk])).status_code == 404
    assert client_as("center").get(download).status_code == 200
    response = client_as("mcs_admin").get(download)
    text = pdf.text(b"".join(response.streaming_content))
    assert "nurse@takada.example.jp" in text and "高田訪問看護ステーション" in text
    assert client_as("anonymous").get(download).status_code == 302


def test_consent_prints_two_copies_for_its_managers_only(
    client_as, yamada_consent, published, media
):
    url = reverse("printing:request_for", args=["besshi7", yamada_consent.pk])
    data = {"model": "consents.Consent"}
    # The center never sees a patient's details (別紙5 (2)); nor do the group's supporters.
    for role in ("center", "user", "other_facility_user", "mcs_admin", "other_mcs_admin"):
        assert client_as(role).post(url, data).status_code == 404, role
    client = client_as("group_manager")
    document, _ = ask(client, url, data)
    assert "山田太郎" not in document.title  # titles end up in the audit trail
    render_queued()
    response = client.get(reverse("printing:download", args=[document.pk]))
    content = b"".join(response.streaming_content)
    pages = pdf.pages(content)
    assert len(pages) == 2
    for page, mark in zip(pages, ("事業所控え", "本人控え"), strict=True):
        lines = {line.strip() for line in page.splitlines()}
        assert mark in lines
        text = pdf.normalize(page)
        for value in (
            "山田太郎",
            "新潟県上越市春日野1-10-1",
            "春日野一郎",
            "春日野居宅介護支援事業所",
            "令和8年4月1日",
        ):
            assert pdf.normalize(value) in text, value
    assert pdf.font_problems(content) == []


def test_proxy_signature_fills_the_family_part(client_as, demo, published, media):
    consent = Consent.objects.get(patient__name="上越花子", status="active")
    document, _ = ask(
        client_as("group_manager"),
        reverse("printing:request_for", args=["besshi7", consent.pk]),
        {"model": "consents.Consent"},
    )
    render_queued()
    document.refresh_from_db()
    text = pdf.normalize(pdf.text(document.file.read()))
    document.file.close()
    assert pdf.normalize("上越一郎") in text and pdf.normalize("(続柄:長男)") in text


def test_pending_consents_of_a_facility_as_one_batch(client_as, people, demo, published, media):
    from consents import services as consent_services

    kasugano = Facility.objects.get(name="春日野居宅介護支援事業所")
    for name, kana in (("未同意一", "みどうい はじめ"), ("未同意二", "みどうい じろう")):
        consent_services.patient_register(
            actor=people["group_manager"],
            facility=kasugano,
            name=name,
            kana=kana,
            address="新潟県○○市1-1",
        )
    url = reverse("printing:batch_for", args=["besshi7-pending", kasugano.pk])
    for role in ("center", "user", "mcs_admin", "other_mcs_admin"):
        assert client_as(role).post(url).status_code == 404, role
    client = client_as("group_manager")
    document, location = ask(client, url)
    assert document.is_batch and document.progress_total == 2
    assert len(document.items) == 2
    page = client.get(location).content.decode()
    assert 'max="2"' in page and 'value="0"' in page
    render_queued()
    status = client.get(reverse("printing:status", args=[document.pk])).json()
    assert status["done"] == 2 and status["total"] == 2 and status["state"] == "ready"
    content = b"".join(client.get(status["download_url"]).streaming_content)
    pages = pdf.pages(content)
    assert len(pages) == 4  # two patients, two copies each
    # By ふりがな: じろう before はじめ; each patient's two copies follow each other.
    assert "未同意二" in pages[0] and "未同意二" in pages[1]
    assert "未同意一" in pages[2] and "未同意一" in pages[3]
    # Someone who may no longer see one of the patients cannot download the batch.
    assert client_as("other_mcs_admin").get(status["download_url"]).status_code == 404


def test_batch_of_every_facility_for_the_center(client_as, published, media):
    url = reverse("printing:batch", args=["besshi3-all"])
    assert client_as("mcs_admin").post(url).status_code == 404
    client = client_as("center")
    assert "besshi3-all" in client.get(reverse("printing:index")).content.decode()
    document, _ = ask(client, url)
    assert document.progress_total == Facility.objects.count()


def test_failed_render_shows_why_and_offers_a_retry(client_as, published, media):
    client = client_as("user")
    document, location = ask(client, reverse("printing:request", args=["besshi1"]))
    services.document_fail(document_id=document.pk, message="フォントに無い文字があります: 「X」")
    page = client.get(location).content.decode()
    assert "失敗" in page and "フォントに無い文字があります" in page
    retry = reverse("printing:retry", args=[document.pk])
    assert retry in page
    assert client.get(retry).status_code == 405
    assert client.post(retry).status_code == 302
    document.refresh_from_db()
    assert document.state == State.QUEUED


def test_post_only_actions_reject_get(client_as, takada):
    client = client_as("mcs_admin")
    for url in (
        reverse("printing:request", args=["besshi1"]),
        reverse("printing:request_for", args=["besshi1", takada.pk]),
        reverse("printing:batch", args=["besshi3-all"]),
    ):
        assert client.get(url).status_code == 405


def test_unknown_form_or_object_is_not_found(client_as, published):
    client = client_as("mcs_admin")
    assert client.post(reverse("printing:request", args=["besshi9"])).status_code == 404
    assert client.post(reverse("printing:request_for", args=["besshi5", 1])).status_code == 404
    assert client.post(reverse("printing:request_for", args=["besshi1", 999999])).status_code == 404
    assert client.get(reverse("printing:detail", args=[999999])).status_code == 404


def test_redis_down_the_page_still_answers_and_shows_the_job_waiting(client_as, broker_down, media):
    client = client_as("user")
    response = client.post(reverse("printing:request", args=["besshi6"]))
    assert response.status_code == 302
    document = GeneratedDocument.objects.get()
    assert document.state == State.QUEUED and document.published_at is None
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "処理サーバーにつながり次第" in page.content.decode()
    assert client.get(reverse("printing:status", args=[document.pk])).json()["waiting_for_worker"]


def test_consent_page_offers_the_pdf(client_as, yamada_consent):
    body = (
        client_as("group_manager")
        .get(reverse("consents:consent_detail", args=[yamada_consent.pk]))
        .content.decode()
    )
    assert reverse("printing:request_for", args=["besshi7", yamada_consent.pk]) in body


def test_pending_patient_prints_a_consent_to_sign(client_as, people, demo, published, media):
    from consents import services as consent_services

    kasugano = Facility.objects.get(name="春日野居宅介護支援事業所")
    patient = consent_services.patient_register(
        actor=people["group_manager"],
        facility=kasugano,
        name="署名前花子",
        kana="しょめいまえ はなこ",
    )
    client = client_as("group_manager")
    page = client.get(reverse("consents:patient_detail", args=[patient.pk])).content.decode()
    url = reverse("printing:request_for", args=["besshi7", patient.pk])
    assert url in page
    document, _ = ask(client, url, {"model": "consents.Patient"})
    assert document.title.endswith(f"（患者 No.{patient.pk}）")  # not the name, not "#"
    render_queued()
    document.refresh_from_db()
    text = pdf.text(document.file.read())
    document.file.close()
    assert "署名前花子" in text and "春日野居宅介護支援事業所" in text
    assert "令和\u3000年\u3000月\u3000日" in text or pdf.normalize("令和年月日") in pdf.normalize(
        text
    )


# --- 別紙1–4 from the enrollment papers ------------------------------------------------------


def _paper_pdf(client, code, obj, model):
    document, _ = ask(
        client, reverse("printing:request_for", args=[code, obj.pk]), {"model": model}
    )
    render_queued()
    response = client.get(reverse("printing:download", args=[document.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_application_prints_besshi1_and_2_for_the_center(client_as, demo, published, media):
    from enrollment.models import Application

    application = Application.objects.get(facility_name="妙高みどり薬局")
    url = reverse("printing:request_for", args=["besshi1", application.pk])
    for role in ("user", "mcs_admin", "other_mcs_admin", "group_manager"):
        assert client_as(role).post(url, {"model": "enrollment.Application"}).status_code == 404
    client = client_as("center")
    assert "妙高みどり薬局" in client.get(reverse("printing:index")).content.decode()
    text = pdf.normalize(
        pdf.text(_paper_pdf(client, "besshi1", application, "enrollment.Application"))
    )
    for value in (
        "妙高みどり薬局",
        "〒944-0048",
        "新潟県妙高市下町4-4-4",
        "0255-44-4444",
        "妙高みどり",
        "manager@myoko-pharmacy.example.jp",
    ):
        assert pdf.normalize(value) in text, value
    text = pdf.normalize(
        pdf.text(_paper_pdf(client, "besshi2", application, "enrollment.Application"))
    )
    assert pdf.normalize("第5条私は、本誓約書の各条の規定に違反した場合") in text
    assert pdf.normalize("妙高みどり薬局") in text


def test_roster_request_prints_its_rows(client_as, demo, published, media):
    from enrollment.models import RosterRequest

    roster = RosterRequest.objects.get(facility__name="ABCクリニック")
    url = reverse("printing:request_for", args=["besshi3", roster.pk])
    for role in ("user", "mcs_admin", "group_manager"):
        assert client_as(role).post(url, {"model": "enrollment.RosterRequest"}).status_code == 404
    client = client_as("other_facility_user")  # ABC's facility manager, who filed it
    body = client.get(reverse("enrollment:roster_detail", args=[roster.pk])).content.decode()
    assert url in body
    content = _paper_pdf(client, "besshi3", roster, "enrollment.RosterRequest")
    text = pdf.text(content)
    for value in ("春日山看子", "kasugayama@abc.example.jp", "admin@abc.example.jp", "〇", "有"):
        assert value in text, value
    assert pdf.font_problems(content) == []


def test_change_notice_prints_the_added_person(client_as, demo, published, media):
    from enrollment.models import ChangeNotice

    notice = ChangeNotice.objects.get(facility__name="高田訪問看護ステーション")
    client = client_as("mcs_admin")
    content = _paper_pdf(client, "besshi4", notice, "enrollment.ChangeNotice")
    text = pdf.normalize(pdf.text(content))
    for value in ("タカダリコ", "高田理子", "理学療法士", "pt@takada.example.jp", "高田次郎"):
        assert pdf.normalize(value) in text, value
    from mcnet.wareki import wareki

    assert pdf.normalize(wareki(notice.notice_date)) in text
    assert (
        client_as("other_mcs_admin")
        .post(
            reverse("printing:request_for", args=["besshi4", notice.pk]),
            {"model": "enrollment.ChangeNotice"},
        )
        .status_code
        == 404
    )


# --- 第12条(9)(10): the take-out request (devices) ------------------------------------------


def test_takeout_request_prints_for_requester_and_mcs_admin(client_as, demo, published, media):
    from devices.models import TakeoutRequest

    request_obj = TakeoutRequest.objects.get(
        facility__name="高田訪問看護ステーション", state=TakeoutRequest.State.APPROVED
    )
    url = reverse("printing:request_for", args=["takeout", request_obj.pk])
    data = {"model": "devices.TakeoutRequest"}
    for role in ("other_facility_user", "other_mcs_admin", "group_manager", "center"):
        assert client_as(role).post(url, data).status_code == 404, role
    content = _paper_pdf(client_as("user"), "takeout", request_obj, "devices.TakeoutRequest")
    text = pdf.normalize(pdf.text(content))
    for value in (
        "情報及び情報機器の持ち出し届",
        "担当利用者の訪問看護記録",
        request_obj.purpose,
        "高田看子",
        "高田次郎",  # the MCS administrator who approved it
        "画面ロックを必ずかけてください。",
        wareki_of(request_obj.period_start),
        wareki_of(request_obj.period_end),
    ):
        assert pdf.normalize(value) in text, value
    # The kind, and the tablet's art. 12 checklist (all confirmed in the demo), are ticked.
    assert pdf.text(content).count("■") == 1 + 6
    assert pdf.font_problems(content) == []
    # The approver prints it too.
    assert client_as("mcs_admin").post(url, data).status_code == 302


def wareki_of(day):
    from mcnet.wareki import wareki

    return wareki(day)
