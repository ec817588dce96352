"""The device register of each facility's MCS administrator (art. 6 (2), art. 12), every role."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from devices import selectors, services
from devices.models import CHECKLIST_FIELDS, Device
from devices.views import DEVICES_PER_PAGE
from mcnet.models import AuditEvent, NetworkSettings

from .conftest import refresh


def _form(**overrides):
    data = {
        "kind": "smartphone",
        "ownership": "personal",
        "label": "看護師Bの私用iPhone",
        "assigned_user": "",
        "note": "",
    }
    data.update(overrides)
    return data


# --- registering ---------------------------------------------------------------------------------
def test_the_mcs_administrator_registers_a_byod_device(client_as, people, takada):
    client = client_as("mcs_admin")
    page = client.get(reverse("devices:device_create"))
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "起動時パスワード（英数混合8文字以上）",
        "ファイル交換ソフト",
        "ウイルス対策",
        "ブラウザにIDやパスワードを記憶させない",
        "端末にロックをかける",
        "MDM",
    ):
        assert text in html
    today = timezone.localdate()
    response = client.post(
        reverse("devices:device_create"),
        _form(
            facility=takada.pk,
            assigned_user=people["user"].pk,
            antivirus_confirmed_on=today.isoformat(),
        ),
    )
    device = Device.objects.get(label="看護師Bの私用iPhone")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("devices:device_detail", args=[device.pk])
    assert device.facility == takada
    assert device.is_byod and device.assigned_user == people["user"]
    assert device.antivirus_confirmed_on == today and device.boot_password_confirmed_on is None
    event = AuditEvent.objects.get(action="device.register", object_id=str(device.pk))
    assert event.actor == people["mcs_admin"] and event.facility_id == takada.pk


def test_the_assigned_user_must_work_at_the_facility(client_as, people, takada):
    response = client_as("mcs_admin").post(
        reverse("devices:device_create"),
        _form(facility=takada.pk, assigned_user=people["other_facility_user"].pk),
    )
    assert response.status_code == 200
    assert "使用者" in response.content.decode()
    assert not Device.objects.filter(label="看護師Bの私用iPhone").exists()
    with pytest.raises(ValidationError):
        services.device_register(
            actor=people["mcs_admin"],
            facility=takada,
            kind="pc",
            label="x",
            assigned_user=people["other_facility_user"],
        )


def test_a_future_confirmation_date_is_refused_with_the_fields_name(client_as, takada):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client_as("mcs_admin").post(
        reverse("devices:device_create"),
        _form(facility=takada.pk, screen_lock_confirmed_on=tomorrow.isoformat()),
    )
    assert response.status_code == 200
    assert "確認日に未来の日付は指定できません" in response.content.decode()
    assert not Device.objects.filter(label="看護師Bの私用iPhone").exists()


@pytest.mark.parametrize("role", ["other_mcs_admin", "group_manager"])
def test_another_facilitys_administrator_cannot_register_at_takada(client_as, people, role, takada):
    before = Device.objects.count()
    response = client_as(role).post(reverse("devices:device_create"), _form(facility=takada.pk))
    assert response.status_code == 200  # their own form, with the facility refused
    assert "所属している（またはMCS管理者を務める）事業所から選んでください" in (
        response.content.decode()
    )
    assert Device.objects.count() == before
    with pytest.raises(PermissionDenied):
        services.device_register(actor=people[role], facility=takada, kind="pc", label="x")


@pytest.mark.parametrize("role", ["user", "other_facility_user", "center"])
def test_people_without_the_role_have_no_register(client_as, role, tablet):
    client = client_as(role)
    assert client.get(reverse("devices:device_list")).status_code == 404
    assert client.get(reverse("devices:device_create")).status_code == 404
    assert client.get(reverse("devices:device_detail", args=[tablet.pk])).status_code == 404


# --- seeing and editing ----------------------------------------------------------------------------
def test_register_lists_the_facilitys_devices_only(client_as, tablet):
    html = client_as("mcs_admin").get(reverse("devices:device_list")).content.decode()
    assert "訪問用タブレット1号" in html and "高田看子の私用スマートフォン" in html
    other = client_as("other_mcs_admin").get(reverse("devices:device_list")).content.decode()
    assert "訪問用タブレット1号" not in other


@pytest.mark.parametrize("role", ["other_mcs_admin", "group_manager"])
def test_another_facilitys_administrator_gets_404_and_nothing_changes(client_as, role, tablet):
    client = client_as(role)
    for name in ("device_detail", "device_edit", "device_state"):
        assert client.get(reverse(f"devices:{name}", args=[tablet.pk])).status_code == 404
    client.post(reverse("devices:device_edit", args=[tablet.pk]), _form(label="盗った"))
    client.post(reverse("devices:device_state", args=[tablet.pk]), {"state": "returned"})
    client.post(
        reverse("devices:device_confirm", args=[tablet.pk]), {"items": list(CHECKLIST_FIELDS)}
    )
    before = Device.objects.get(pk=tablet.pk)
    assert (before.label, before.state) == ("訪問用タブレット1号", "in_use")
    assert before.antivirus_confirmed_on == tablet.antivirus_confirmed_on


def test_the_administrator_edits_a_device(client_as, people, tablet):
    response = client_as("mcs_admin").post(
        reverse("devices:device_edit", args=[tablet.pk]),
        _form(kind="tablet", ownership="facility", label="訪問用タブレットA", assigned_user=""),
    )
    assert response.status_code == 302
    tablet = refresh(tablet)
    assert tablet.label == "訪問用タブレットA" and tablet.assigned_user is None
    event = AuditEvent.objects.get(action="device.update", object_id=str(tablet.pk))
    assert "label" in event.changes["fields"] and "訪問用タブレットA" not in str(event.changes)


# --- the art. 12 checklist and its interval ----------------------------------------------------
def test_stale_checklists_are_flagged_and_filtered(client_as, takada):
    pc = Device.objects.get(facility=takada, label="事務所PC-01")
    client = client_as("mcs_admin")
    html = client.get(reverse("devices:device_list")).content.decode()
    assert "確認期限切れ" in html
    overdue_only = client.get(reverse("devices:device_list") + "?overdue=1").content.decode()
    assert "事務所PC-01" in overdue_only and "訪問用タブレット1号" not in overdue_only
    detail = client.get(reverse("devices:device_detail", args=[pc.pk])).content.decode()
    assert "確認期限切れ" in detail and "要確認" in detail


def test_the_interval_is_the_networks_setting(takada, people):
    tablet = Device.objects.get(
        facility=takada, label="訪問用タブレット1号"
    )  # confirmed 30 days ago
    assert not tablet.check_overdue(selectors.check_cutoff())
    settings_row = NetworkSettings.load()
    settings_row.device_check_interval_days = 20
    settings_row.save()
    assert tablet.check_overdue(selectors.check_cutoff())
    labels = set(
        selectors.device_list(people["mcs_admin"], overdue=True).values_list("label", flat=True)
    )
    assert "訪問用タブレット1号" in labels


def test_one_item_never_confirmed_is_enough_to_flag(people, takada):
    device = services.device_register(
        actor=people["mcs_admin"],
        facility=takada,
        kind="pc",
        label="新しいPC",
        **{name: timezone.localdate() for name in CHECKLIST_FIELDS if name != "mdm_considered_on"},
    )
    assert device.check_overdue(selectors.check_cutoff())
    assert device in selectors.device_list(people["mcs_admin"], overdue=True)


def test_confirming_items_sets_todays_date(client_as, people, takada):
    pc = Device.objects.get(facility=takada, label="事務所PC-01")
    response = client_as("mcs_admin").post(
        reverse("devices:device_confirm", args=[pc.pk]), {"items": list(CHECKLIST_FIELDS)}
    )
    assert response.status_code == 302
    pc = refresh(pc)
    assert all(getattr(pc, name) == timezone.localdate() for name in CHECKLIST_FIELDS)
    assert not pc.check_overdue(selectors.check_cutoff())
    assert AuditEvent.objects.filter(
        action="device.checklist_confirm", object_id=str(pc.pk)
    ).exists()


def test_confirming_nothing_says_so(client_as, tablet):
    response = client_as("mcs_admin").post(reverse("devices:device_confirm", args=[tablet.pk]), {})
    assert response.status_code == 400
    assert "確認した項目を1つ以上選んでください" in response.content.decode()


def test_the_confirm_action_only_accepts_post(client_as, tablet):
    assert (
        client_as("mcs_admin").get(reverse("devices:device_confirm", args=[tablet.pk])).status_code
        == 405
    )


# --- states: lost, returned, disposed (art. 12 (13)) --------------------------------------------------
def test_disposal_needs_the_erase_method(client_as, people, tablet):
    client = client_as("mcs_admin")
    url = reverse("devices:device_state", args=[tablet.pk])
    response = client.post(url, {"state": "disposed"})
    assert response.status_code == 200
    assert "ハードディスクを物理的に破壊したことを記録してください" in response.content.decode()
    assert refresh(tablet).state == "in_use"

    response = client.post(
        url,
        {
            "state": "disposed",
            "erase_method": "physical_destruction",
            "erased_by": "上越リサイクル",
        },
    )
    assert response.status_code == 302
    tablet = refresh(tablet)
    assert tablet.state == "disposed" and tablet.erase_method == "physical_destruction"
    assert tablet.erased_on == timezone.localdate()
    # Disposed is final, and the database itself refuses a disposal without a method.
    with pytest.raises(ValidationError):
        services.device_state_change(actor=people["mcs_admin"], device=tablet, state="in_use")
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.filter(pk=tablet.pk).update(erase_method="")


def test_a_returned_device_is_no_longer_flagged(people, tablet):
    services.device_state_change(
        actor=people["mcs_admin"],
        device=tablet,
        state="returned",
        erase_method="erase_software",
        erased_by="高田次郎",
    )
    tablet = refresh(tablet)
    assert tablet.state == "returned" and not tablet.check_overdue(dt.date.max)


def test_the_nurse_sees_her_own_devices_but_not_the_register(client_as):
    html = client_as("user").get(reverse("devices:index")).content.decode()
    assert "訪問用タブレット1号" in html
    assert "事務所PC-01" not in html  # not hers


# --- the register's search and paging ------------------------------------------------------------
def body(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_search_finds_by_label_and_full_width_is_normalized(client_as, tablet):
    client = client_as("mcs_admin")
    html = client.get(reverse("devices:device_list"), {"q": "ＰＣ－０１"}).content.decode()
    assert "事務所PC-01" in html and "訪問用タブレット1号" not in html


def test_the_state_filter_separates_devices_in_use_from_ended(client_as, tablet):
    Device.objects.filter(pk=tablet.pk).update(state=Device.State.RETURNED)
    client = client_as("mcs_admin")
    in_use = client.get(reverse("devices:device_list"), {"state": "in_use"}).content.decode()
    ended = client.get(reverse("devices:device_list"), {"state": "returned"}).content.decode()
    assert "訪問用タブレット1号" not in in_use and "事務所PC-01" in in_use
    assert "訪問用タブレット1号" in ended and "事務所PC-01" not in ended


def test_the_register_pages_and_keeps_the_filters(client_as, tablet):
    Device.objects.bulk_create(
        Device(facility=tablet.facility, kind=tablet.kind, label=f"頁試験{i:03d}")
        for i in range(DEVICES_PER_PAGE + 1)
    )
    client = client_as("mcs_admin")
    first = client.get(reverse("devices:device_list"), {"q": "頁試験"}).content.decode()
    assert body(first).count("頁試験") == DEVICES_PER_PAGE and "q=%E9%A0%81" in first
    second = client.get(reverse("devices:device_list"), {"q": "頁試験", "page": "2"})
    assert body(second.content.decode()).count("頁試験") == 1
    assert f"頁試験{DEVICES_PER_PAGE:03d}" in body(second.content.decode())
    assert client.get(reverse("devices:device_list"), {"page": "-1'"}).status_code == 200
