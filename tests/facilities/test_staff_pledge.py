"""第7条: the staff pledge shows items (1)–(5) of the version in force; the staff member
confirms it on the portal (or the facility manager records a signed paper, or a waiver with
the existing pledge's date); the version is recorded; the 従事者誓約書 prints for signature."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from facilities import services
from facilities.models import StaffPledge
from mcnet.models import AuditEvent, GeneratedDocument
from mcnet.printing import services as printing_services
from mcnet.rulebook import text
from mcnet.rulebook.models import Document
from mcnet.rulebook.selectors import version_in_force
from mcnet.rulebook.services import rule_version_publish
from tests.printing import pdf

ITEMS = (
    "（１）　従事者は、就業規則やマニュアルなどの諸規定を遵守し、患者等の個人情報のみならず、",
    "（２）　退職後も、知り得た情報を漏えいしてはならない。",
    "（３）　ＩＴ機器について、適切な取扱い及び管理を行う。",
    "（４）　事業者が定めた利用目的外での使用を禁止する。",
    "（５）　患者その他の第三者のプライバシー、その他の権利を侵害するような行為を一切しない。",
)
NEW_ITEM = "（６）　私用の端末に患者の情報を保存しない。"


def _new_pledge_version(center, effective_on=None):
    first = version_in_force(Document.STAFF_PLEDGE)
    effective_on = effective_on or timezone.localdate()
    return rule_version_publish(
        actor=center,
        document=Document.STAFF_PLEDGE,
        source=text.unparse(first.blocks) + NEW_ITEM + "\n",
        approved_on=effective_on,
        effective_on=effective_on,
        summary="(6) を追加",
    )


def test_the_pledge_page_shows_the_five_items_and_the_state(client_as, people):
    page = client_as("user").get(reverse("facilities:my_pledge")).content.decode()
    for item in ITEMS:
        assert item in page, item
    assert "高田訪問看護ステーション" in page
    assert "第1版の誓約書が記録されています" in page  # the demo's signed paper of 2022-04-01


def test_a_new_version_is_shown_and_confirmed_on_the_portal_with_its_version(client_as, people):
    nurse = people["user"]
    takada = nurse.memberships.get().facility
    version = _new_pledge_version(people["center"])
    client = client_as("user")
    page = client.get(reverse("facilities:my_pledge")).content.decode()
    assert NEW_ITEM in page and "第1版に誓約済みです" in page
    url = reverse("facilities:pledge_confirm", args=[takada.pk])
    # Without ticking the box: nothing recorded.
    client.post(url, {"version": version.pk})
    assert StaffPledge.objects.get(user=nurse).rule_version.number == 1
    response = client.post(url, {"version": version.pk, "confirm": "on"})
    assert response.status_code == 302
    client.post(url, {"version": version.pk, "confirm": "on"})  # sent twice: one record
    pledge = StaffPledge.objects.get(user=nurse)
    assert (pledge.rule_version, pledge.method) == (version, StaffPledge.Method.PORTAL)
    assert pledge.signed_on == timezone.localdate()
    events = AuditEvent.objects.filter(action="pledge.confirm", object_id=str(pledge.pk))
    assert events.count() == 1 and events.get().changes["rule_version"] == version.pk
    page = client.get(reverse("facilities:my_pledge")).content.decode()
    assert "第2版をポータルで確認しました" in page


def test_confirming_a_version_no_longer_in_force_is_refused(people):
    nurse = people["user"]
    takada = nurse.memberships.get().facility
    old = version_in_force(Document.STAFF_PLEDGE)
    _new_pledge_version(people["center"])
    with pytest.raises(ValidationError, match="改定されました"):
        services.pledge_confirm(actor=nurse, facility=takada, rule_version=old)
    assert StaffPledge.objects.get(user=nurse).method == StaffPledge.Method.PAPER


def test_nobody_confirms_for_a_facility_where_they_do_not_work(client_as, people):
    takada = people["user"].memberships.get().facility
    with pytest.raises(PermissionDenied):
        services.pledge_confirm(
            actor=people["other_facility_user"],
            facility=takada,
            rule_version=version_in_force(Document.STAFF_PLEDGE),
        )
    response = client_as("other_facility_user").post(
        reverse("facilities:pledge_confirm", args=[takada.pk]),
        {"version": version_in_force(Document.STAFF_PLEDGE).pk, "confirm": "on"},
    )
    assert response.status_code == 404
    assert not StaffPledge.objects.filter(user=people["other_facility_user"], facility=takada)


def test_the_manager_records_a_paper_or_a_waiver_with_the_existing_pledges_date(people):
    nurse, manager = people["user"], people["mcs_admin"]
    takada = nurse.memberships.get().facility
    version = _new_pledge_version(people["center"], effective_on=dt.date(2026, 12, 1))
    paper = services.pledge_record(
        actor=manager, user=nurse, facility=takada, signed_on=dt.date(2026, 11, 30)
    )
    # Signed the day before version 2 took effect: it covers version 1.
    assert paper.rule_version.number == 1 and paper.method == StaffPledge.Method.PAPER
    waiver = services.pledge_record(
        actor=manager, user=nurse, facility=takada, waived=True, signed_on=dt.date(2019, 4, 1)
    )
    assert waiver.method == StaffPledge.Method.WAIVED and waiver.signed_on == dt.date(2019, 4, 1)
    assert waiver.rule_version == version  # judged against the version in force today


def test_the_staff_pledge_prints_for_signature_with_the_items_in_force(
    client_as, people, monkeypatch
):
    monkeypatch.setattr("mcnet.printing.services.enqueue", lambda *args, **kwargs: True)
    nurse = people["user"]
    membership = nurse.memberships.get()
    _new_pledge_version(people["center"])
    client = client_as("user")
    response = client.post(
        reverse("printing:request_for", args=["staff_pledge", membership.pk]),
        {"model": "facilities.FacilityMembership"},
    )
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(form_code="staff_pledge")
    printing_services.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.state == GeneratedDocument.State.READY, document.message
    content = b"".join(
        client.get(reverse("printing:download", args=[document.pk])).streaming_content
    )
    printed = pdf.normalize(pdf.text(content))
    for line in ("従事者誓約書", *ITEMS, NEW_ITEM, "高田訪問看護ステーション", nurse.name, "第2版"):
        assert pdf.normalize(line) in printed, line
    assert "印" in pdf.text(content)
    assert pdf.font_problems(content) == []
    # Another facility's staff cannot print hers (404), the center neither.
    for role in ("other_facility_user", "center"):
        response = client_as(role).post(
            reverse("printing:request_for", args=["staff_pledge", membership.pk]),
            {"model": "facilities.FacilityMembership"},
        )
        assert response.status_code == 404, role


def test_the_managers_record_page_shows_the_items_and_the_version(client_as, people):
    nurse = people["user"]
    takada = nurse.memberships.get().facility
    page = (
        client_as("mcs_admin")
        .get(reverse("facilities:pledge_record", args=[takada.pk, nurse.pk]))
        .content.decode()
    )
    for item in ITEMS:
        assert item in page, item
    assert "誓約した内容: 第1版" in page and "署名した誓約書" in page
