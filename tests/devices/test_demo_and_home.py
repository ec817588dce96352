"""The demo's devices part, the home page section and the navigation entry."""

from django.urls import reverse

from devices.models import Device, IncidentReport, LossReport, TakeoutRequest
from mcnet.demo import load_demo


def test_the_demo_has_what_the_issue_asks_at_takada(demo):
    takada = demo["takada"]
    devices = Device.objects.filter(facility=takada)
    assert devices.filter(ownership=Device.Ownership.PERSONAL).count() == 1
    assert devices.filter(ownership=Device.Ownership.FACILITY).count() >= 2
    assert TakeoutRequest.objects.filter(facility=takada, state="approved").count() == 1
    assert TakeoutRequest.objects.filter(facility=takada, state="pending").count() == 1
    loss = LossReport.objects.get(facility=takada)
    assert loss.state == "reported" and loss.device.state == Device.State.LOST
    assert IncidentReport.objects.filter(facility=takada, escalated_at__isnull=False).count() == 1


def test_loading_the_demo_twice_changes_nothing(demo):
    counts = [m.objects.count() for m in (Device, TakeoutRequest, LossReport, IncidentReport)]
    load_demo()
    assert [
        m.objects.count() for m in (Device, TakeoutRequest, LossReport, IncidentReport)
    ] == counts


def test_the_home_page_shows_each_role_its_part(client_as):
    nurse = client_as("user").get("/").content.decode()
    assert reverse("devices:takeout_create") in nurse and reverse("devices:loss_create") in nurse
    assert "承認待ち 1 件・持ち出し中 1 件" in nurse
    admin = client_as("mcs_admin").get("/").content.decode()
    assert "承認待ちの持ち出し・BYOD届 1 件" in admin
    assert "対応中の紛失・盗難報告 1 件" in admin
    assert "チェックリストの確認期限を過ぎたIT機器 1 台" in admin
    center = client_as("center").get("/").content.decode()
    assert "センターへ報告された未完了の異常・不正アクセス報告: 1 件" in center
    assert reverse("devices:loss_create") not in center


def test_the_menu_entry(client_as):
    assert f'href="{reverse("devices:index")}"' in client_as("user").get("/").content.decode()
    center = client_as("center").get("/").content.decode()
    assert f'href="{reverse("devices:center_overview")}"' in center


def test_the_hub_lists_only_ones_own(client_as):
    nurse = client_as("user").get(reverse("devices:index")).content.decode()
    assert "訪問用スマホ2号" in nurse  # her loss report
    other = client_as("other_facility_user").get(reverse("devices:index")).content.decode()
    assert "訪問用スマホ2号" not in other and "届出はありません" in other
