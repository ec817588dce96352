"""The list of the patients' own requests (別紙6 ご本人の照会) is searched by the patient,
sorted by a whitelisted order and paged, and keeps its open/answered filter."""

import copy
import datetime as dt

from django.urls import reverse
from django.utils import timezone

from consents import services
from consents.models import Patient, PatientRequest
from consents.views import PATIENT_REQUESTS_PER_PAGE


def rows(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0]


def receive(people, patient, days_ago=1):
    return services.patient_request_receive(
        actor=people["group_manager"],
        patient=patient,
        kind="disclosure",
        requester_kind="patient",
        requester_name=patient.name,
        received_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )


def test_search_finds_the_patients_requests_only(demo, people, client_as):
    yamada = Patient.objects.get(name="山田太郎")
    mine = receive(people, yamada)
    client = client_as("group_manager")
    url = reverse("consents:patient_request_list")
    found = rows(client.get(url, {"q": "ヤマダ"}).content.decode())
    assert f"#{mine.pk}<" in found and "上越花子" not in found
    assert "山田太郎" not in rows(client.get(url, {"q": "存在しない"}).content.decode())


def test_the_filter_separates_open_from_answered(demo, people, client_as):
    yamada = Patient.objects.get(name="山田太郎")
    answered = receive(people, yamada)
    PatientRequest.objects.filter(pk=answered.pk).update(
        state=PatientRequest.State.REJECTED, replied_on=timezone.localdate()
    )
    still_open = receive(people, yamada)
    client = client_as("group_manager")
    url = reverse("consents:patient_request_list")
    open_rows = rows(client.get(url, {"state": "open", "q": "山田"}).content.decode())
    closed_rows = rows(client.get(url, {"state": "closed", "q": "山田"}).content.decode())
    assert f"#{still_open.pk}<" in open_rows and f"#{answered.pk}<" not in open_rows
    assert f"#{answered.pk}<" in closed_rows and f"#{still_open.pk}<" not in closed_rows


def test_the_list_pages_and_a_bad_sort_is_ignored(demo, people, client_as):
    first = receive(people, Patient.objects.get(name="山田太郎"))
    copies = []
    for _ in range(PATIENT_REQUESTS_PER_PAGE + 2):
        row = copy.copy(first)
        row.pk = None
        copies.append(row)
    PatientRequest.objects.bulk_create(copies)
    client = client_as("group_manager")
    url = reverse("consents:patient_request_list")
    page1 = client.get(url, {"q": "山田"}).content.decode()
    assert rows(page1).count("<tr>") == PATIENT_REQUESTS_PER_PAGE and "page=2" in page1
    page2 = client.get(url, {"q": "山田", "page": 2}).content.decode()
    assert rows(page2).count("<tr>") == 3
    for bad in ("patient__name", "-pk;", "x" * 300):
        response = client.get(url, {"q": "山田", "sort": bad})
        assert response.status_code == 200
        assert rows(response.content.decode()).count("<tr>") == PATIENT_REQUESTS_PER_PAGE
