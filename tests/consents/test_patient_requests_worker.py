"""The disclosure package (個人情報保護法 §33) is a Celery job: a real worker against Redis
renders what the custodian's click queued, and the progress page's status reaches done."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from consents import services
from consents.models import Patient
from facilities.models import User
from mcnet.demo import load_demo
from mcnet.models import GeneratedDocument
from tests.conftest import log_in
from tests.printing import pdf
from tests.worker import wait_for

pytestmark = pytest.mark.worker
State = GeneratedDocument.State


def test_a_real_worker_makes_the_disclosure_package(celery_worker, client):
    load_demo()
    cm = User.objects.get(email="cm@kasugano.example.jp")
    patient_request = services.patient_request_receive(
        actor=cm,
        patient=Patient.objects.get(name="山田太郎"),
        kind="disclosure",
        requester_kind="patient",
        requester_name="山田太郎",
        received_on=timezone.localdate() - dt.timedelta(days=1),
    )
    services.patient_request_verify_identity(
        actor=cm, patient_request=patient_request, document="drivers_license"
    )
    log_in(client, cm, mfa=True)
    response = client.post(
        reverse("printing:patient_request_disclosure", args=[patient_request.pk])
    )
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(form_code="disclosure")

    wait_for(
        lambda: GeneratedDocument.objects.get(pk=document.pk).state in (State.READY, State.FAILED),
        timeout=60,
        what=f"the worker to render the package (log:\n{celery_worker.log()[-2000:]})",
    )
    document.refresh_from_db()
    assert document.state == State.READY, document.message
    status = client.get(reverse("printing:status", args=[document.pk])).json()
    assert status["percent"] == 100 and status["download_url"]
    content = b"".join(client.get(status["download_url"]).streaming_content)
    assert "山田太郎" in pdf.text(content)
    data = json.loads(client.get(reverse("printing:data", args=[document.pk])).content)
    assert data["format"] == "mcnet-disclosure/1"
    assert data["request"]["number"] == patient_request.pk
