"""Notifications: inbox rows, e-mail by a real Celery worker, never twice."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem

from mcnet import notifications, tasks
from mcnet.models import Notification
from mcnet.notifications import MAIL_BATCH_SIZE, Message, notify, send_notifications
from mcnet.tasks import deliver_notification_emails
from tests.worker import wait_for


def test_notify_creates_one_row_per_active_recipient(people):
    nurse, admin = people["user"], people["mcs_admin"]
    admin.is_active = False
    admin.save()
    created = notify(
        recipients=[nurse, nurse, admin], kind="test", title="件名", reason="テストのため"
    )
    assert [n.recipient for n in created] == [nurse]


def test_dedupe_key_sends_nothing_twice(people):
    nurse = people["user"]
    notify(recipients=[nurse], kind="review_due", title="精査の期限です", dedupe_key="g1:2026-11")
    again = notify(
        recipients=[nurse], kind="review_due", title="精査の期限です", dedupe_key="g1:2026-11"
    )
    assert again == []
    assert Notification.objects.filter(recipient=nurse, dedupe_key="g1:2026-11").count() == 1


def test_mail_is_queued_only_after_commit(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[people["user"]], kind="test", title="件名")
    assert len(callbacks) == 1


def test_delivery_task_sends_once(people):
    [notification] = notify(
        recipients=[people["user"]],
        kind="facilities.role_appointed",  # a title of staff and facility names only
        title="招待が届きました",
        body="本文",
        url="/groups/",
        reason="あなたが招待されたため",
    )
    assert deliver_notification_emails([notification.pk]) == 1
    assert deliver_notification_emails([notification.pk]) == 0
    [message] = mail.outbox
    assert message.to == ["nurse@takada.example.jp"]
    assert message.subject == "[MC ネット] 招待が届きました"
    assert "あなたが招待されたため" in message.body


def test_inbox_shows_why_and_marks_read(client_as, people):
    Notification.objects.filter(recipient=people["user"]).delete()  # the demo's own
    notify(recipients=[people["user"]], kind="test", title="お知らせA", reason="理由A")
    client = client_as("user")
    home = client.get("/").content.decode()
    assert "未読 1 件" in home
    page = client.get("/inbox/").content.decode()
    assert "お知らせA" in page and "理由A" in page
    assert "未読 1 件" not in page  # the header's count, read with the user, follows the marking
    assert not Notification.objects.filter(recipient=people["user"], read_at=None).exists()


def test_inbox_shows_only_ones_own(client_as, people):
    notify(recipients=[people["mcs_admin"]], kind="test", title="管理者だけの通知")
    assert "管理者だけの通知" not in client_as("user").get("/inbox/").content.decode()


def test_a_real_worker_delivers_the_mail(celery_worker, people):
    from django.db import transaction

    with transaction.atomic():
        [notification] = notify(
            recipients=[people["user"]], kind="test", title="ワーカーからの通知"
        )
    wait_for(
        lambda: Notification.objects.get(pk=notification.pk).emailed_at,
        timeout=60,
        what=f"the worker to send the mail\n{celery_worker.log()}",
    )
    sent = "".join(p.read_text() for p in celery_worker.mail_dir.iterdir())
    assert "nurse@takada.example.jp" in sent


# --- many at once (100,000 reminders): send_notifications and the batch mail task ---------


def test_send_notifications_skips_keys_sent_and_inactive_users_across_batches(
    people, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(notifications, "BATCH_SIZE", 3)
    nurse, admin, doctor = people["user"], people["mcs_admin"], people["other_facility_user"]
    doctor.is_active = False
    doctor.save()
    notify(recipients=[nurse], kind="test.many", title="前回", dedupe_key="k1")
    messages = [
        Message(recipient_id=nurse.pk, kind="test.many", title="一", dedupe_key="k1"),  # sent
        Message(recipient_id=admin.pk, kind="test.many", title="二", dedupe_key="k1"),
        Message(recipient_id=doctor.pk, kind="test.many", title="三", dedupe_key="k2"),  # gone
        Message(recipient_id=nurse.pk, kind="test.many", title="四", dedupe_key="k2"),
        Message(recipient_id=nurse.pk, kind="test.many", title="五", dedupe_key="k2"),  # again
        Message(recipient_id=admin.pk, kind="test.other", title="六"),  # no key
        Message(recipient_id=admin.pk, kind="test.other", title="七"),  # no key: both go
    ]
    with django_assert_max_num_queries(3 * 3):  # 3 batches: users, keys sent, insert
        sent = send_notifications(messages)
    assert sent == {"test.many": 2, "test.other": 2}
    rows = set(
        Notification.objects.filter(kind__startswith="test.").values_list(
            "recipient__email", "title", "dedupe_key"
        )
    )
    assert rows == {
        (nurse.email, "前回", "k1"),
        (admin.email, "二", "k1"),
        (nurse.email, "四", "k2"),
        (admin.email, "六", ""),
        (admin.email, "七", ""),
    }
    assert send_notifications(messages[:5]) == {}


def test_a_concurrent_run_is_stopped_by_the_constraint_and_not_counted(people, monkeypatch):
    """Another run sent the pair between the check and the insert: the unique constraint
    skips it, and it is neither counted nor mailed again."""
    nurse, admin = people["user"], people["mcs_admin"]
    notify(recipients=[nurse], kind="test.race", title="先に送信", dedupe_key="race")
    monkeypatch.setattr(notifications, "_sent_by_key", lambda pairs: {})  # the check missed it
    queued = []
    monkeypatch.setattr(notifications, "enqueue_on_commit", lambda task, ids: queued.extend(ids))
    sent = send_notifications(
        [
            Message(recipient_id=nurse.pk, kind="test.race", title="後から", dedupe_key="race"),
            Message(recipient_id=admin.pk, kind="test.race", title="後から", dedupe_key="race"),
        ]
    )
    assert sent == {"test.race": 1}
    admins_row = Notification.objects.get(recipient=admin, dedupe_key="race")
    assert queued == [admins_row.pk]
    assert Notification.objects.get(recipient=nurse, dedupe_key="race").title == "先に送信"


def test_mail_is_queued_in_batches_after_commit(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_notifications(
            Message(recipient_id=people["user"].pk, kind="test.batch", title=f"通知{i}")
            for i in range(MAIL_BATCH_SIZE + 1)
        )
    assert len(callbacks) == 2  # MAIL_BATCH_SIZE ids, then one


def test_batch_mail_task_mails_each_notification_once_even_if_run_twice(people):
    created = notify(
        recipients=[people["user"], people["mcs_admin"]],
        kind="devices.check_overdue",
        title="まとめて送る通知",
        body="本文",
        url="/groups/",
        reason="テストのため",
    )
    ids = [n.pk for n in created]
    assert deliver_notification_emails(ids) == 2
    assert deliver_notification_emails(ids) == 0  # delivered again: nothing more
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["user"].email, people["mcs_admin"].email]
    )
    message = mail.outbox[0]
    assert message.subject == "[MC ネット] まとめて送る通知"
    assert "テストのため" in message.body and "/groups/" in message.body
    assert not Notification.objects.filter(pk__in=ids, emailed_at=None).exists()


def test_batch_mail_task_keeps_what_it_mailed_when_the_server_fails_half_way(people, monkeypatch):
    created = notify(
        recipients=[people["user"], people["mcs_admin"], people["other_mcs_admin"]],
        kind="test",
        title="途中で失敗",
    )
    ids = sorted(n.pk for n in created)

    class Flaky(locmem.EmailBackend):
        def send_messages(self, messages):
            if len(mail.outbox) == 1:
                raise smtplib.SMTPServerDisconnected("切断")
            return super().send_messages(messages)

    monkeypatch.setattr(tasks, "get_connection", lambda: Flaky())
    with pytest.raises(smtplib.SMTPServerDisconnected):  # called directly: retry re-raises
        deliver_notification_emails(ids)
    assert list(
        Notification.objects.filter(pk__in=ids, emailed_at__isnull=False).values_list(
            "pk", flat=True
        )
    ) == [ids[0]]
    monkeypatch.undo()
    assert deliver_notification_emails(ids) == 2  # the retry: only the rest
    assert len(mail.outbox) == 3


def test_notify_costs_a_few_queries_however_many_recipients(people, django_assert_max_num_queries):
    recipients = list(people.values())
    with django_assert_max_num_queries(3):
        created = notify(recipients=recipients, kind="test", title="全員へ", dedupe_key="all")
    assert {n.recipient for n in created} == {p for p in recipients if p.is_active}


def test_any_text_survives_the_set_based_insert(people):
    """The insert passes columns as arrays on PostgreSQL: quotes, braces, backslashes, commas,
    NULL spelled out and empty strings come back as written."""
    texts = ['"引用"', "{波括弧}", "バック\\スラッシュ", "a,b", "NULL", "", "改行\nあり", "'"]
    send_notifications(
        Message(
            recipient_id=people["user"].pk,
            kind="test.text",
            title=text or "空",
            body=text,
            url=text,
            reason=text,
            dedupe_key=f"text:{i}" if text else "",
        )
        for i, text in enumerate(texts)
    )
    rows = Notification.objects.filter(kind="test.text").values_list("body", "url", "reason")
    assert sorted(rows) == sorted((t, t, t) for t in texts)


# --- mails never carry a patient's details (別紙5 (2)) -----------------------------------------


def test_a_mail_names_no_group_and_carries_no_body(people):
    """A notification about a patient group is mailed as a neutral notice with its link; the
    group's name (the patient's) and the body are read after login only."""
    created = notify(
        recipients=[people["user"]],
        kind="groups.invitation",
        title="「山田太郎さんのグループ」への招待",
        body="春日野一郎 さんから「山田太郎さんのグループ」に招待されました。",
        url="/groups/7/invitation/",
        reason="あなたが招待されたため",
    )
    unknown = notify(
        recipients=[people["user"]], kind="newapp.anything", title="山田太郎さんの件", body="本文"
    )
    deliver_notification_emails([n.pk for n in created + unknown])
    invitation, other = sorted(mail.outbox, key=lambda m: "招待" not in m.subject)
    assert invitation.subject == "[MC ネット] 連携グループへの招待があります"
    assert "/groups/7/invitation/" in invitation.body
    assert other.subject == "[MC ネット] 新しい通知があります"  # a kind nobody vetted: neutral
    for message in mail.outbox:
        assert "山田" not in message.subject + message.body
        assert "本文" not in message.body
