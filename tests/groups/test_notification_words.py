"""Words a person understands: notifications and printed documents name the thing (the
group's neutral label, the form's date), never an internal id; every mail says what happened
and what to do, and no mail carries a patient's details (別紙5 (2))."""

import re

from django.core import mail

from consents.models import Consent
from devices.models import TakeoutRequest
from groups import services
from mcnet.models import Notification
from mcnet.printing import registry
from mcnet.printing.services import document_request_for
from mcnet.tasks import deliver_notification_emails
from tests.demo_objects import membership, yamada_group

ID_LIKE = re.compile(r"#\s*\d")


def test_the_manager_is_told_who_accepted_and_the_mail_says_what_happened(demo, people):
    yamada = yamada_group()
    admin = people["mcs_admin"]
    before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    services.group_invitation_accept(actor=admin, membership=membership(yamada, admin.email))
    note = Notification.objects.get(
        pk__gt=before, recipient=people["group_manager"], kind="groups.accepted"
    )
    assert admin.name in note.body and "支援チームに加わりました" in note.body
    mail.outbox = []
    deliver_notification_emails([note.pk])
    [message] = mail.outbox
    assert "招待が受理され" in message.body and "確認してください" in message.body
    assert f"/groups/{yamada.pk}/" in message.body
    for text in ("山田太郎", "ヤマダ", "1938"):
        assert text not in message.subject + message.body


def test_to_be_archived_names_the_group_by_its_neutral_label(demo, people):
    yamada = yamada_group()
    before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="death")
    notes = Notification.objects.filter(pk__gt=before, kind="groups.to_be_archived")
    assert notes.exists()
    for note in notes:
        assert f"患者グループ No.{yamada.pk}（{yamada.facility.name}）" in note.title
        assert not ID_LIKE.search(note.title) and "山田" not in note.title
    mail.outbox = []
    deliver_notification_emails([n.pk for n in notes])
    for message in mail.outbox:
        assert "アーカイブしてください" in message.body
        assert "山田" not in message.subject + message.body


def test_a_consent_pdf_is_titled_by_its_date_not_its_id(demo, people):
    consent = Consent.objects.filter(status="active").select_related("patient").first()
    spec = registry.get("besshi7")
    target = spec.target_for(Consent)
    document = document_request_for(
        actor=people["group_manager"], code="besshi7", target=target, obj=consent
    )
    assert not ID_LIKE.search(document.title), document.title
    assert f"{consent.signed_on.day}日の同意" in document.title
    patient_target = spec.target_for("consents.Patient")
    blank = document_request_for(
        actor=people["group_manager"], code="besshi7", target=patient_target, obj=consent.patient
    )
    assert (
        f"患者 No.{consent.patient.pk}" in blank.title and consent.patient.name not in blank.title
    )


def test_a_takeout_pdf_is_titled_by_facility_and_day(demo, people):
    request_obj = TakeoutRequest.objects.filter(requester=people["user"]).first()
    spec = registry.get("takeout")
    document = document_request_for(
        actor=people["user"], code="takeout", target=spec.target_for(), obj=request_obj
    )
    assert not ID_LIKE.search(document.title), document.title
    assert f"（{request_obj.facility.name}・" in document.title and "日）" in document.title
