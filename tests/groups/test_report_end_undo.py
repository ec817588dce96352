"""留意事項 3: an end-of-care report sent by mistake is withdrawn within a day, before archiving;
the report page says beforehand what will happen."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.models import Group
from mcnet.models import AuditEvent, Notification
from tests.demo_objects import yamada_group

State = Group.State


def test_the_report_page_spells_out_what_will_happen(demo, client_as):
    html = client_as("group_manager").get(reverse("groups:report_end", args=[yamada_group().pk]))
    html = html.content.decode()
    assert "報告すると、次のようになります" in html
    assert "まだ返事のない招待は取り消されます" in html
    assert "1日以内でアーカイブされる前なら、グループのページで取り消せます" in html


def test_the_manager_undoes_a_report_within_a_day(demo, people, client_as):
    yamada = yamada_group()
    client = client_as("group_manager")
    client.post(reverse("groups:report_end", args=[yamada.pk]), {"reason": "moved"})
    detail = client.get(reverse("groups:detail", args=[yamada.pk])).content.decode()
    undo_url = reverse("groups:report_end_undo", args=[yamada.pk])
    assert f'action="{undo_url}"' in detail and "利用終了の報告を取り消す" in detail
    # Reported 23 hours ago (the session itself would have timed out meanwhile, 第11条).
    Group.objects.filter(pk=yamada.pk).update(
        end_reported_at=timezone.now() - dt.timedelta(hours=23)
    )
    response = client.post(undo_url, follow=True)
    assert "利用終了の報告を取り消しました" in response.content.decode()
    yamada.refresh_from_db()
    assert (yamada.state, yamada.end_reason, yamada.end_reported_at) == (State.ACTIVE, "", None)
    assert AuditEvent.objects.filter(
        action="group.report_end_undo", object_id=str(yamada.pk), actor=people["group_manager"]
    ).exists()
    told = Notification.objects.get(kind="groups.end_report_undone")
    assert told.recipient == people["group_manager"]  # 春日野's MCS administrator in the demo
    assert "山田" not in told.title + told.body  # the label, never the patient's name
    # Active again: the manager may report again, and the page no longer offers the undo.
    detail = client.get(reverse("groups:detail", args=[yamada.pk])).content.decode()
    assert undo_url not in detail


def test_after_a_day_the_report_stands(demo, people, client_as):
    yamada = yamada_group()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="moved")
    Group.objects.filter(pk=yamada.pk).update(
        end_reported_at=timezone.now() - dt.timedelta(days=1, minutes=1)
    )
    client = client_as("group_manager")
    detail = client.get(reverse("groups:detail", args=[yamada.pk])).content.decode()
    assert "利用終了の報告を取り消す" not in detail
    response = client.post(reverse("groups:report_end_undo", args=[yamada.pk]), follow=True)
    assert "報告から1日以内で、アーカイブ前に限ります" in response.content.decode()
    yamada.refresh_from_db()
    assert yamada.state == State.TO_BE_ARCHIVED


def test_an_archived_group_or_a_withdrawn_consent_cannot_be_undone(demo, people):
    yamada = yamada_group()
    manager = people["group_manager"]
    services.group_report_end(actor=manager, group=yamada, reason="moved")
    Group.objects.filter(pk=yamada.pk).update(end_reason="consent_withdrawn")
    with pytest.raises(ValidationError):
        services.group_report_end_undo(actor=manager, group=yamada)
    Group.objects.filter(pk=yamada.pk).update(
        end_reason="moved", state=State.ARCHIVED, archived_at=timezone.now()
    )
    with pytest.raises(ValidationError):
        services.group_report_end_undo(actor=manager, group=yamada)


@pytest.mark.parametrize("role", ["user", "other_facility_user", "mcs_admin", "center"])
def test_only_the_manager_undoes(demo, people, role):
    yamada = yamada_group()
    services.group_report_end(actor=people["group_manager"], group=yamada, reason="moved")
    with pytest.raises(PermissionDenied):
        services.group_report_end_undo(actor=people[role], group=yamada)
    yamada.refresh_from_db()
    assert yamada.state == State.TO_BE_ARCHIVED
