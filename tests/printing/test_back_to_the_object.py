"""The consent's 別紙7 is printed from the patient's page with one clear button, and the
document's page leads back to the patient, never to another site."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from mcnet.models import GeneratedDocument

LABEL = "同意書（別紙7）を印刷する（事業所控え・本人控え）"


def test_the_patient_page_prints_the_consent_and_comes_back(client_as, published, yamada_consent):
    client = client_as("group_manager")
    patient_url = reverse("consents:patient_detail", args=[yamada_consent.patient_id])
    page = client.get(patient_url).content.decode()
    action = reverse("printing:request_for", args=["besshi7", yamada_consent.pk])
    assert f'action="{action}"' in page and LABEL in page
    assert f'name="back" value="{patient_url}"' in page

    response = client.post(action, {"model": "consents.Consent", "back": patient_url})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    document = GeneratedDocument.objects.get(pk=int(location.path.rstrip("/").split("/")[-1]))
    assert parse_qs(location.query)["back"] == [patient_url]
    detail = client.get(response.headers["Location"]).content.decode()
    assert f'href="{patient_url}"' in detail and "元のページに戻る" in detail
    assert document.title.endswith("の同意）")


@pytest.mark.parametrize(
    "back", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "groups/"]
)
def test_back_goes_only_to_a_page_of_this_site(client_as, published, yamada_consent, back):
    client = client_as("group_manager")
    action = reverse("printing:request_for", args=["besshi7", yamada_consent.pk])
    response = client.post(action, {"model": "consents.Consent", "back": back})
    assert response.status_code == 302 and "?" not in response.headers["Location"]
    document = GeneratedDocument.objects.latest("pk")
    detail = client.get(
        reverse("printing:detail", args=[document.pk]), {"back": back}
    ).content.decode()
    # (The language form's hidden `next` repeats the query: only links matter here.)
    assert f'href="{back}"' not in detail and "元のページに戻る" not in detail


def test_a_member_who_does_not_manage_the_consent_sees_no_print_button(client_as, yamada_consent):
    page = client_as("user").get(
        reverse("consents:patient_detail", args=[yamada_consent.patient_id])
    )
    assert LABEL not in page.content.decode()
