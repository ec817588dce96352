"""別紙4: additions and deletions, or the facility stops; the center confirms."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrollment import services
from enrollment.models import ChangeNotice, ChangeRow
from facilities.models import Facility, FacilityMembership, Invitation, User
from groups.models import Group, Membership
from mcnet.models import AuditEvent, Notification

from .test_applications import PNG


def rows_data(rows, **header):
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "200",
        "signer_name": "高田次郎",
        "submit": "1",
        **header,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"form-{index}-{key}"] = "on" if value is True else value
    return data


CHANGES = [
    {
        "action": "add",
        "kana": "たかだ さぶろう",
        "name": "高田三郎",
        "occupation": "physical_therapist",
        "email": "saburo@takada.example.jp",
    },
    {"action": "delete", "name": "高田看子", "email": "nurse@takada.example.jp"},
]


def url(name, facility):
    return reverse(f"enrollment:{name}", kwargs={"facility_id": facility.pk})


def test_the_facility_files_additions_and_deletions(client_as, takada):
    client = client_as("mcs_admin")
    assert client.get(url("notice_new", takada)).status_code == 200
    scan = SimpleUploadedFile("besshi4.png", PNG)
    response = client.post(url("notice_new", takada), {**rows_data(CHANGES), "scan": scan})
    assert response.status_code == 302
    notice = ChangeNotice.objects.get(rows__email="saburo@takada.example.jp")
    assert notice.kind == ChangeNotice.Kind.CHANGE and notice.signer_name == "高田次郎"
    assert list(notice.rows.values_list("row_number", "action", "kana", "email")) == [
        (1, "add", "タカダ サブロウ", "saburo@takada.example.jp"),
        (2, "delete", "", "nurse@takada.example.jp"),
    ]
    assert notice.scan.name.endswith("/scan.png")
    assert Notification.objects.filter(
        kind="enrollment.notice_submitted", recipient__email="center@example.jp"
    ).exists()
    detail = client.get(reverse("enrollment:notice_detail", args=[notice.pk]))
    assert "高田三郎" in detail.content.decode()
    scan_response = client.get(reverse("enrollment:notice_scan", args=[notice.pk]))
    assert b"".join(scan_response.streaming_content) == PNG
    # Another facility's administrator sees neither the notice nor its scan.
    other = client_as("other_mcs_admin")
    assert other.get(reverse("enrollment:notice_detail", args=[notice.pk])).status_code == 404
    assert other.get(reverse("enrollment:notice_scan", args=[notice.pk])).status_code == 404


@pytest.mark.parametrize(
    "role", ["user", "other_facility_user", "other_mcs_admin", "group_manager", "center"]
)
def test_no_one_else_files_for_takada(client_as, takada, role):
    client = client_as(role)
    before = ChangeNotice.objects.count()
    assert client.get(url("notice_new", takada)).status_code == 404
    assert client.post(url("notice_new", takada), rows_data(CHANGES)).status_code == 404
    stop = {"signer_name": "x", "reason": "閉所", "confirm": "on"}
    assert client.post(url("notice_stop", takada), stop).status_code == 404
    assert ChangeNotice.objects.count() == before
    assert Facility.objects.get(pk=takada.pk).state == Facility.State.ACTIVE


def test_invalid_rows_are_named_and_nothing_is_saved(client_as, takada):
    client = client_as("mcs_admin")
    rows = [CHANGES[0], {"action": "delete", "email": "doctor@abc.example.jp"}]
    response = client.post(url("notice_new", takada), rows_data(rows))
    assert response.status_code == 400
    assert (
        "2行目・メールアドレス: doctor@abc.example.jp の方はこの事業所の利用者として登録されていません。"
        in (response.content.decode())
    )
    assert not ChangeRow.objects.filter(email="saburo@takada.example.jp").exists()


def test_the_center_confirms_additions_are_invited_deletions_leave_every_group(
    client_as, takada, people
):
    notice = services.notice_submit(actor=people["mcs_admin"], facility=takada, rows=CHANGES)
    nurse = people["user"]
    assert Membership.objects.filter(user=nurse, state=Membership.State.ACCEPTED).exists()
    client = client_as("center")
    response = client.post(
        reverse("admin:enrollment_changenotice_changelist"),
        {"action": "confirm", "_selected_action": [notice.pk], "apply": "1"},
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.state == ChangeNotice.State.CONFIRMED
    added = notice.rows.get(action="add")
    assert added.invitation.email == "saburo@takada.example.jp"
    assert added.invitation.occupation == "physical_therapist"
    assert added.invitation.state == Invitation.State.PENDING
    nurse.refresh_from_db()
    assert nurse.state == User.State.LEFT and not nurse.is_active
    assert not FacilityMembership.objects.filter(user=nurse, is_active=True).exists()
    assert not Membership.objects.filter(user=nurse, state__in=Membership.OPEN_STATES).exists()
    assert AuditEvent.objects.filter(action="staff.deactivate", facility_id=takada.pk).exists()
    assert AuditEvent.objects.filter(
        action="enrollment.notice.confirm", object_id=str(notice.pk)
    ).exists()
    assert Notification.objects.filter(
        kind="enrollment.notice_confirmed", recipient__email="admin@takada.example.jp"
    ).exists()


def test_the_center_returns_a_notice(client_as, takada, people):
    notice = services.notice_submit(actor=people["mcs_admin"], facility=takada, rows=CHANGES[:1])
    services.notice_return(actor=people["center"], notice=notice, reason="職種を確認")
    notice.refresh_from_db()
    assert notice.state == ChangeNotice.State.RETURNED
    assert not Invitation.objects.filter(email="saburo@takada.example.jp").exists()
    with pytest.raises(Exception, match="差し戻す理由"):
        services.notice_return(actor=people["center"], notice=notice, reason=" ")


def test_only_the_facility_manager_files_to_stop(client_as, abc):
    # admin@abc is ABC's MCS administrator, not its facility manager: the page is not theirs.
    assert client_as("other_mcs_admin").get(url("notice_stop", abc)).status_code == 404
    assert client_as("other_facility_user").get(url("notice_stop", abc)).status_code == 200


def test_a_facility_stops_users_leave_and_groups_go_to_the_archive_flow(
    client_as, kasugano, people
):
    client = client_as("group_manager")  # 春日野's facility manager and care manager
    response = client.post(
        url("notice_stop", kasugano), {"signer_name": "春日野一郎", "reason": ""}
    )
    assert response.status_code == 400
    assert not ChangeNotice.objects.filter(facility=kasugano).exists()
    response = client.post(
        url("notice_stop", kasugano),
        {"signer_name": "春日野一郎", "reason": "事業所の閉鎖", "confirm": "on"},
    )
    assert response.status_code == 302
    notice = ChangeNotice.objects.get(facility=kasugano, kind=ChangeNotice.Kind.STOP)
    working = set(
        Group.objects.filter(facility=kasugano, state=Group.State.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    assert working  # the demo's groups of 春日野
    # A second stop notice while one waits is refused.
    again = client.post(
        url("notice_stop", kasugano), {"signer_name": "春日野一郎", "reason": "再", "confirm": "on"}
    )
    assert again.status_code == 400

    services.notice_confirm(actor=people["center"], notice=notice)
    kasugano.refresh_from_db()
    assert kasugano.state == Facility.State.WITHDRAWN
    cm = people["group_manager"]
    cm.refresh_from_db()
    assert cm.state == User.State.LEFT and not cm.is_active
    assert not FacilityMembership.objects.filter(facility=kasugano, is_active=True).exists()
    # Nobody of the facility is left to archive its groups (留意事項 2): the stop archives
    # them, and the members from other facilities are told why.
    states = set(Group.objects.filter(pk__in=working).values_list("state", flat=True))
    assert states == {Group.State.ARCHIVED}
    told = Notification.objects.filter(kind="groups.archived", body__contains="利用中止")
    assert told.filter(recipient=people["other_facility_user"]).exists()
    assert AuditEvent.objects.filter(
        action="group.archive", object_id__in=[str(pk) for pk in working]
    ).count() == len(working)
    assert AuditEvent.objects.filter(
        action="facility.state", object_type="facilities.facility", object_id=str(kasugano.pk)
    ).exists()
    # The facility can file nothing any more.
    assert client.get(url("notice_new", kasugano)).status_code in (302, 404)


def test_demo_load_is_idempotent(demo):
    from enrollment.models import Application, RosterRequest
    from mcnet.demo import load_demo

    counts = (
        Application.objects.count(),
        RosterRequest.objects.count(),
        ChangeNotice.objects.count(),
    )
    load_demo()
    assert (
        Application.objects.count(),
        RosterRequest.objects.count(),
        ChangeNotice.objects.count(),
    ) == counts
    assert counts == (1, 1, 1)
    assert Application.objects.get().state == "submitted"
    assert RosterRequest.objects.get().facility.name == "ABCクリニック"
