"""The applicants' mails (sent once, by a real worker too) and the purge of unconfirmed ones."""

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from enrollment import services
from enrollment.models import Application, ApplicationEvent
from enrollment.tasks import redeliver_unsent_application_mails, send_application_mail
from tests.worker import wait_for

DATA = {
    "facility_name": "名立クリニック",
    "postal_code": "949-1600",
    "prefecture": "新潟県",
    "city": "上越市",
    "town": "名立区",
    "address_line": "7-7",
    "phone": "025-777-7777",
    "kind": "clinic",
    "manager_name": "名立太郎",
    "manager_email": "taro@nadachi.example.jp",
    "pledge_affirmed": True,
}


@pytest.mark.django_db
def test_a_mail_is_sent_once(mailoutbox):
    application = services.application_create(data=DATA)
    event = application.events.get()
    assert send_application_mail(event.pk) == "sent"
    assert send_application_mail(event.pk) == "already sent"
    assert send_application_mail(999999) == "missing"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["taro@nadachi.example.jp"]
    assert "メールアドレスの確認依頼" in message.subject
    assert "/enrollment/apply/confirm/" in message.body
    assert "3 日" in message.body


@pytest.mark.django_db
def test_unsent_mails_are_queued_again(monkeypatch):
    application = services.application_create(data=DATA)
    queued = []
    monkeypatch.setattr("enrollment.tasks.enqueue", lambda task, pk: queued.append(pk))
    monkeypatch.setattr("mcnet.outbox.broker_forgot", lambda marker: False)  # kept its data
    monkeypatch.setattr("mcnet.outbox.broker_backlog", lambda: 0)  # and its queue drained
    # too recent: the first publish may come
    assert redeliver_unsent_application_mails()["application_events"] == 0
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=10)):
        assert redeliver_unsent_application_mails()["application_events"] == 1
    assert queued == [application.events.get().pk]


@pytest.mark.django_db
def test_unconfirmed_applications_are_purged_after_the_link_expired(demo):
    stale = services.application_create(data=DATA)
    assert services.applications_purge_unconfirmed() == 0
    later = timezone.now() + timezone.timedelta(days=5)
    assert services.applications_purge_unconfirmed(now=later) == 1
    assert not Application.objects.filter(pk=stale.pk).exists()
    assert Application.objects.filter(state="submitted").exists()  # the demo's stays
    assert services.applications_purge_unconfirmed(now=later) == 0


@pytest.mark.worker
def test_the_worker_mails_the_confirmation_link(celery_worker, transactional_db):
    application = services.application_create(data=DATA)
    event = ApplicationEvent.objects.get(application=application)
    wait_for(
        lambda: ApplicationEvent.objects.get(pk=event.pk).mailed_at is not None,
        what="the confirmation mail",
    )
    sent = list(celery_worker.mail_dir.iterdir())
    body = "".join(p.read_text(errors="replace") for p in sent)
    assert "taro@nadachi.example.jp" in body
    assert settings.MCNET_BASE_URL.rstrip("/") + "/enrollment/apply/confirm/" in body
