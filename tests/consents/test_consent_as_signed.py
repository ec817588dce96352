"""Consent as signed (別紙7, 留意事項 医療介護情報の取り扱い (3)): the printed 別紙7 lists the
facilities it covers, the separate academic-use choice and its version; widening the covered
facilities is an addendum that counts only once recorded as signed; academic use is its own
record with its own withdrawal."""

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consents import services
from consents.models import CONSENT_TEXT_VERSION, AcademicUseConsent, Consent, ConsentAddendum
from groups import services as group_services
from groups.models import Group, Membership
from mcnet.models import AuditEvent, NetworkSettings
from mcnet.printing import registry
from mcnet.printing.forms import academic_use, base, besshi7, besshi7_addendum
from mcnet.printing.renderer import render_pdf
from tests.demo_objects import joetsu_group
from tests.printing import pdf

SCAN = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def joetsu_consent() -> Consent:
    return Consent.objects.get(patient__name="上越花子", status="active")


def printed(code: str, context: dict) -> str:
    with mock.patch.object(NetworkSettings, "load", return_value=NetworkSettings()):
        return pdf.text(render_pdf(registry.get(code).template, context))


def test_the_version_of_the_text_is_recorded_and_printed_on_both_copies(demo):
    consent = joetsu_consent()
    assert consent.text_version == CONSENT_TEXT_VERSION == base.CONSENT_TEXT_VERSION
    pages = printed("besshi7", besshi7.for_consent(consent)).split("\f")[:-1]
    assert len(pages) == 2
    for page in pages:
        assert f"同意書の版: {CONSENT_TEXT_VERSION}" in page


def test_besshi7_lists_the_covered_facilities_and_the_academic_choice_in_both_copies(demo):
    consent = joetsu_consent()  # covers 春日野 and ABC; no academic use
    text = printed("besshi7", besshi7.for_consent(consent))
    pages = [pdf.normalize(page) for page in text.split("\f")[:-1]]
    assert len(pages) == 2
    for page in pages:
        for facility in consent.covered_facilities.all():
            assert pdf.normalize(facility.name) in page
        assert pdf.normalize(demo["takada"].name) not in page
        assert pdf.normalize("＜同意の対象となる事業所＞") in page
        assert pdf.normalize("＜学術目的での利用について（任意）＞") in page
        assert pdf.normalize("□同意します■同意しません") in page
    yamada = Consent.objects.get(patient__name="山田太郎", status="active")
    yamada_text = pdf.normalize(printed("besshi7", besshi7.for_consent(yamada)))
    assert yamada_text.count(pdf.normalize("■同意します□同意しません")) == 2


def test_a_blank_besshi7_leaves_the_facilities_and_the_choice_to_fill_in(db):
    text = pdf.normalize(printed("besshi7", registry.get("besshi7").blank_context()))
    assert text.count(pdf.normalize("□同意します□同意しません")) == 2
    assert "■" not in text


def test_the_demo_has_a_consent_with_a_signed_addendum(demo):
    addendum = ConsentAddendum.objects.get(consent__patient__name="山田太郎")
    assert addendum.is_signed and addendum.paper_kept_at_facility
    assert list(addendum.facilities.all()) == [demo["takada"]]
    # The 別紙7 prints what its own signature covers; the addendum prints the rest.
    original = pdf.normalize(
        printed("besshi7", besshi7.for_consent(addendum.consent)).split("\f")[0]
    )
    assert pdf.normalize(demo["abc"].name) in original
    assert pdf.normalize(demo["takada"].name) not in original
    page = printed("besshi7_addendum", besshi7_addendum.for_addendum(addendum)).split("\f")[0]
    text = pdf.normalize(page)
    assert pdf.normalize("MCネット利用についての追加同意書") in text
    assert pdf.normalize("＜追加する事業所＞") in text
    added_part = text.split(pdf.normalize("＜これまでの同意の対象となる事業所＞"))[0]
    assert pdf.normalize(demo["takada"].name) in added_part
    assert pdf.normalize(demo["abc"].name) not in added_part
    assert "山田太郎" in text and f"同意書の版:{CONSENT_TEXT_VERSION}" in text


