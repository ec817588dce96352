"""The patient list separates patients in care from those whose care has ended (留意事項 2, 3;
別紙5 (2)): an ended patient is neither shown 「有効」 nor counted as in care."""

import re

from django.urls import reverse

from consents import selectors
from groups import services as group_services
from tests.demo_objects import joetsu_group


def rows(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_an_ended_patient_moves_to_the_ended_list_and_out_of_the_count(demo, people, client_as):
    manager = people["group_manager"]
    client = client_as("group_manager")
    home = client.get(reverse("home")).content.decode()
    assert "担当している患者: 2 人" in home

    group_services.group_report_end(actor=manager, group=joetsu_group(), reason="moved")

    current = rows(client.get(reverse("consents:patient_list")).content.decode())
    assert "山田太郎" in current and "上越花子" not in current
    ended = client.get(reverse("consents:patient_list"), {"care": "ended"}).content.decode()
    assert 'aria-current="page">利用を終了した患者' in ended
    row = re.search(r"<tr>.*?上越花子.*?</tr>", rows(ended), re.S).group(0)
    assert "利用終了" in row and "有効" not in row
    assert "上越花子" not in rows(
        client.get(reverse("consents:patient_list"), {"care": "current"}).content.decode()
    )
    home = client.get(reverse("home")).content.decode()
    assert "担当している患者: 1 人" in home


def test_the_lists_stay_within_what_the_user_sees(demo, people):
    """Filtering never widens: an ended patient is listed only to whom may see them."""
    for role in ("user", "other_facility_user", "mcs_admin", "center"):
        user = people[role]
        visible = set(selectors.patients_visible_to(user).values_list("pk", flat=True))
        for care in (selectors.IN_CARE, selectors.OUT_OF_CARE):
            listed = set(selectors.patient_list_for(user, care=care).values_list("pk", flat=True))
            assert listed <= visible


def test_an_unknown_filter_shows_the_patients_in_care(demo, client_as):
    page = client_as("group_manager").get(reverse("consents:patient_list"), {"care": "<x>"})
    assert page.status_code == 200
    assert 'aria-current="page">利用中の患者' in page.content.decode()
