"""What MCS holds, attested (MCS has no API and no export of its members): every interval
each facility's MCS administrator attests staff by staff that MCS matches the portal, and each
patient group's manager that the MCS group's members do; discrepancies are tasks on their home
page until resolved; the center sees overdue facilities and open discrepancies; an overdue
attestation reminds (frozen time)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from facilities.models import Facility, FacilityMembership, User
from groups import selectors, services
from groups.models import GroupAttestation, StaffAttestation, StaffAttestationLine
from mcnet.demo import load_demo
from mcnet.models import AuditEvent, NetworkSettings, Notification
from tests.demo_objects import DEMO_START, JOETSU_DETAILS, joetsu_group, shown, yamada_group

DAY = dt.timedelta(days=1)
START = DEMO_START
Status = StaffAttestationLine.Status


def abc() -> Facility:
    return Facility.objects.get(name="ABCクリニック")


def email(address: str) -> User:
    return User.objects.get(email=address)


def _field(address: str) -> str:
    return f"user_{email(address).pk}"


def test_the_mcs_administrator_attests_staff_by_staff(start, people, client_as):
    client = client_as("other_mcs_admin")
    url = reverse("groups:staff_attestation", args=[abc().pk])
    page = client.get(url).content.decode()
    for label in ("MCSに登録あり", "解除済み", "アカウントが残っている", "MCSに登録なし"):
        assert label in page
    assert page.count('type="radio"') == 2 * 4  # two staff, four choices, nothing preselected
    assert "checked" not in page.split("attest-heading")[1]

    # Every staff member must be answered: nothing is half-written.
    refused = client.post(url, {_field("admin@abc.example.jp"): Status.IN_MCS})
    assert "MCSでの状態を選んでください" in refused.content.decode()
    assert not StaffAttestation.objects.filter(facility=abc()).exists()

    response = client.post(
        url,
        {
            _field("admin@abc.example.jp"): Status.IN_MCS,
            _field("doctor@abc.example.jp"): "released",
        },
    )
    assert response.status_code == 302
    attestation = StaffAttestation.objects.get(facility=abc())
    assert attestation.attested_by == people["other_mcs_admin"]
    [line] = attestation.lines.filter(discrepancy=True)
    assert (line.user, line.in_portal, line.status) == (
        email("doctor@abc.example.jp"),
        True,
        "released",
    )
    event = AuditEvent.objects.get(action="attestation.staff", object_id=str(attestation.pk))
    assert event.changes == {"staff": 2, "discrepancies": [line.user_id]}

    # The discrepancy is a task on the MCS administrator's home page...
    home = client.get(reverse("home")).content.decode()
    assert "ABCクリニック: 職員登録の照合" in home and "未解消の相違 1 件" in home
    # ...until they record how it was put right.
    resolve = reverse("groups:staff_attestation_resolve", args=[abc().pk, line.pk])
    assert client.post(resolve, {"resolution": ""}).status_code == 302
    line.refresh_from_db()
    assert line.is_open  # an empty resolution is refused
    client.post(resolve, {"resolution": "MCSで再登録した"})
    line.refresh_from_db()
    assert not line.is_open and line.resolved_by == people["other_mcs_admin"]
    assert AuditEvent.objects.filter(action="attestation.staff_resolve").exists()
    assert "ABCクリニック: 職員登録の照合" not in client.get(reverse("home")).content.decode()


def test_a_leaver_is_listed_until_mcs_shows_them_released(start, people):
    admin, doctor = people["other_mcs_admin"], email("doctor@abc.example.jp")
    FacilityMembership.objects.filter(user=doctor, facility=abc()).update(is_active=False)
    assert (doctor, False) in selectors.staff_to_attest(abc())
    # The leaver is still staff in MCS: a discrepancy (スタッフ解除 is due).
    first = services.staff_attestation_record(
        actor=admin, facility=abc(), statuses={admin.pk: Status.IN_MCS, doctor.pk: Status.IN_MCS}
    )
    assert first.lines.get(user=doctor).is_open
    # An account that remains after 解除 is the leaver's to delete: still a task.
    second = services.staff_attestation_record(
        actor=admin,
        facility=abc(),
        statuses={admin.pk: Status.IN_MCS, doctor.pk: Status.ACCOUNT_REMAINS},
    )
    assert not first.lines.get(user=doctor).is_open  # superseded by the newer attestation
    assert second.lines.get(user=doctor).is_open
    services.staff_attestation_record(
        actor=admin,
        facility=abc(),
        statuses={admin.pk: Status.IN_MCS, doctor.pk: Status.NOT_IN_MCS},
    )
    assert selectors.staff_to_attest(abc()) == [(admin, True)]
    assert not selectors.open_staff_discrepancies(abc()).exists()


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "mcs_admin", "group_manager", "center"]
)
def test_only_the_facilitys_mcs_administrator_attests_its_staff(start, people, role):
    admin, doctor = people["other_mcs_admin"], email("doctor@abc.example.jp")
    with pytest.raises(PermissionDenied):
        services.staff_attestation_record(
            actor=people[role],
            facility=abc(),
            statuses={admin.pk: Status.IN_MCS, doctor.pk: Status.IN_MCS},
        )
    assert not StaffAttestation.objects.filter(facility=abc()).exists()


def test_the_manager_attests_the_mcs_groups_members(start, people, client_as):
    group = joetsu_group()
    doctor = email("doctor@abc.example.jp")
    client = client_as("group_manager")
    url = reverse("groups:attestation", args=[group.pk])
    page = client.get(url).content.decode()
    assert 'data-select-all="全員を選択"' in page and "mcnet/select_all.js" in page
    refused = client.post(url, {"present": [people["group_manager"].pk], "extra_in_mcs": "0"})
    assert "照合してから、チェックを入れてください" in refused.content.decode()
    assert not group.attestations.exists()
    client.post(
        url,
        {"present": [people["group_manager"].pk], "extra_in_mcs": "０", "confirm": "on"},
    )
    found = group.attestations.get()
    assert found.is_open and list(found.missing_in_mcs.all()) == [doctor]
    home = client.get(reverse("home")).content.decode()
    assert "上越花子さんのグループ: メンバーの照合" in home
    client.post(
        reverse("groups:attestation_resolve", args=[group.pk, found.pk]),
        {"resolution": "MCSで招待し直した"},
    )
    found.refresh_from_db()
    assert not found.is_open
    # A member's list that matches MCS is no discrepancy.
    present = [people["group_manager"].pk, doctor.pk]
    client.post(url, {"present": present, "extra_in_mcs": "0", "confirm": "on"})
    assert not group.attestations.latest("attested_at").discrepancy


def test_only_the_manager_attests_a_group(start, people):
    for role in ("user", "other_facility_user", "mcs_admin", "other_mcs_admin", "center"):
        with pytest.raises(PermissionDenied):
            services.group_attestation_record(
                actor=people[role], group=yamada_group(), present_user_ids=[], extra_in_mcs=0
            )
    with pytest.raises(ValidationError):
        services.group_attestation_record(
            actor=people["group_manager"],
            group=yamada_group(),
            present_user_ids=[people["other_mcs_admin"].pk],  # not a member
            extra_in_mcs=0,
        )


def test_the_center_sees_overdue_facilities_and_open_discrepancies_without_patients(
    start, people, client_as
):
    interval = dt.timedelta(days=NetworkSettings.load().attestation_interval_days)
    group = joetsu_group()
    services.group_attestation_record(
        actor=people["group_manager"], group=group, present_user_ids=[], extra_in_mcs=2
    )
    with time_machine.travel(START + interval + DAY, tick=False):
        page = client_as("center").get(reverse("groups:center_attestations")).content.decode()
    overdue = page.split('id="overdue-heading"')[1].split('id="open-heading"')[0]
    # ABC and 春日野 never attested since they joined; 高田 attested 30 days before START.
    assert "ABCクリニック" in overdue and "春日野居宅介護支援事業所" in overdue
    assert "高田訪問看護ステーション" in overdue
    opened = page.split('id="open-heading"')[1]
    assert f"患者グループ No.{group.pk}（春日野居宅介護支援事業所）" in opened
    assert f"患者グループ No.{yamada_group().pk}（春日野居宅介護支援事業所）" in opened
    for text in (*JOETSU_DETAILS, "山田太郎", "高田看子"):
        assert not shown(text, page)
    # Attested: the facility leaves the overdue list.
    admin, doctor = people["other_mcs_admin"], email("doctor@abc.example.jp")
    with time_machine.travel(START + interval + 2 * DAY, tick=False):
        services.staff_attestation_record(
            actor=admin, facility=abc(), statuses={admin.pk: "in_mcs", doctor.pk: "in_mcs"}
        )
        page = client_as("center").get(reverse("groups:center_attestations")).content.decode()
    assert (
        "ABCクリニック" not in page.split('id="overdue-heading"')[1].split('id="open-heading"')[0]
    )


def test_an_overdue_attestation_reminds_once_per_due_date(start, people):
    interval = dt.timedelta(days=NetworkSettings.load().attestation_interval_days)
    sent = lambda kind, **f: Notification.objects.filter(kind=kind, **f)  # noqa: E731

    def run(moment):
        with time_machine.travel(moment, tick=False):
            return services.attestation_reminders_send()

    # Before any deadline: nothing. 高田 (attested 30 days before START) is due first.
    assert run(START + interval - 31 * DAY) == {"staff": 0, "groups": 0}
    first = run(START + interval - 29 * DAY)
    assert first["staff"] == 1 and first["groups"] == 1  # 高田's admin; 山田太郎's manager
    [note] = sent("groups.staff_attestation_overdue", recipient=people["mcs_admin"])
    assert "高田訪問看護ステーション" in note.title
    assert note.url == reverse("groups:staff_attestation", args=[note.url.split("/")[-3]])
    assert run(START + interval - 28 * DAY) == {"staff": 0, "groups": 0}  # once
    # Past the facilities' own deadline: ABC's and 春日野's MCS administrators, and the
    # managers of the groups never attested.
    later = run(START + interval + DAY)
    assert later["staff"] == 2
    assert sent("groups.staff_attestation_overdue", recipient=people["other_mcs_admin"]).exists()
    assert sent("groups.group_attestation_overdue", recipient=people["group_manager"]).count() >= 2
    # Attesting moves the deadline: no reminder for ABC until the next one passes.
    admin, doctor = people["other_mcs_admin"], email("doctor@abc.example.jp")
    with time_machine.travel(START + interval + 2 * DAY, tick=False):
        services.staff_attestation_record(
            actor=admin, facility=abc(), statuses={admin.pk: "in_mcs", doctor.pk: "in_mcs"}
        )
    run(START + 2 * interval)
    assert sent("groups.staff_attestation_overdue", recipient=admin).count() == 1
    run(START + 2 * interval + 3 * DAY)
    assert sent("groups.staff_attestation_overdue", recipient=admin).count() == 2


def test_the_demo_leaves_two_open_discrepancies(start):
    assert (
        StaffAttestationLine.objects.filter(discrepancy=True, resolved_at__isnull=True).count() == 1
    )
    assert GroupAttestation.objects.filter(discrepancy=True, resolved_at__isnull=True).count() == 1
    load_demo()  # again: nothing more
    assert StaffAttestation.objects.count() == 1 and GroupAttestation.objects.count() == 1