def test_an_invitation_outside_the_consent_is_refused_until_the_addendum_is_signed(
    demo, people, client_as
):
    group = joetsu_group()
    consent = joetsu_consent()
    nurse = people["user"]  # 高田, not covered by 上越花子's consent
    client = client_as("group_manager")
    # Narrowing is direct; widening through the covered-facilities page is refused.
    response = client.post(
        reverse("consents:consent_facilities", args=[consent.pk]),
        {"covered_facilities": [demo["kasugano"].pk, demo["abc"].pk, demo["takada"].pk]},
    )
    assert response.status_code == 200 and "追加同意書に患者の署名が必要です" in (
        response.content.decode()
    )
    response = client.post(
        reverse("consents:addendum_create", args=[consent.pk]),
        {"facilities": [demo["takada"].pk]},
    )
    addendum = ConsentAddendum.objects.get(consent=consent)
    assert response.url == reverse("consents:addendum_detail", args=[addendum.pk])
    assert addendum.state == "pending"

    # Printed but not recorded as signed: the invitation service refuses, in Japanese.
    with pytest.raises(ValidationError) as refused:
        group_services.membership_invite(actor=people["group_manager"], group=group, user=nurse)
    assert refused.value.code == "addendum_unsigned"
    assert "署名済みとして記録されていません" in refused.value.messages[0]
    page = client.post(reverse("groups:invite", args=[group.pk]), {"user": nurse.pk})
    assert page.status_code == 200
    assert "追加同意書に記載されていますが、署名済みとして記録されていません" in (
        page.content.decode()
    )
    assert not Membership.objects.filter(group=group, user=nurse).exists()

    # Recording it needs the paper: a scan, or 「原本を事業所で保管」.
    response = client.post(
        reverse("consents:addendum_sign", args=[addendum.pk]), {"signed_on": "2026-06-01"}
    )
    assert response.status_code == 200 and "原本を事業所で保管" in response.content.decode()
    scan = SimpleUploadedFile("signed.pdf", SCAN, content_type="application/pdf")
    response = client.post(
        reverse("consents:addendum_sign", args=[addendum.pk]),
        {"signed_on": "2026-06-01", "scan": scan},
    )
    assert response.status_code == 302
    addendum.refresh_from_db()
    assert (
        addendum.state == "signed" and addendum.scan and addendum.signed_on == dt.date(2026, 6, 1)
    )
    assert demo["takada"] in consent.covered_facilities.all()
    assert client.get(reverse("consents:addendum_scan", args=[addendum.pk])).status_code == 200
    invitation = group_services.membership_invite(
        actor=people["group_manager"], group=group, user=nurse
    )
    assert invitation.state == Membership.State.INVITED
    actions = set(
        AuditEvent.objects.filter(object_id=str(addendum.pk)).values_list("action", flat=True)
    )
    assert {"consent.addendum_prepare", "consent.addendum_signed"} <= actions


def test_a_cancelled_addendum_never_counts(demo, people):
    consent = joetsu_consent()
    addendum = services.consent_addendum_prepare(
        actor=people["group_manager"], consent=consent, facilities=[demo["takada"]]
    )
    services.consent_addendum_cancel(actor=people["group_manager"], addendum=addendum)
    with pytest.raises(ValidationError):
        services.consent_addendum_record_signed(
            actor=people["group_manager"],
            addendum=addendum,
            signed_on=dt.date(2026, 6, 1),
            paper_kept_at_facility=True,
        )
    with pytest.raises(ValidationError) as refused:
        group_services.membership_invite(
            actor=people["group_manager"], group=joetsu_group(), user=people["user"]
        )
    assert refused.value.code == "not_covered"


