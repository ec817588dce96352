"""The center's admin, walked page by page as center staff: no page shows a patient's details,
and no page offers a way to grant a role, a permission or a password (別紙5 (2), 第5条).

Every registered model's list, its "add" page and the change page of each of its first rows
is opened; the bodies are searched for the demo patients' names, kana, dates of birth and
addresses, and for the form fields that would make someone a superuser or set a password.
"""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from consents.demo import PATIENTS

ROWS_PER_MODEL = 5
# Form fields the center must never be offered, on any admin page.
GRANTING_FIELDS = (
    'name="is_superuser"',
    'name="is_staff"',
    'name="user_permissions"',
    'name="groups"',
    'name="password1"',
    'name="roles-TOTAL_FORMS"',
)


def _patient_texts() -> list[str]:
    texts = []
    for name, kana, birth, _sex, address, phone, *_rest in PATIENTS:
        texts += [name, kana, f"{birth:%Y-%m-%d}", f"{birth.year}年{birth.month}月{birth.day}日"]
        texts += [address, phone]
    return texts


def _admin_pages() -> list[str]:
    pages = []
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        try:
            pages.append(reverse("admin:{}_{}_add".format(*info)))
        except NoReverseMatch:
            pass
        for pk in model._default_manager.values_list("pk", flat=True)[:ROWS_PER_MODEL]:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
    return pages


@pytest.mark.django_db
def test_no_admin_page_shows_a_patient_or_offers_a_grant_to_the_center(client_as, demo):
    client = client_as("center")
    texts = _patient_texts()
    wrong = []
    for url in _admin_pages():
        response = client.get(url)
        if response.status_code >= 500:
            wrong.append(f"{url}: status {response.status_code}")
            continue
        body = response.content.decode(errors="replace")
        leaked = [t for t in texts if t in body]
        if leaked:
            wrong.append(f"{url}: shows {leaked}")
        offered = [f for f in GRANTING_FIELDS if f in body]
        if offered:
            wrong.append(f"{url}: offers {offered}")
    assert not wrong, "\n".join(wrong)
