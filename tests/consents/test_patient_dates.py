"""A patient's date of birth typed in 和暦 or 西暦 (別紙7 写しの生年月日), and the 満年齢 shown next
to it, turning on the birthday."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from consents.models import Patient
from tests.consents.test_patients import form_data


@pytest.mark.parametrize(
    "typed", ["昭和17年9月3日", "S17.9.3", "１９４２／９／３", "1942年9月3日", "1942-09-03"]
)
def test_the_date_of_birth_is_typed_in_wareki_or_seireki(demo, client_as, typed):
    response = client_as("group_manager").post(
        reverse("consents:patient_create"),
        form_data(facility=demo["kasugano"].pk, birth_date=typed),
    )
    assert response.status_code == 302
    assert Patient.objects.get(name="新潟三郎").birth_date == dt.date(1942, 9, 3)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("平成31年5月1日", "平成は平成元年1月8日から平成31年4月30日までです"),
        ("昭和65年1月1日", "昭和65年1月1日という日はありません"),
        ("1950年2月30日", "2月30日という日はありません"),
        ("ついたち", "の形で入力してください"),
    ],
)
def test_an_impossible_date_of_birth_is_refused_in_japanese(demo, client_as, typed, message):
    response = client_as("group_manager").post(
        reverse("consents:patient_create"),
        form_data(facility=demo["kasugano"].pk, birth_date=typed),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.filter(name="新潟三郎").exists()


def test_the_form_is_a_text_input_that_shows_both_forms(demo, client_as):
    html = client_as("group_manager").get(reverse("consents:patient_create")).content.decode()
    assert 'type="date"' not in html
    assert 'name="birth_date"' in html and "例: 昭和17年9月3日 / 1942-09-03" in html


@pytest.mark.parametrize(("days", "age"), [(1, 79), (0, 80), (-1, 80)])
def test_the_patient_page_shows_the_age_turning_on_the_birthday(demo, client_as, days, age):
    # Born 80 years before the day `days` from today: the birthday is then tomorrow (79),
    # today or yesterday (80).
    day = timezone.localdate() + dt.timedelta(days=days)
    patient = Patient.objects.get(name="山田太郎")
    patient.birth_date = day.replace(year=day.year - 80)
    patient.save()
    html = client_as("user").get(reverse("consents:patient_detail", args=[patient.pk]))
    assert f"満{age}歳" in html.content.decode()


def test_the_patient_list_shows_the_age_beside_the_date_of_birth(demo, client_as):
    day = timezone.localdate() + dt.timedelta(days=1)
    patient = Patient.objects.get(name="山田太郎")
    patient.birth_date = day.replace(year=day.year - 90)  # 90 tomorrow
    patient.save()
    html = client_as("user").get(reverse("consents:patient_list")).content.decode()
    row = html.split(patient.name, 1)[1].split("</tr>", 1)[0]
    assert "満89歳" in row


def test_the_consent_date_is_typed_in_wareki_too(demo, client_as):
    patient = Patient.objects.get(name="山田太郎")
    html = client_as("group_manager").get(reverse("consents:consent_create", args=[patient.pk]))
    html = html.content.decode()
    assert 'name="signed_on"' in html and "例: 昭和17年9月3日 / 1942-09-03" in html
    refused = client_as("group_manager").post(
        reverse("consents:consent_create", args=[patient.pk]), {"signed_on": "令和元年4月30日"}
    )
    assert "令和は令和元年5月1日からです" in refused.content.decode()
