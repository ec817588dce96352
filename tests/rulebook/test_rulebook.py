"""The rules as versions the center publishes (第15条): version 1 is the original of
2021-09-01; a new version changes what pages and printed forms say from the day it takes
effect, without a code change; the center sees who agreed only to an older one."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from facilities.models import StaffPledge
from mcnet.models import AuditEvent
from mcnet.printing import registry
from mcnet.printing.forms import besshi1, besshi2
from mcnet.printing.renderer import render_pdf
from mcnet.rulebook import seed, text
from mcnet.rulebook.models import Document, RuleVersion
from mcnet.rulebook.selectors import version_in_force
from mcnet.rulebook.services import rule_version_publish
from tests.printing import pdf

NEW_ARTICLE_5 = "第５条　私は、本誓約書の各条の規定に違反した場合、速やかに事務局へ報告します。"


def _besshi2_v2_source() -> str:
    first = version_in_force(Document.BESSHI2, on=seed.FIRST_DATE)
    source = text.unparse(first.blocks)
    old = "第５条　私は、本誓約書の各条の規定に違反した場合、誠意をもって協議致します。"
    assert old in source
    return source.replace(old, NEW_ARTICLE_5)


def _publish(actor, document=Document.BESSHI2, source=None, effective_on=None, **kw):
    today = timezone.localdate()
    return rule_version_publish(
        actor=actor,
        document=document,
        source=source if source is not None else _besshi2_v2_source(),
        approved_on=kw.pop("approved_on", today),
        effective_on=effective_on or today,
        summary=kw.pop("summary", "第5条の改定"),
        **kw,
    )


# --- version 1: the original -------------------------------------------------------------------


@pytest.mark.django_db
def test_version_1_of_every_document_is_the_original_of_2021_09_01():
    # The seed's text extraction broke one phrase of 別紙2 第1条 (「とい） います。）」).
    seed_text = pdf.seed().replace(
        pdf.normalize("とい） います。）"), pdf.normalize("といいます。）")
    )
    for document in seed.FIRST_DOCUMENTS:
        version = version_in_force(document, on=dt.date(2021, 9, 1))
        assert (version.number, version.effective_on) == (1, dt.date(2021, 9, 1)), document
        assert version.blocks == seed.first_blocks(document)
        filled = text.fill(version.blocks, {"name": "MC ネット", "region_name": "上越・妙高地域"})
        # Every line of it is the network's own wording (the pledge's opening line excepted:
        # the rules give items (1)–(5) and no form for them).
        for block in filled:
            line = f"{block.get('number', '')}{block.get('text', '')}"
            if document == "staff_pledge" and block["type"] == "text":
                continue
            assert pdf.normalize(line) in seed_text, (document, line)


def test_the_text_is_structured_and_round_trips():
    for document in seed.FIRST_DOCUMENTS:
        blocks = seed.first_blocks(document)
        assert text.parse(text.unparse(blocks)) == blocks
    rules = seed.first_blocks("rules")
    articles = [b["number"] for b in rules if b["type"] == "article"]
    assert articles[0] == "第１条" and articles[-1] == "第１５条" and len(articles) == 15
    pledge = seed.first_blocks("staff_pledge")
    assert [b["number"] for b in pledge if b["type"] == "item"] == [
        "（１）",
        "（２）",
        "（３）",
        "（４）",
        "（５）",
    ]


def test_bad_text_is_refused_in_japanese_naming_the_line():
    with pytest.raises(ValidationError) as exc:
        text.parse("第１条　よい行\n{患者名}の行")
    assert "2 行目" in exc.value.messages[0] and "{患者名}" in exc.value.messages[0]
    with pytest.raises(ValidationError, match="本文を入力"):
        text.parse(" \n\u200b\n")


# --- publishing (第15条: the center records what the council approved) -------------------------


def test_only_the_center_publishes_and_it_is_audited_once(people):
    with pytest.raises(PermissionDenied):
        _publish(people["mcs_admin"])
    assert not RuleVersion.objects.filter(document="besshi2", number=2).exists()
    version = _publish(people["center"])
    again = _publish(people["center"])  # the same form sent twice
    assert again.pk == version.pk and version.number == 2
    events = AuditEvent.objects.filter(action="rulebook.publish", object_id=str(version.pk))
    assert events.count() == 1 and events.get().actor == people["center"]


def test_effective_before_approval_is_refused_and_nothing_is_written(people):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        _publish(people["center"], approved_on=today, effective_on=today - dt.timedelta(days=1))
    assert "施行日は承認日以降" in str(exc.value)
    assert RuleVersion.objects.filter(document="besshi2").count() == 1


def test_the_center_publishes_on_the_web_form_and_others_cannot(client_as, people):
    url = reverse("rulebook:publish", args=["besshi2"])
    assert client_as("mcs_admin").get(url).status_code == 404
    client = client_as("center")
    page = client.get(url).content.decode()
    assert "誠意をもって協議致します" in page  # the current text, to edit
    today = timezone.localdate().isoformat()
    data = {"source": _besshi2_v2_source(), "summary": "第5条", "approved_on": today}
    response = client.post(url, {**data, "effective_on": today})
    assert response.status_code == 200  # the council's approval was not confirmed
    assert not RuleVersion.objects.filter(document="besshi2", number=2).exists()
    response = client.post(
        url, {**data, "effective_on": today, "confirm": "on", "source": "<script>x</script>"}
    )
    assert response.status_code == 302
    page = client.get(reverse("rulebook:document", args=["besshi2"])).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page


def test_a_new_version_changes_the_page_and_the_printed_form_from_its_date(client_as, people):
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    version = _publish(people["center"], effective_on=tomorrow)
    client = client_as("user")
    # Not in force yet: the page, the public application form and the print say version 1.
    page = client.get(reverse("rulebook:document", args=["besshi2"])).content.decode()
    assert "誠意をもって協議致します" in page and "速やかに事務局へ報告します" not in page
    apply_page = client.get(reverse("enrollment:apply")).content.decode()
    assert "誠意をもって協議致します" in apply_page
    printed = pdf.normalize(pdf.text(render_pdf("forms/besshi2.html", besshi2.context())))
    assert pdf.normalize("誠意をもって協議致します") in printed

    RuleVersion.objects.filter(pk=version.pk).update(effective_on=today, approved_on=today)
    page = client.get(reverse("rulebook:document", args=["besshi2"])).content.decode()
    assert "速やかに事務局へ報告します" in page and "誠意をもって協議致します" not in page
    assert "速やかに事務局へ報告します" in client.get(reverse("enrollment:apply")).content.decode()
    printed = pdf.normalize(pdf.text(render_pdf("forms/besshi2.html", besshi2.context())))
    assert pdf.normalize(NEW_ARTICLE_5) in printed
    assert pdf.normalize("誠意をもって協議致します") not in printed
    # A form dated before the new version still prints the one in force on its date.
    before = besshi2.context(date=today - dt.timedelta(days=1))
    printed = pdf.normalize(pdf.text(render_pdf("forms/besshi2.html", before)))
    assert pdf.normalize("誠意をもって協議致します") in printed


def test_an_application_prints_the_pledge_it_agreed_to(people, demo):
    from enrollment.models import Application

    application = Application.objects.filter(pledge_affirmed=True).first()
    assert application.pledge_rule_version.number == 1
    _publish(people["center"])
    spec = registry.get("besshi2")
    context = spec.object_context(spec.target_for("enrollment.Application"), application)
    printed = pdf.normalize(pdf.text(render_pdf(spec.template, context)))
    assert pdf.normalize("誠意をもって協議致します") in printed
    assert pdf.normalize(NEW_ARTICLE_5) not in printed


# --- who agreed only to an older version ------------------------------------------------------


def test_the_center_sees_pledges_on_an_older_version_until_they_are_confirmed(client_as, people):
    url = reverse("dashboard:agreements")
    center = client_as("center")
    page = center.get(url).content.decode()
    assert "nurse@takada.example.jp" not in page  # version 1 is in force, her pledge is on it
    first = version_in_force(Document.STAFF_PLEDGE)
    source = text.unparse(first.blocks).replace(
        "守ることを誓約します。", "守ることを誓約します（改定）。"
    )
    _publish(people["center"], document=Document.STAFF_PLEDGE, source=source)
    page = center.get(url).content.decode()
    assert "nurse@takada.example.jp" in page and "第1版" in page
    assert "施行中は第2版" in page
    # 別紙2 and 別紙3 are listed by facility, consents only as counts (no patient's name).
    for name in ("山田太郎", "上越花子"):
        assert name not in page

    from facilities import services

    services.pledge_confirm(
        actor=people["user"],
        facility=people["user"].memberships.get().facility,
        rule_version=version_in_force(Document.STAFF_PLEDGE),
    )
    page = center.get(url).content.decode()
    assert "nurse@takada.example.jp" not in page
    assert StaffPledge.objects.get(user=people["user"]).rule_version.number == 2
    assert client_as("mcs_admin").get(url).status_code == 403


def test_the_agreements_page_queries_do_not_grow_with_the_staff(client_as, people, demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = version_in_force(Document.STAFF_PLEDGE)
    _publish(
        people["center"],
        document=Document.STAFF_PLEDGE,
        source=text.unparse(first.blocks) + "（６）　追加の号。\n",
    )
    center = client_as("center")
    url = reverse("dashboard:agreements")
    center.get(url)
    with CaptureQueriesContext(connection) as few:
        center.get(url)
    from facilities import services

    for n in range(15):
        user = services.user_create(actor=None, email=f"p{n}@example.jp", name=f"職員{n}")
        services.membership_add(actor=None, user=user, facility=demo["takada"])
        services.pledge_record(
            actor=None, user=user, facility=demo["takada"], signed_on=dt.date(2022, 1, 1)
        )
    with CaptureQueriesContext(connection) as many:
        page = center.get(url).content.decode()
    assert "p14@example.jp" in page
    assert len(many) == len(few)


def test_a_consent_and_a_roster_keep_the_version_they_agreed_to(client_as, people, demo):
    from consents.models import Consent
    from enrollment.models import RosterRequest

    consent = Consent.objects.get(patient__name="山田太郎", status="active")
    roster = RosterRequest.objects.get(facility__name="ABCクリニック")
    assert consent.rule_version.document == "besshi7" and consent.rule_version.number == 1
    assert roster.rules_version.document == "rules" and roster.rules_version.number == 1
    first = version_in_force(Document.BESSHI7)
    old = "正しく活用することに同意します。"
    new_wording = "正しく活用し、必要な範囲で共有することに同意します。"
    _publish(
        people["center"],
        document=Document.BESSHI7,
        source=text.unparse(first.blocks).replace(old, new_wording),
    )
    spec = registry.get("besshi7")
    signed = spec.object_context(spec.target_for("consents.Consent"), consent)
    printed = pdf.normalize(pdf.text(render_pdf(spec.template, signed)))
    assert pdf.normalize(old) in printed and pdf.normalize(new_wording) not in printed
    blank = pdf.normalize(pdf.text(render_pdf(spec.template, spec.blank_context())))
    assert pdf.normalize(new_wording) in blank
    # The center sees the count of consents on the older wording per facility, no patient.
    page = client_as("center").get(reverse("dashboard:agreements")).content.decode()
    counts = page[page.index('id="outdated-besshi7"') :]
    assert consent.patient.facility.name in counts and "件" in counts
    for patient in ("山田太郎", "やまだ", consent.patient.address):
        assert patient not in page


def test_besshi1_note_2_sends_facilities_to_the_portal_for_besshi3(db):
    """利用開始までの流れ 2 as the portal runs it: the roster is filed on the portal (the
    center no longer mails 別紙3 to be returned by mail)."""
    printed = pdf.normalize(pdf.text(render_pdf("forms/besshi1.html", besshi1.context())))
    assert (
        pdf.normalize(
            "一括登録代行申込書（別紙３）は、承認後にポータルで入力して提出してください。"
        )
        in printed
    )
    assert pdf.normalize("メール送付される") not in printed


def test_the_center_finds_the_rules_from_its_dashboard(client_as):
    page = client_as("center").get(reverse("dashboard:index")).content.decode()
    assert reverse("rulebook:index") in page and reverse("dashboard:agreements") in page


def test_a_consent_signed_after_a_new_wording_records_that_version(people, demo):
    from tests.factories import made_consent, made_patient

    first = version_in_force(Document.BESSHI7)
    today = timezone.localdate()
    version = _publish(
        people["center"],
        document=Document.BESSHI7,
        source=text.unparse(first.blocks).replace("正しく活用する", "適切に活用する"),
        approved_on=today - dt.timedelta(days=10),
        effective_on=today - dt.timedelta(days=3),
    )
    manager = people["group_manager"]
    facility = manager.memberships.get().facility
    before = made_consent(
        manager=manager,
        patient=made_patient(manager=manager, facility=facility, name="版前一郎"),
        signed_on=today - dt.timedelta(days=5),
    )
    after = made_consent(
        manager=manager,
        patient=made_patient(manager=manager, facility=facility, name="版後二郎"),
        signed_on=today - dt.timedelta(days=1),
    )
    assert (before.rule_version.number, before.text_version) == (1, "2021-09-01")
    assert after.rule_version == version
    assert after.text_version == version.effective_on.isoformat()
