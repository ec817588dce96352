"""The dashboard's figures come from the cache, a few minutes old at most, and the page says when
they were computed (集計時刻); what waits for the center is counted on every view, so a clerk's
own action shows at once. Without the cache: tests/load/test_cache_unreachable.py."""

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from enrollment import services as enrollment_services
from mcnet.dashboard import selectors
from tests import factories as f

URL = reverse("dashboard:index")


def test_the_page_says_when_its_figures_were_computed(center_client):
    computed = timezone.now().replace(microsecond=0)
    with time_machine.travel(computed, tick=False):
        center_client.get(URL)
    with time_machine.travel(computed + dt.timedelta(minutes=2), tick=False):
        response = center_client.get(URL)
    assert response.context["d"].now == computed
    local = timezone.localtime(computed)
    shown = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    assert f'集計時刻: <time datetime="{local.isoformat()}">{shown}</time>' in (
        response.content.decode()
    )


def test_the_figures_are_kept_until_they_are_computed_again(center_client):
    f.row_facility()
    first = center_client.get(URL).context["d"]
    f.row_facility()
    kept = center_client.get(URL).context["d"]
    assert kept.facilities.total == first.facilities.total == 1
    assert kept.now == first.now
    selectors.forget_figures()
    assert center_client.get(URL).context["d"].facilities.total == 2


def test_an_application_the_clerk_has_decided_no_longer_waits(center, center_client):
    application = f.row_application()
    before = center_client.get(URL).context["d"]
    assert before.work.applications == 1
    enrollment_services.application_reject(
        actor=center, application=application, reason="記載に不備があります"
    )
    after = center_client.get(URL)
    d = after.context["d"]
    assert d.now == before.now  # the figures still come from the cache …
    assert d.work.applications == 0 and d.work.total == 0  # … the queue does not
    assert "センターの対応を待っているものはありません。" in after.content.decode()


def test_a_facility_given_its_mcs_administrator_no_longer_waits(center_client):
    facility = f.row_facility()
    assert center_client.get(URL).context["d"].work.no_mcs_admin == 1
    f.row_role(f.row_staff(facility), facility)
    assert center_client.get(URL).context["d"].work.no_mcs_admin == 0
    f.row_role(f.row_staff(facility), facility)
    assert center_client.get(URL).context["d"].work.several_mcs_admins == 1
