"""Leavers (留意事項4, 第7条(2), 第12条(10)): approvals end, lent devices are to be returned,
and the MCS administrator works through a checklist the center watches."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from devices import selectors, services
from devices.models import Device, LeaverChecklist, TakeoutRequest
from facilities import services as facility_services
from mcnet.models import AuditEvent, NetworkSettings, Notification


def approve_byod(takada, people):
    byod = TakeoutRequest.objects.get(facility=takada, kind=TakeoutRequest.Kind.BYOD)
    return services.takeout_decide(actor=people["mcs_admin"], request_obj=byod, approve=True)


def leave(people, takada, reason="退職"):
    facility_services.staff_deactivate(
        actor=people["mcs_admin"], user=people["user"], facility=takada, reason=reason
    )
    return LeaverChecklist.objects.get(facility=takada, user=people["user"])


def test_a_leavers_byod_ends_and_the_tablet_is_listed_to_return(
    client_as, people, takada, tablet, approved
):
    byod = approve_byod(takada, people)
    checklist = leave(people, takada)
    byod.refresh_from_db()
    approved.refresh_from_db()
    assert byod.state == TakeoutRequest.State.ENDED
    assert approved.state == TakeoutRequest.State.APPROVED
    assert approved.return_requested_at is not None  # flagged to return
    assert list(selectors.leaver_devices_to_return(checklist)) == [tablet]
    assert checklist.closed_at is None and checklist.reason == "退職"
    event = AuditEvent.objects.get(action="device.leaver_open", object_id=str(checklist.pk))
    assert event.changes["byod_ended"] == [byod.pk]
    assert event.changes["devices_to_return"] == [tablet.pk]
    assert Notification.objects.filter(
        kind="devices.leaver_checklist", recipient=people["mcs_admin"]
    ).exists()

    client = client_as("mcs_admin")
    page = client.get(reverse("devices:leaver_detail", args=[checklist.pk])).content.decode()
    assert "訪問用タブレット1号" in page
    assert "スタッフ解除" in page and "ご本人だけ" in page
    assert "退職後も、知り得た情報を漏えいしてはならない。" in page
    # Another facility's administrator finds nothing.
    other = client_as("other_mcs_admin")
    assert other.get(reverse("devices:leaver_detail", args=[checklist.pk])).status_code == 404


def test_devices_are_confirmed_only_once_returned_and_the_third_item_closes(
    client_as, people, takada, tablet, approved
):
    checklist = leave(people, takada)
    client = client_as("mcs_admin")
    confirm = reverse("devices:leaver_confirm", args=[checklist.pk])
    response = client.post(confirm, {"item": "devices"}, follow=True)
    assert "訪問用タブレット1号" in response.content.decode()
    assert "まだ「使用中」です" in response.content.decode()
    checklist.refresh_from_db()
    assert checklist.devices_returned_at is None

    services.device_state_change(
        actor=people["mcs_admin"],
        device=tablet,
        state=Device.State.RETURNED,
        erase_method=Device.EraseMethod.ERASE_SOFTWARE,
        erased_by="高田次郎",
    )
    client.post(confirm, {"item": "devices"})
    client.post(confirm, {"item": "mcs_released"})
    checklist.refresh_from_db()
    assert checklist.devices_returned_by == people["mcs_admin"] and checklist.closed_at is None
    approved.refresh_from_db()
    assert approved.state == TakeoutRequest.State.RETURNED
    # A second click on a confirmed item changes nothing.
    again = client.post(confirm, {"item": "mcs_released"}, follow=True)
    assert "この項目は確認済みです。" in again.content.decode()
    client.post(confirm, {"item": "duty_reminded"})
    checklist.refresh_from_db()
    assert checklist.closed_at is not None
    assert (
        AuditEvent.objects.filter(
            action="device.leaver_confirm", object_id=str(checklist.pk)
        ).count()
        == 3
    )


def test_the_center_sees_leavers_open_past_the_network_days(client_as, people, takada):
    network = NetworkSettings.load()
    network.leaver_checklist_due_days = 7
    network.save()
    checklist = leave(people, takada)
    center = client_as("center")
    url = reverse("devices:leaver_center")
    assert "高田看子" not in center.get(url).content.decode()
    LeaverChecklist.objects.filter(pk=checklist.pk).update(
        left_at=timezone.now() - dt.timedelta(days=8)
    )
    page = center.get(url).content.decode()
    assert "高田看子" in page and "高田訪問看護ステーション" in page
    assert "MCSでのスタッフ解除" in page
    # Nobody else opens the center's list.
    for role in ("mcs_admin", "other_mcs_admin", "group_manager"):
        assert client_as(role).get(url).status_code in (302, 403, 404)


@pytest.mark.parametrize("item", ["devices", "mcs_released"])
def test_only_the_facilitys_administrator_confirms(people, takada, item):
    checklist = leave(people, takada)
    with pytest.raises(Exception, match="MCS管理者"):
        services.leaver_item_confirm(
            actor=people["other_mcs_admin"], checklist=checklist, item=item
        )
