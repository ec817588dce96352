"""English pages read as English: dates in English (no 「2026年12月7日」), 解除 never "Lift",
and the language list names each language in itself (日本語 / English)."""

import re

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from tests.demo_objects import yamada_group

JAPANESE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_english_pages_show_english_dates(demo, client_as):
    client = english(client_as("group_manager"))
    group = yamada_group()
    page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert '<html lang="en">' in page
    assert not JAPANESE_DATE.search(page), JAPANESE_DATE.search(page).group(0)
    with translation.override("en"):
        # The page shows the network's local date (Asia/Tokyo), which is not UTC's after 15:00 UTC.
        assert date_format(timezone.localdate(group.created_at)) in page  # "December 7, 2026"
    assert re.search(
        r"(January|February|March|April|May|June|July|August|September|October"
        r"|November|December) \d{1,2}, \d{4}",
        page,
    )


def test_japanese_pages_keep_their_dates(demo, client_as):
    group = yamada_group()
    page = client_as("group_manager").get(reverse("groups:detail", args=[group.pk]))
    assert JAPANESE_DATE.search(page.content.decode())


def test_removal_is_never_lift(demo, people, client_as):
    client = english(client_as("mcs_admin"))
    page = client.get(
        reverse("groups:staff_memberships", args=[people["user"].pk])
    ).content.decode()
    assert "Remove from the group" in page
    assert "Lift" not in page and "lift" not in page
    with translation.override("en"):
        for text in ("解除する", "解除した人", "利用制限・禁止を解除する", "解除済み"):
            assert "ift" not in translation.gettext(text), text


def test_the_language_list_names_each_language_in_itself(demo, client_as):
    for language in ("ja", "en"):
        client = client_as("user")
        client.cookies["django_language"] = language
        page = client.get(reverse("home")).content.decode()
        options = re.findall(r'<option value="(\w+)" lang="\w+"[^>]*>([^<]+)</option>', page)
        assert ("ja", "日本語") in options and ("en", "English") in options, options
        assert "英語" not in page
