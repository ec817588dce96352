"""The patient list is searched, sorted by a whitelisted order and paged without a count
(留意事項 2: a facility's patients are found without scrolling the whole network)."""

from django.urls import reverse

from consents.models import Patient
from consents.views import PATIENTS_PER_PAGE


def rows(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0]


def add_patients(facility, n: int) -> None:
    Patient.objects.bulk_create(
        Patient(facility=facility, name=f"頁試験{i:03d}", kana=f"ぺーじしけん{i:03d}")
        for i in range(n)
    )


def test_search_finds_by_name_and_kana(demo, client_as):
    client = client_as("group_manager")
    by_name = rows(client.get(reverse("consents:patient_list"), {"q": "山田"}).content.decode())
    assert "山田太郎" in by_name and "上越花子" not in by_name
    by_kana = rows(client.get(reverse("consents:patient_list"), {"q": "ヤマダ"}).content.decode())
    assert "山田太郎" in by_kana and "上越花子" not in by_kana


def test_the_list_pages(demo, client_as):
    add_patients(demo["kasugano"], PATIENTS_PER_PAGE + 3)
    client = client_as("group_manager")
    first = client.get(reverse("consents:patient_list"), {"q": "頁試験"}).content.decode()
    assert rows(first).count("頁試験") == PATIENTS_PER_PAGE
    last = f"頁試験{PATIENTS_PER_PAGE + 2:03d}"
    assert "頁試験000" in rows(first) and last not in rows(first)
    assert "page=2" in first and "q=%E9%A0%81" in first  # the pager keeps the search
    second = client.get(
        reverse("consents:patient_list"), {"q": "頁試験", "page": 2}
    ).content.decode()
    assert rows(second).count("頁試験") == 3 and last in rows(second)
    assert "頁試験000" not in rows(second)


def test_sort_orders_and_a_bad_sort_is_ignored(demo, client_as):
    add_patients(demo["kasugano"], 3)
    client = client_as("group_manager")
    url = reverse("consents:patient_list")
    reverse_kana = rows(client.get(url, {"q": "頁試験", "sort": "-kana"}).content.decode())
    assert reverse_kana.index("頁試験002") < reverse_kana.index("頁試験000")
    for bad in ("password", "-facility__name", "name;drop", ""):
        page = client.get(url, {"q": "頁試験", "sort": bad})
        assert page.status_code == 200
        body = rows(page.content.decode())
        assert body.index("頁試験000") < body.index("頁試験002")


def test_a_bad_page_number_shows_the_first_page(demo, client_as):
    page = client_as("group_manager").get(reverse("consents:patient_list"), {"page": "x'"})
    assert page.status_code == 200 and "山田太郎" in rows(page.content.decode())