def test_only_the_consents_handlers_prepare_or_sign_an_addendum(demo, people):
    consent = joetsu_consent()
    for role in ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"):
        with pytest.raises(Exception) as refused:
            services.consent_addendum_prepare(
                actor=people[role], consent=consent, facilities=[demo["takada"]]
            )
        assert refused.type.__name__ == "PermissionDenied"


def test_withdrawing_academic_use_leaves_the_care_consent_valid(demo, people, client_as):
    yamada = Consent.objects.get(patient__name="山田太郎", status="active")
    record = AcademicUseConsent.objects.get(patient=yamada.patient, status="active")
    assert record.consent == yamada and record.text_version == CONSENT_TEXT_VERSION
    client = client_as("group_manager")
    response = client.post(
        reverse("consents:academic_withdraw", args=[record.pk]),
        {"withdrawn_on": "2026-06-01", "reported_by": "本人", "method": "phone"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    yamada.refresh_from_db()
    assert record.status == "withdrawn" and record.withdrawn_on == dt.date(2026, 6, 1)
    assert yamada.status == "active"
    group = Group.objects.get(patient=yamada.patient)
    assert group.state == Group.State.ACTIVE
    page = client.get(reverse("consents:patient_detail", args=[yamada.patient_id])).content
    assert "2026年6月1日 に撤回されました" in page.decode()
    assert AuditEvent.objects.filter(
        action="academic_consent.withdraw", object_id=str(record.pk)
    ).exists()
    # The academic-use form prints the withdrawal, separately from the 別紙7.
    text = pdf.normalize(printed("academic_use", academic_use.for_record(record)))
    assert pdf.normalize("撤回日：令和8年6月1日") in text
    assert pdf.normalize("匿名化を条件に学術目的で使用すること") in text
    # And it can be consented to again, on its own page.
    again = client.post(
        reverse("consents:academic_create", args=[yamada.patient_id]),
        {"signed_on": "2026-06-02", "paper_kept_at_facility": "on"},
    )
    assert again.status_code == 302
    assert AcademicUseConsent.objects.filter(patient=yamada.patient, status="active").count() == 1


def test_withdrawing_care_consent_does_not_touch_the_academic_record(demo, people):
    yamada = Consent.objects.get(patient__name="山田太郎", status="active")
    services.consent_withdraw(
        actor=people["group_manager"],
        consent=yamada,
        withdrawn_on=dt.date(2026, 6, 1),
        reported_by="本人",
        method="in_person",
    )
    # Each consent is ended by its own act: the academic one is still on record as it was.
    assert AcademicUseConsent.objects.get(patient=yamada.patient).status == "active"


def test_erasing_the_patient_takes_the_addendum_and_academic_papers_with_it(demo, people):
    from mcnet.models import GeneratedDocument
    from mcnet.printing import services as printing

    consent = Consent.objects.get(patient__name="山田太郎", status="active")
    addendum = consent.addenda.get()
    record = AcademicUseConsent.objects.get(patient=consent.patient, status="active")
    spec = registry.get("besshi7_addendum")
    printing.document_request_for(
        actor=people["group_manager"],
        code="besshi7_addendum",
        target=spec.target_for("consents.ConsentAddendum"),
        obj=addendum,
    )
    printing.document_request_for(
        actor=people["group_manager"],
        code="academic_use",
        target=registry.get("academic_use").target_for("consents.AcademicUseConsent"),
        obj=record,
    )
    assert GeneratedDocument.objects.filter(form_code__in=["besshi7_addendum", "academic_use"])
    services.patients_erase_everywhere(
        patient_ids=[consent.patient_id], reason="patient_request", actor=people["group_manager"]
    )
    assert not GeneratedDocument.objects.filter(
        form_code__in=["besshi7_addendum", "academic_use"]
    ).exists()
    addendum.refresh_from_db()
    record.refresh_from_db()
    assert addendum.erased_at and record.erased_at
