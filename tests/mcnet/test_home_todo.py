"""A care manager's home lists what she must do now — each with one tap to act — and her
groups; the same page at any number of groups reads the same number of queries."""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consents import services as consent_services
from groups.models import Group
from mcnet.fragments import fragments_forget
from tests.demo_objects import patient_named, yamada_group
from tests.factories import made_patient_group


def home_rendered(client):
    """Home rendered anew (a cache miss): the cached copies forgotten first."""
    fragments_forget()
    return client.get(reverse("home"))


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_the_care_managers_home_lists_her_groups_and_what_to_do(demo, people, client_as):
    yamada = yamada_group()
    Group.objects.filter(pk=yamada.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400), last_reviewed_at=None
    )
    consent_services.patient_request_receive(
        actor=people["group_manager"],
        patient=patient_named("山田太郎"),
        kind="disclosure",
        requester_kind="patient",
        requester_name="山田太郎",
        received_on=timezone.localdate(),
    )
    html = client_as("group_manager").get(reverse("home")).content.decode()
    todo = section(html, "home-todo")
    review = reverse("groups:review", args=[yamada.pk])
    assert f'<a href="{review}">「山田太郎さんのグループ」のサポーターを精査する</a>' in todo
    assert "期限切れ" in todo
    groups = section(html, "home-groups")
    assert f'href="{reverse("groups:detail", args=[yamada.pk])}"' in groups
    assert "管理者" in groups and "グループをすべて見る" in groups
    requests = section(html, "home-requests")
    assert "開示の請求に答える" in requests and "回答期限" in requests


def test_an_invitee_is_told_to_answer_with_one_tap(demo, client_as):
    html = client_as("mcs_admin").get(reverse("home")).content.decode()  # invited to 山田's
    todo = section(html, "home-todo")
    url = reverse("groups:invitation", args=[yamada_group().pk])
    assert f'<a href="{url}">「山田太郎さんのグループ」への招待に答える</a>' in todo


def test_nothing_to_do_is_said_plainly(demo, client_as):
    html = client_as("other_facility_user").get(reverse("home")).content.decode()
    assert "連携グループについて、今やることはありません。" in section(html, "home-todo")


def test_the_home_reads_as_many_queries_at_twelve_groups_as_at_two(demo, people, client_as):
    client = client_as("group_manager")
    client.get(reverse("home"))  # the session's first page reads more
    with CaptureQueriesContext(connection) as few:
        home_rendered(client)
    for i in range(10):
        made_patient_group(
            manager=people["group_manager"], facility=demo["kasugano"], name=f"妙高{i}郎"
        )
    with CaptureQueriesContext(connection) as many:
        html = home_rendered(client).content.decode()
    assert len(many) == len(few)
    shown = re.findall(r'<li><a href="/groups/\d+/">', section(html, "home-groups"))
    assert len(shown) == 10  # the rest behind 「すべて見る」


def test_a_nurse_home_stays_within_the_page_budget(demo, client_as):
    # The per-page target (make bench): at most 8 queries when rendered. A nurse who works
    # at a facility and holds no role sees the group cards and her own take-outs; each is one
    # query. Served from her cache (mcnet.pagecache), the signed-in user's one query.
    client = client_as("user")
    client.get(reverse("home"))  # the session's first page reads more
    with CaptureQueriesContext(connection) as queries:
        html = home_rendered(client).content.decode()
    assert "持ち出し" in html
    assert len([q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]) <= 8
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response["X-Page-Cache"] == "hit"
    assert len([q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]) <= 2
