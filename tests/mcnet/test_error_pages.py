"""Refused or missing pages in production (DEBUG off): Japanese, in the base layout with the
menu, a way back and whom to call; a stale link from one's own notification says what
happened (for example: the group was archived on …), naming no patient (別紙5 (2))."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from groups import services as group_services
from mcnet.models import NetworkSettings
from tests.demo_objects import YAMADA_DOB_TEXTS, shown, yamada_group

MENU = 'aria-label="メインメニュー"'


def test_a_missing_page_is_japanese_with_the_menu(client_as):
    page = client_as("user").get("/no-such-page/")
    assert page.status_code == 404
    body = page.content.decode()
    assert "ページが見つかりません" in body and "Not Found" not in body
    assert MENU in body and reverse("groups:list") in body  # the signed-in menu
    assert "ホームへ戻る" in body and "TEL" in body


def test_a_missing_page_for_a_stranger_offers_the_login(db, client):
    body = client.get("/no-such-page/").content.decode()
    assert "ページが見つかりません" in body and reverse("account_login") in body


@pytest.mark.urls("tests.mcnet.error_urls")
def test_refused_bad_and_broken_pages_are_japanese(client_as, people):
    client = client_as("user")
    refused = client.get("/__test__/refused/")
    assert refused.status_code == 403 and "この操作はできません" in refused.content.decode()
    assert MENU in refused.content.decode()
    bad = client.get("/__test__/bad/")
    assert bad.status_code == 400 and "リクエストを処理できませんでした" in bad.content.decode()
    client.raise_request_exception = False
    broken = client.get("/__test__/broken/")
    assert broken.status_code == 500
    body = broken.content.decode()
    assert "システムエラーが発生しました" in body and "boom" not in body and "Traceback" not in body


def test_a_form_refused_by_csrf_is_explained_in_japanese(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "x@example.jp", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "送信を受け付けられませんでした" in body and "CSRF" not in body


def test_an_old_archive_link_says_the_group_was_archived_and_names_no_patient(
    demo, people, client_as
):
    group = yamada_group()
    manager = people["group_manager"]  # also 春日野's MCS administrator: told to archive
    group_services.group_report_end(actor=manager, group=group, reason="death")
    url = reverse("groups:archive_group", args=[group.pk])
    assert manager.notifications.filter(url=url).exists()
    group_services.group_archive(actor=manager, group=group)
    group.refresh_from_db()

    response = client_as("group_manager").get(url)
    assert response.status_code == 404
    body = response.content.decode()
    assert "この通知の手続きは終わっています" in body
    assert f"患者グループ No.{group.pk}" in body and "アーカイブされました" in body
    assert f"{group.archived_at.astimezone().year}年" in body
    for text in ("ヤマダ", *YAMADA_DOB_TEXTS):
        assert not shown(text, body)

    # Someone never sent that link learns nothing about the group.
    other = client_as("other_mcs_admin").get(url).content.decode()
    assert "ページが見つかりません" in other and f"No.{group.pk}" not in other


def test_an_invitation_already_answered_says_so(demo, people, client_as):
    from tests.demo_objects import membership

    group = yamada_group()
    admin = people["mcs_admin"]  # 高田's MCS administrator, invited by the demo
    group_services.group_invitation_accept(actor=admin, membership=membership(group, admin.email))
    url = reverse("groups:invitation", args=[group.pk])
    assert admin.notifications.filter(url=url).exists()
    body = client_as("mcs_admin").get(url).content.decode()
    assert "すでに受理で回答しています" in body


@pytest.mark.urls("tests.mcnet.error_urls")
def test_the_500_page_is_drawn_even_when_the_database_is_gone(client_as, monkeypatch):
    client = client_as("user")
    client.raise_request_exception = False

    def gone(*args, **kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(NetworkSettings, "load", classmethod(gone))
    response = client.get("/__test__/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "システムエラーが発生しました" in body and "went away" not in body
