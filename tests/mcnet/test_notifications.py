"""Notifications: inbox rows, e-mail by a real Celery worker, never twice (issues 2 and 7)."""

from django.core import mail

from mcnet.models import Notification
from mcnet.notifications import notify
from mcnet.tasks import deliver_notification_email
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
        kind="test",
        title="招待が届きました",
        body="本文",
        url="/groups/",
        reason="あなたが招待されたため",
    )
    assert deliver_notification_email(notification.pk) == "sent"
    assert deliver_notification_email(notification.pk) == "already sent"
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
