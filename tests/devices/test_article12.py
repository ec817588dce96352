"""第12条 as written: (13) erasure on return and destruction on disposal, with who and when; the
checklist's (5), (7) and (12); (10) BYOD only on a device whose checklist is confirmed; (9) a
take-out is 「持ち出し中」 only from its start date."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from devices import selectors, services
from devices.models import CHECKLIST_FIELDS, Device, TakeoutRequest
from mcnet.models import AuditEvent

from .conftest import refresh


def state_url(device):
    return reverse("devices:device_state", args=[device.pk])


def test_returned_without_erase_software_is_refused(client_as, tablet):
    client = client_as("mcs_admin")
    for data in (
        {"state": "returned"},
        {"state": "returned", "erase_method": "physical_destruction", "erased_by": "高田"},
    ):
        page = client.post(state_url(tablet), data).content.decode()
        assert "消去ソフトでハードディスク内の情報を完全に消去したことを記録してください" in page
    no_one = client.post(state_url(tablet), {"state": "returned", "erase_method": "erase_software"})
    assert "消去・破壊を行った人（または業者）を入力してください" in no_one.content.decode()
    assert refresh(tablet).state == "in_use"

    response = client.post(
        state_url(tablet),
        {
            "state": "returned",
            "erase_method": "erase_software",
            "erased_by": "高田次郎",
            "erased_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 302
    tablet = refresh(tablet)
    assert (tablet.state, tablet.erase_method, tablet.erased_by) == (
        "returned",
        "erase_software",
        "高田次郎",
    )
    assert tablet.erased_on == timezone.localdate() - dt.timedelta(days=1)
    event = AuditEvent.objects.filter(action="device.state", object_id=str(tablet.pk)).latest("id")
    assert event.changes["erased_by"] == "高田次郎" and event.changes["to"] == "returned"


def test_disposed_with_erase_software_only_is_refused(people, tablet):
    with pytest.raises(ValidationError) as refused:
        services.device_state_change(
            actor=people["mcs_admin"],
            device=tablet,
            state="disposed",
            erase_method="erase_software",
            erased_by="高田次郎",
        )
    assert "消去ソフトでの消去だけでは廃棄できません" in " ".join(refused.value.messages)
    services.device_state_change(
        actor=people["mcs_admin"],
        device=tablet,
        state="disposed",
        erase_method="physical_destruction",
        erased_by="上越リサイクル（株）",
    )
    tablet = refresh(tablet)
    assert tablet.state == "disposed" and tablet.erased_by == "上越リサイクル（株）"
    assert tablet.erased_on == timezone.localdate()


def test_the_checklist_has_items_5_7_and_12(client_as, people, takada):
    for name in (
        "procedures_confirmed_on",
        "line_stop_considered_on",
        "trusted_network_confirmed_on",
    ):
        assert name in CHECKLIST_FIELDS
    device = services.device_register(
        actor=people["mcs_admin"],
        facility=takada,
        kind=Device.Kind.PC,
        ownership=Device.Ownership.FACILITY,
        label="受付PC",
        **{
            name: timezone.localdate()
            for name in CHECKLIST_FIELDS
            if name != "trusted_network_confirmed_on"
        },
    )
    # (12) never confirmed: the device is due.
    assert device.check_overdue(selectors.check_cutoff())
    page = client_as("mcs_admin").get(reverse("devices:device_detail", args=[device.pk]))
    html = page.content.decode()
    for label in (
        "第12条(5)",
        "緊急回線停止サービス",
        "第12条(7)",
        "街中の無線LANスポット",
        "第12条(12)",
    ):
        assert label in html
    services.device_checklist_confirm(
        actor=people["mcs_admin"], device=device, items=["trusted_network_confirmed_on"]
    )
    assert not refresh(device).check_overdue(selectors.check_cutoff())


def test_byod_is_approved_only_on_a_device_with_its_checklist_confirmed(
    client_as, people, takada, pending
):
    assert pending.kind == TakeoutRequest.Kind.BYOD
    byod = pending.device
    Device.objects.filter(pk=byod.pk).update(line_stop_considered_on=None)
    client = client_as("mcs_admin")
    response = client.post(
        reverse("devices:takeout_decide", args=[pending.pk]), {"decision": "approve"}, follow=True
    )
    assert "チェックリストに" in response.content.decode()
    assert "確認されていない項目" in response.content.decode()
    assert refresh(pending).state == "pending"

    # Not in the register at all: refused too.
    TakeoutRequest.objects.filter(pk=pending.pk).update(device=None)
    with pytest.raises(ValidationError, match="機器台帳に登録"):
        services.takeout_decide(
            actor=people["mcs_admin"], request_obj=refresh(pending), approve=True
        )

    TakeoutRequest.objects.filter(pk=pending.pk).update(device=byod)
    services.device_checklist_confirm(
        actor=people["mcs_admin"], device=byod, items=list(CHECKLIST_FIELDS)
    )
    services.takeout_decide(actor=people["mcs_admin"], request_obj=refresh(pending), approve=True)
    assert refresh(pending).state == "approved"


def test_a_take_out_is_out_only_from_its_start_date(client_as, people, takada, pending):
    services.takeout_decide(actor=people["mcs_admin"], request_obj=pending, approve=True)
    pending = refresh(pending)
    assert pending.period_start > timezone.localdate()  # the demo's starts tomorrow
    assert not pending.is_active and pending.is_scheduled
    nurse = people["user"]
    assert pending not in selectors.takeout_list(nurse, status="active")
    page = client_as("user").get(reverse("devices:takeout_detail", args=[pending.pk]))
    html = page.content.decode()
    assert "承認済み（期間開始前）" in html
    TakeoutRequest.objects.filter(pk=pending.pk).update(period_start=timezone.localdate())
    assert refresh(pending).is_active
    assert refresh(pending) in selectors.takeout_list(nurse, status="active")
