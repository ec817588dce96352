"""A double click in a real browser files one 別紙3 request (mcnet/submissions.py).

Chromium sends the form twice (the second click cancels the first navigation and posts
again); the one-time token the page carried makes the second post answered with the first
one's result.
"""

import contextlib
import time

from django.urls import reverse
from playwright.sync_api import expect

from enrollment.models import RosterRequest
from facilities.models import Facility, User
from mcnet.models import Notification

from .helpers import login_with_totp


def test_a_double_click_on_the_besshi3_request_files_it_once(demo_live, page):
    base = demo_live
    abc = Facility.objects.get(name="ABCクリニック")
    before = RosterRequest.objects.filter(facility=abc).count()
    notices_before = list(
        Notification.objects.filter(kind="enrollment.roster_submitted").values_list("pk", flat=True)
    )
    login_with_totp(page, base, User.objects.get(email="doctor@abc.example.jp"))
    page.goto(base + reverse("enrollment:roster_new", kwargs={"facility_id": abc.pk}))
    page.get_by_label("1行目 名前").fill("直江津看子")
    page.get_by_label("1行目 性別").select_option("female")
    page.get_by_label("1行目 職種").select_option("nurse")
    page.get_by_label("1行目 MCS ID（メールアドレス）").fill("kanko@abc.example.jp")
    page.get_by_label("1行目 管理者（*1）").check()
    page.get_by_label("記載されたスタッフは").check()
    # A person's double click: the second click comes while the first post is on its way.
    # The first answer is held back in the browser a moment, so that the second click lands
    # before it whatever the machine's speed (Chromium then drops the first answer).
    posted = []

    def hold_the_first_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        posted.append(route.request.url)
        if len(posted) > 1:
            return route.continue_()
        answer = route.fetch()  # the server does the first post
        time.sleep(1.0)
        with contextlib.suppress(Exception):  # the browser dropped it for the second
            route.fulfill(response=answer)
        return None

    page.route("**/roster/", hold_the_first_answer)
    page.get_by_role("button", name="センターへ提出する").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 300); }"
    )
    expect(page.locator("main")).to_contain_text("提出済み（センター登録待ち）")
    assert len(posted) == 2
    # The browser did post twice: the second post was answered with the first one's result.
    expect(page.locator("body")).to_contain_text("最初の送信の結果を表示しています")

    assert RosterRequest.objects.filter(facility=abc).count() == before + 1
    roster = RosterRequest.objects.filter(facility=abc).latest("pk")
    assert page.url.endswith(reverse("enrollment:roster_detail", args=[roster.pk]))
    # One notice to each of the center's staff: not two.
    notices = Notification.objects.filter(kind="enrollment.roster_submitted").exclude(
        pk__in=notices_before
    )
    recipients = list(notices.values_list("recipient_id", flat=True))
    assert recipients and len(recipients) == len(set(recipients))
