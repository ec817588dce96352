"""別紙3 on the web: rows or an uploaded sheet, checked per row; the center registers."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from enrollment import services
from enrollment.models import RosterRequest, RosterRow
from facilities import services as facility_services
from facilities.models import FacilityRole, Invitation
from mcnet.models import AuditEvent, Notification

from .conftest import SEED_CSV, seed_xlsx_bytes

REGISTERED = "一括登録を完了しました。各事業所で基本設定が可能です。"


def formset(rows, *, extra=0, **header):
    data = {
        "form-TOTAL_FORMS": str(len(rows) + extra),
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "200",
        "representative_name": "山田花子",
        "agree": "on",
        "submit": "1",
        **header,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"form-{index}-{key}"] = "on"
            elif value not in (False, None):
                data[f"form-{index}-{key}"] = value
    return data


NEW_STAFF = [
    {
        "name": "直江津一郎",
        "gender": "male",
        "occupation": "nurse",
        "email": "ｉｃｈｉｒｏ＠ａｂｃ．ｅｘａｍｐｌｅ．ｊｐ",
        "is_mcs_admin": True,
    },
    {"name": "直江津二郎", "gender": "", "occupation": "clerk", "email": "jiro@abc.example.jp"},
]


def url(name, facility):
    return reverse(f"enrollment:{name}", kwargs={"facility_id": facility.pk})


@pytest.mark.parametrize("role", ["other_facility_user", "other_mcs_admin"])
def test_the_facility_manager_and_mcs_admin_file_a_request(client_as, abc, role):
    client = client_as(role)
    page = client.get(url("roster_new", abc) + "?rows=12").content.decode()
    assert page.count('name="form-') >= 12 * 6
    assert "1行目 名前" in page and "12行目 MCS ID（メールアドレス）" in page
    response = client.post(url("roster_new", abc), formset(NEW_STAFF))
    assert response.status_code == 302
    request = RosterRequest.objects.get(rows__email="ichiro@abc.example.jp")
    assert response["Location"] == reverse("enrollment:roster_detail", args=[request.pk])
    assert request.facility == abc and request.source == "web"
    assert (
        request.submitted_by.email
        == {
            "other_facility_user": "doctor@abc.example.jp",
            "other_mcs_admin": "admin@abc.example.jp",
        }[role]
    )
    rows = list(
        request.rows.values_list("row_number", "name", "gender", "occupation", "is_mcs_admin")
    )
    assert rows == [
        (1, "直江津一郎", "male", "nurse", True),
        (2, "直江津二郎", "unspecified", "clerk", False),
    ]
    assert Notification.objects.filter(
        kind="enrollment.roster_submitted", recipient__email="center@example.jp"
    ).exists()
    assert AuditEvent.objects.filter(
        action="enrollment.roster.submit", object_id=str(request.pk)
    ).exists()
    assert client.get(reverse("enrollment:roster_detail", args=[request.pk])).status_code == 200


@pytest.mark.parametrize("role", ["user", "mcs_admin", "group_manager", "center"])
def test_nobody_else_files_for_abc_and_nothing_is_saved(client_as, abc, role):
    client = client_as(role)
    before = RosterRequest.objects.count()
    assert client.get(url("roster_new", abc)).status_code == 404
    assert client.post(url("roster_new", abc), formset(NEW_STAFF)).status_code == 404
    upload = SimpleUploadedFile("b.csv", SEED_CSV.read_bytes())
    assert client.post(url("roster_upload", abc), {"file": upload}).status_code == 404
    assert client.get(url("roster_template", abc)).status_code == 404
    assert RosterRequest.objects.count() == before
    assert not RosterRow.objects.filter(email="ichiro@abc.example.jp").exists()


def test_a_facility_cannot_file_for_another_facility(client_as, abc, takada):
    client = client_as("mcs_admin")  # 高田's administrator
    assert client.post(url("roster_new", abc), formset(NEW_STAFF)).status_code == 404
    assert client.post(url("roster_new", takada), formset(NEW_STAFF)).status_code == 302
    assert RosterRequest.objects.get(rows__email="jiro@abc.example.jp").facility == takada
    other = RosterRequest.objects.get(facility=abc)  # the demo's
    assert client.get(reverse("enrollment:roster_detail", args=[other.pk])).status_code == 404


def test_invalid_rows_are_named_and_nothing_is_saved(client_as, abc):
    client = client_as("other_facility_user")
    rows = [
        {
            "name": "山田花子",
            "gender": "female",
            "occupation": "doctor",
            "email": "abc@gmail.com",
            "is_mcs_admin": True,
        },
        {
            "name": "上越一",
            "gender": "male",
            "occupation": "nurse",
            "email": "ｘyz＠ｇmail",
            "had_mcs_account": True,
        },
    ]
    response = client.post(url("roster_new", abc), formset(rows))
    assert response.status_code == 400
    page = response.content.decode()
    assert "2行目・MCS ID（メールアドレス）: 「ｘyz＠ｇmail」を半角に直した「xyz@gmail」" in page
    assert "1行目" not in page.split('id="row-errors"')[1].split("</div>")[0]
    assert not RosterRow.objects.filter(email="abc@gmail.com").exists()
    # What was typed is kept for correction.
    assert 'value="ｘyz＠ｇmail"' in page


def test_a_duplicate_address_is_refused(client_as, abc):
    client = client_as("other_facility_user")
    rows = [NEW_STAFF[0], {**NEW_STAFF[1], "email": "ICHIRO@abc.example.jp"}]
    response = client.post(url("roster_new", abc), formset(rows))
    assert response.status_code == 400
    assert (
        "2行目・MCS ID（メールアドレス）: ichiro@abc.example.jp は1行目と同じ"
        in response.content.decode()
    )
    assert not RosterRow.objects.filter(email="ichiro@abc.example.jp").exists()


def test_no_mcs_administrator_asks_for_confirmation(client_as, abc):
    client = client_as("other_facility_user")
    rows = [{**NEW_STAFF[0], "is_mcs_admin": False}, NEW_STAFF[1]]
    response = client.post(url("roster_new", abc), formset(rows))
    assert response.status_code == 400
    assert "MCS管理者（*1）が1人も指定されていません" in response.content.decode()
    assert not RosterRow.objects.filter(email="ichiro@abc.example.jp").exists()
    response = client.post(url("roster_new", abc), formset(rows, admin_count_confirmed="on"))
    assert response.status_code == 302
    request = RosterRequest.objects.get(rows__email="ichiro@abc.example.jp")
    assert request.admin_count_confirmed and "1人も" in request.admin_count_warning


def test_the_pledge_of_the_rules_must_be_agreed(client_as, abc):
    client = client_as("other_facility_user")
    data = formset(NEW_STAFF)
    del data["agree"]
    response = client.post(url("roster_new", abc), data)
    assert response.status_code == 400
    assert "運用規程への同意を確認してください。" in response.content.decode()


def test_rows_are_added_without_javascript_keeping_what_was_typed(client_as, abc):
    client = client_as("other_facility_user")
    data = formset(NEW_STAFF)
    del data["submit"]
    data["add_rows"] = "1"
    response = client.post(url("roster_new", abc), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="form-TOTAL_FORMS" value="7"' in page
    assert "直江津一郎" in page and "7行目 名前" in page
    assert not RosterRow.objects.filter(email="ichiro@abc.example.jp").exists()


@pytest.mark.parametrize("kind", ["csv-utf8", "csv-sjis", "xlsx"])
def test_an_uploaded_sheet_comes_back_on_screen_to_check(client_as, abc, kind):
    client = client_as("other_mcs_admin")
    data = {
        "csv-utf8": SEED_CSV.read_bytes(),
        "csv-sjis": SEED_CSV.read_text(encoding="utf-8").replace("〇", "○").encode("cp932"),
        "xlsx": seed_xlsx_bytes(),
    }[kind]
    response = client.post(
        url("roster_upload", abc), {"file": SimpleUploadedFile("besshi3.bin", data)}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "まだ提出されていません" in page
    assert 'value="山田花子"' in page and 'value="abc@gmail.com"' in page
    assert 'value="xyz@gmail"' in page  # normalized, still to be corrected
    assert "2行目・MCS ID（メールアドレス）" in page
    assert 'name="source" value="upload"' in page
    assert not RosterRow.objects.filter(email="abc@gmail.com").exists()


def test_an_unreadable_upload_says_why(client_as, abc):
    client = client_as("other_mcs_admin")
    response = client.post(
        url("roster_upload", abc), {"file": SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0junk")}
    )
    assert response.status_code == 400
    assert "古いExcel形式（.xls）は読めません" in response.content.decode()


def test_the_blank_sheet_downloads_as_xlsx(client_as, abc):
    response = client_as("other_mcs_admin").get(url("roster_template", abc))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.active["A2"].value == "ABCクリニック"


@pytest.fixture
def abc_request(abc, people):
    return services.roster_submit(
        actor=people["other_facility_user"],
        facility=abc,
        rows=[
            {
                "name": "山田花子",
                "gender": "女",
                "occupation": "医師",
                "email": "doctor@abc.example.jp",
                "is_mcs_admin": "〇",
            },
            {
                "name": "直江津一郎",
                "gender": "男",
                "occupation": "看護師",
                "email": "ichiro@abc.example.jp",
                "had_mcs_account": "有",
            },
        ],
        source="web",
    )


def test_the_center_registers_invites_and_tells_the_facility(client_as, abc_request, abc, people):
    client = client_as("center")
    response = client.post(
        reverse("admin:enrollment_rosterrequest_changelist"),
        {"action": "register", "_selected_action": [abc_request.pk], "apply": "1"},
    )
    assert response.status_code == 302
    abc_request.refresh_from_db()
    assert abc_request.state == RosterRequest.State.REGISTERED
    doctor_row, new_row = abc_request.rows.all()
    # 山田花子 already works at ABC: linked, and made its MCS administrator as the row says.
    assert doctor_row.user == people["other_facility_user"] and doctor_row.invitation is None
    assert FacilityRole.objects.filter(
        user=people["other_facility_user"], facility=abc, role=FacilityRole.Role.MCS_ADMIN
    ).exists()
    # The newcomer is invited; the account comes with the acceptance.
    invitation = new_row.invitation
    assert (invitation.email, invitation.facility, invitation.state) == (
        "ichiro@abc.example.jp",
        abc,
        Invitation.State.PENDING,
    )
    told = Notification.objects.filter(kind="enrollment.roster_registered")
    assert {n.title for n in told} == {REGISTERED}
    assert {"doctor@abc.example.jp", "admin@abc.example.jp"} <= {n.recipient.email for n in told}
    assert AuditEvent.objects.filter(
        action="enrollment.roster.register", object_id=str(abc_request.pk)
    ).exists()

    # The participant accepts and logs in: the paper's gender and *2 reach the account, and
    # they are in the all-users group (every active user is, by the groups app's definition).
    user = facility_services.staff_invitation_accept(invitation=invitation, password="naoetsu-2026")
    user.refresh_from_db()
    assert (user.gender, user.had_mcs_account, user.occupation) == ("male", True, "nurse")
    new_row.refresh_from_db()
    assert new_row.user == user
    from groups.models import Group
    from groups.selectors import all_users_group_for

    assert all_users_group_for(user) == Group.objects.get(kind=Group.Kind.ALL_USERS)
    assert client_as("anonymous").login(email="ichiro@abc.example.jp", password="naoetsu-2026")

    # Registered twice: refused.
    with pytest.raises(Exception, match="登録できません"):
        services.roster_register(actor=people["center"], roster_request=abc_request)


def test_registration_refuses_an_address_taken_meanwhile(abc_request, people):
    facility_services.user_create(actor=None, email="ichiro@abc.example.jp", name="別の人")
    with pytest.raises(Exception, match="2行目・MCS ID（メールアドレス）"):
        services.roster_register(actor=people["center"], roster_request=abc_request)
    abc_request.refresh_from_db()
    assert abc_request.state == RosterRequest.State.SUBMITTED
    assert not Invitation.objects.filter(email="ichiro@abc.example.jp").exists()


def test_the_center_returns_a_request_with_a_reason(client_as, abc_request):
    client = client_as("center")
    client.post(
        reverse("admin:enrollment_rosterrequest_changelist"),
        {
            "action": "return",
            "_selected_action": [abc_request.pk],
            "apply": "1",
            "reason": "職種を確認してください",
        },
    )
    abc_request.refresh_from_db()
    assert abc_request.state == RosterRequest.State.RETURNED
    note = Notification.objects.get(
        kind="enrollment.roster_returned", recipient__email="doctor@abc.example.jp"
    )
    assert note.body == "職種を確認してください"


def test_the_center_exports_rows_for_the_vendor(client_as, abc_request):
    response = client_as("center").post(
        reverse("admin:enrollment_rosterrequest_changelist"),
        {"action": "export_xlsx", "_selected_action": [abc_request.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[8] for r in rows[1:]] == ["doctor@abc.example.jp", "ichiro@abc.example.jp"]
    assert rows[1][9] == "〇" and rows[2][10] == "有"
    assert AuditEvent.objects.filter(action="enrollment.roster.export").exists()


def test_the_home_page_and_menu_serve_the_signers_only(client_as):
    page = client_as("other_facility_user").get("/").content.decode()
    assert "一括登録代行申込（別紙3）" in page and reverse("enrollment:index") in page
    page = client_as("user").get("/").content.decode()
    assert reverse("enrollment:index") not in page
    page = client_as("center").get("/").content.decode()
    assert "登録待ちの一括登録代行申込（別紙3）: 1 件" in page
