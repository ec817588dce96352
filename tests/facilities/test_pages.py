"""The facility's pages as the MCS administrator and facility manager use them (第5条, 第6条)."""

import datetime as dt
import io

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from facilities import services
from facilities.models import (
    EducationSession,
    Facility,
    FacilityRole,
    Invitation,
    StaffPledge,
    User,
    fiscal_year_start,
)
from facilities.selectors import staff_gaps, staff_list
from facilities.views import STAFF_PER_PAGE
from mcnet.models import AuditEvent
from tests.conftest import log_in

Role = FacilityRole.Role


# --- the staff list ------------------------------------------------------------------------------


def _hire(facility, count: int, start: int = 0) -> list[User]:
    users = []
    for n in range(start, start + count):
        user = services.user_create(
            actor=None, email=f"s{n}@example.jp", name=f"職員{n}", kana=f"しょくいん{n}"
        )
        services.membership_add(actor=None, user=user, facility=facility)
        users.append(user)
    return users


def test_staff_list_shows_role_occupation_login_mfa_pledge_education_state(client_as, demo):
    client = client_as("mcs_admin")  # gives admin@takada a TOTP authenticator
    html = client.get(reverse("facilities:staff", args=[demo["takada"].pk])).content.decode()
    for text in ("MCS管理者", "事業所管理者", "看護師", "設定済み", "未設定", "2022年4月1日"):
        assert text in html, text
    rows = {m.user.email: m for m in staff_list(demo["takada"])}
    admin, nurse = rows["admin@takada.example.jp"], rows["nurse@takada.example.jp"]
    assert admin.has_mfa and not nurse.has_mfa
    assert {r.role for r in admin.user.roles_here} == {Role.MCS_ADMIN, Role.FACILITY_MANAGER}
    assert nurse.user.roles_here == []
    assert nurse.has_pledge and nurse.educated_this_year  # the demo's session


def test_staff_list_runs_the_same_queries_for_2_or_200_staff(client_as, demo):
    client = client_as("mcs_admin")
    url = reverse("facilities:staff", args=[demo["takada"].pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    staff = _hire(demo["takada"], 200)
    for user in staff[:50]:
        services.pledge_record(
            actor=None, user=user, facility=demo["takada"], signed_on=dt.date(2026, 4, 1)
        )
        services.role_appoint(
            actor=None, user=user, facility=demo["takada"], role=Role.GROUP_MANAGER
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<tr>") == STAFF_PER_PAGE + 1  # the header row
    assert "page=2" in body and "status=all" in body  # the pager keeps the filters
    assert len(many) == len(few), [q["sql"][:100] for q in many]
    with CaptureQueriesContext(connection) as last:
        response = client.get(url, {"page": 3})
    assert response.content.decode().count("<tr>") == 202 - 2 * STAFF_PER_PAGE + 1
    assert len(last) == len(few)


def test_staff_list_pages_keep_the_search(client_as, demo):
    _hire(demo["takada"], STAFF_PER_PAGE + 1)
    client = client_as("mcs_admin")
    url = reverse("facilities:staff", args=[demo["takada"].pk])
    search = {"q": "職員", "status": "active"}
    first = client.get(url, search).content.decode()
    assert "page=2" in first and "q=%E8%81%B7" in first and "status=active" in first
    second = client.get(url, {**search, "page": 2}).content.decode()
    assert second.split("<tbody>")[1].count("<tr>") == 1
    assert "前へ" in second and "次へ" not in second


def test_staff_list_marks_who_left_and_who_is_restricted(client_as, demo, people):
    client = client_as("mcs_admin")
    url = reverse("facilities:staff", args=[demo["takada"].pk])
    services.user_restrict(
        actor=people["mcs_admin"],
        user=people["user"],
        facility=demo["takada"],
        level="restricted",
        reason="確認中",
    )
    assert "利用制限中" in client.get(url).content.decode()
    services.staff_deactivate(
        actor=people["mcs_admin"], user=people["user"], facility=demo["takada"], reason="退職"
    )
    assert "在籍終了" in client.get(url).content.decode()


def test_staff_list_is_searched_and_separates_staff_in_post_from_those_who_left(
    client_as, demo, people
):
    client = client_as("mcs_admin")
    url = reverse("facilities:staff", args=[demo["takada"].pk])
    services.staff_deactivate(
        actor=people["mcs_admin"], user=people["user"], facility=demo["takada"], reason="退職"
    )
    left, admin = people["user"].name, people["mcs_admin"].name
    assert left and admin and left != admin

    def body(params):
        page = client.get(url, params)
        assert page.status_code == 200
        return page.content.decode().split("<tbody>")[1].split("</tbody>")[0]

    found = body({"q": "ＡＤＭＩＮ@ｔａｋａｄａ"})  # full-width typed: NFKC
    assert admin in found and left not in found
    assert admin in body({"status": "active"}) and left not in body({"status": "active"})
    assert left in body({"status": "ended"}) and admin not in body({"status": "ended"})
    for bad in ("deleted", "<x>", ""):
        assert admin in body({"status": bad}) and left in body({"status": bad})


# --- pledges and education (第7条, Japanese fiscal year) ------------------------------------------


def test_fiscal_year_runs_from_april_to_march():
    assert fiscal_year_start(dt.date(2026, 4, 1)) == dt.date(2026, 4, 1)
    assert fiscal_year_start(dt.date(2027, 3, 31)) == dt.date(2026, 4, 1)
    assert fiscal_year_start(dt.date(2026, 3, 31)) == dt.date(2025, 4, 1)


def test_who_has_no_pledge_and_who_missed_this_years_education(demo, people):
    takada = demo["takada"]
    newcomer = _hire(takada, 1)[0]
    gaps = staff_gaps(takada, today=dt.date(2026, 11, 24))
    assert gaps.without_pledge == [newcomer]
    assert set(gaps.without_education) >= {newcomer}
    # A session of last 年度 does not count this 年度.
    services.education_session_save(
        actor=people["mcs_admin"],
        facility=takada,
        held_on=dt.date(2026, 3, 31),
        topic="前年度の研修",
        attendees=[newcomer],
    )
    assert newcomer in staff_gaps(takada, today=dt.date(2026, 11, 24)).without_education
    services.education_session_save(
        actor=people["mcs_admin"],
        facility=takada,
        held_on=dt.date(2026, 4, 1),
        topic="今年度の研修",
        attendees=[newcomer],
    )
    assert newcomer not in staff_gaps(takada, today=dt.date(2026, 11, 24)).without_education
    services.pledge_record(actor=people["mcs_admin"], user=newcomer, facility=takada, waived=True)
    assert staff_gaps(takada, today=dt.date(2026, 11, 24)).without_pledge == []


def test_pledge_form_needs_a_date_or_the_waiver(client_as, demo, people):
    client = client_as("mcs_admin")
    url = reverse("facilities:pledge_record", args=[demo["takada"].pk, people["user"].pk])
    response = client.post(url, {"note": "x"})
    assert response.status_code == 200
    assert "誓約日を入力するか" in response.content.decode()
    response = client.post(url, {"signed_on": "2999-01-01"})
    assert "未来の日付" in response.content.decode()
    response = client.post(url, {"waived": "on", "note": "就業規則の誓約書"})
    assert response.status_code == 302
    pledge = StaffPledge.objects.get(user=people["user"], facility=demo["takada"])
    assert pledge.waived and pledge.signed_on is None
    assert AuditEvent.objects.filter(action="pledge.correct", object_id=str(pledge.pk)).exists()


def test_education_session_records_date_topic_attendees(client_as, demo, people):
    client = client_as("mcs_admin")
    response = client.post(
        reverse("facilities:education_create", args=[demo["takada"].pk]),
        {"held_on": "2026-10-01", "topic": "IT機器の取扱い", "attendees": [people["user"].pk]},
    )
    assert response.status_code == 302
    session = EducationSession.objects.get(topic="IT機器の取扱い")
    assert list(session.attendees.all()) == [people["user"]]
    page = client.get(reverse("facilities:education", args=[demo["takada"].pk])).content.decode()
    assert "IT機器の取扱い" in page and "2026年10月1日" in page


def test_education_attendees_must_be_the_facilitys_staff(client_as, demo, people):
    client = client_as("mcs_admin")
    response = client.post(
        reverse("facilities:education_create", args=[demo["takada"].pk]),
        {"held_on": "2026-10-01", "topic": "x", "attendees": [people["other_facility_user"].pk]},
    )
    assert response.status_code == 200
    assert not EducationSession.objects.filter(topic="x").exists()


# --- roles (第5条, 別紙3 *1) ------------------------------------------------------------------------


def test_a_second_mcs_administrator_needs_confirmation(client_as, demo, people):
    client = client_as("mcs_admin")
    url = reverse("facilities:role_appoint", args=[demo["takada"].pk])
    data = {"user": people["user"].pk, "role": Role.MCS_ADMIN}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "既にMCS管理者がいます" in response.content.decode()
    assert not FacilityRole.objects.filter(user=people["user"], role=Role.MCS_ADMIN).exists()
    response = client.post(url, {**data, "confirm_second": "on"})
    assert response.status_code == 302
    nurse = User.objects.get(pk=people["user"].pk)
    assert nurse.has_perm("facilities.manage_staff", demo["takada"])
    page = client.get(reverse("facilities:roles", args=[demo["takada"].pk])).content.decode()
    assert "MCS管理者が 2 名います" in page


def test_first_mcs_administrator_needs_no_confirmation(demo, people):
    takada = demo["takada"]
    services.role_relieve(
        actor=None, user=people["mcs_admin"], facility=takada, role=Role.MCS_ADMIN
    )
    services.role_appoint(
        actor=people["mcs_admin"],
        user=people["user"],
        facility=takada,
        role=Role.MCS_ADMIN,
        confirm_second_mcs_admin=False,
    )
    assert FacilityRole.objects.filter(user=people["user"], role=Role.MCS_ADMIN).exists()


def test_an_mcs_administrator_who_is_not_manager_appoints_only_group_managers(
    client_as, demo, people
):
    client = client_as("other_mcs_admin")  # ABC: MCS admin, not facility manager
    url = reverse("facilities:role_appoint", args=[demo["abc"].pk])
    response = client.post(url, {"user": people["other_facility_user"].pk, "role": Role.MCS_ADMIN})
    assert response.status_code == 200
    assert not FacilityRole.objects.filter(
        user=people["other_facility_user"], role=Role.MCS_ADMIN
    ).exists()
    response = client.post(
        url, {"user": people["other_facility_user"].pk, "role": Role.GROUP_MANAGER}
    )
    assert response.status_code == 302


def test_the_last_facility_manager_cannot_relieve_themself(client_as, demo, people):
    client = client_as("mcs_admin")
    row = FacilityRole.objects.get(user=people["mcs_admin"], role=Role.FACILITY_MANAGER)
    response = client.post(reverse("facilities:role_relieve", args=[demo["takada"].pk, row.pk]))
    assert response.status_code == 302
    assert FacilityRole.objects.filter(pk=row.pk).exists()


# --- facility data and postal codes ------------------------------------------------------------


def test_postal_code_lookup_from_japan_post_data(client_as):
    client = client_as("user")
    url = reverse("facilities:postal_code_lookup")
    data = client.get(url, {"code": "９４３ー０８３５"}).json()
    assert data == {
        "found": True,
        "postal_code": "943-0835",
        "prefecture": "新潟県",
        "city": "上越市",
        "town": "本城町",
    }
    assert client.get(url, {"code": "000-0000"}).status_code == 404
    assert client.get(url, {"code": "abc"}).status_code == 404


def test_facility_edit_normalizes_and_keeps_what_was_typed(client_as, demo):
    client = client_as("mcs_admin")
    takada = demo["takada"]
    html = client.get(reverse("facilities:edit", args=[takada.pk])).content.decode()
    assert "facilities/postal_lookup.js" in html and "<script>" not in html
    assert 'data-postal-lookup="/facilities/postal-code/"' in html
    response = client.post(
        reverse("facilities:edit", args=[takada.pk]),
        {
            "name": takada.name,
            "kind": takada.kind,
            "postal_code": "９４３‐０８３５",
            "prefecture": "新潟県",
            "city": "上越市",
            "town": "本城町（手入力で修正）",
            "address_line": "3-3-3",
            "phone": "０２５ー３３３ー３３３３",
            "fax": "025‐333‐3334",
            "manager_name": "高田次郎",
            "manager_email": "ＡＤＭＩＮ＠takada.example.jp",
        },
    )
    assert response.status_code == 302
    takada.refresh_from_db()
    assert (takada.postal_code, takada.phone, takada.fax) == (
        "943-0835",
        "025-333-3333",
        "025-333-3334",
    )
    assert takada.town == "本城町（手入力で修正）"
    assert takada.manager_email == "admin@takada.example.jp"
    event = AuditEvent.objects.filter(action="facility.update").latest("id")
    assert "fax" in event.changes["fields"]  # names, never values


def test_bad_phone_says_which_field(client_as, demo):
    takada = demo["takada"]
    response = client_as("mcs_admin").post(
        reverse("facilities:edit", args=[takada.pk]),
        {"name": takada.name, "kind": takada.kind, "phone": "でんわ"},
    )
    assert response.status_code == 200
    assert "電話番号は数字とハイフンで入力してください" in response.content.decode()


def test_facility_state_changes_are_kept_with_their_dates(demo, people):
    abc = demo["abc"]
    with time_machine.travel(dt.datetime(2026, 6, 1, tzinfo=dt.UTC)):
        services.facility_set_state(
            actor=people["center"], facility=abc, state=Facility.State.SUSPENDED, note="未払い"
        )
    with time_machine.travel(dt.datetime(2026, 7, 1, tzinfo=dt.UTC)):
        services.facility_set_state(actor=people["center"], facility=abc, state="active")
    states = list(abc.state_changes.order_by("id").values_list("state", "changed_at__month"))
    assert states[-2:] == [("suspended", 6), ("active", 7)]
    assert states[0][0] == "active"  # created by the demo as active
    abc.refresh_from_db()
    assert abc.state_changed_at.month == 7


# --- invitations, as pages ------------------------------------------------------------------------


def test_invite_page_sends_and_lists_and_revokes(client_as, demo):
    client = client_as("mcs_admin")
    takada = demo["takada"]
    response = client.post(
        reverse("facilities:invitation_create", args=[takada.pk]),
        {
            "email": "ｎｅｗ＠takada.example.jp",
            "name": "新人",
            "kana": "しんじん",
            "occupation": "nurse",
        },
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@takada.example.jp")
    page = client.get(reverse("facilities:invitations", args=[takada.pk])).content.decode()
    assert "new@takada.example.jp" in page and "招待中" in page
    client.post(reverse("facilities:invitation_revoke", args=[takada.pk, invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED


def test_invite_page_offers_the_mcs_admin_flag_only_to_the_facility_manager(client_as, demo):
    html = client_as("other_mcs_admin").get(
        reverse("facilities:invitation_create", args=[demo["abc"].pk])
    )
    assert 'name="is_mcs_admin"' not in html.content.decode()
    html = client_as("mcs_admin").get(
        reverse("facilities:invitation_create", args=[demo["takada"].pk])
    )
    assert 'name="is_mcs_admin"' in html.content.decode()


def test_accept_page_sets_password_with_article_11_rules_and_signs_in(client, demo):
    invitation = Invitation.objects.get(facility=demo["takada"])
    url = invitation.get_accept_url()
    html = client.get(url).content.decode()
    assert 'type="password"' in html and 'autocomplete="off"' in html
    assert 'autocomplete="new-password"' not in html
    form = {
        "name": "春日新子",
        "kana": "かすが しんこ",
        "occupation": "nurse",
        "phone": "",
        "password1": "onlyletterslong",
        "password2": "onlyletterslong",
    }
    response = client.post(url, form)
    assert "数字（0〜9）が含まれていません" in response.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()
    response = client.post(url, {**form, "password1": "shinko2026x", "password2": "shinko2026y"})
    assert "一致しません" in response.content.decode()
    response = client.post(url, {**form, "password1": "shinko2026x", "password2": "shinko2026x"})
    assert response.status_code == 302 and response.url == "/"
    user = User.objects.get(email=invitation.email)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert user.kana == "カスガ シンコ"
    assert client.get(url).status_code == 200  # now explains that it was used


def test_unknown_link_is_404_and_says_what_to_do(client, demo):
    response = client.get(reverse("facilities:invitation_accept", args=["nope.nope"]))
    assert response.status_code == 404
    assert "再送を依頼してください" in response.content.decode()


def test_existing_account_is_asked_to_sign_in_then_confirms(client, demo, people, password):
    invitation = services.staff_invite(
        actor=people["other_mcs_admin"], facility=demo["abc"], email=people["user"].email
    )
    url = invitation.get_accept_url()
    assert "ログインしてから招待を受けてください" in client.get(url).content.decode()
    assert client.post(url).status_code == 200
    assert not people["user"].memberships.filter(facility=demo["abc"]).exists()
    log_in(client, people["user"], mfa=False)
    assert "招待を受ける" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert people["user"].memberships.filter(facility=demo["abc"], is_active=True).exists()


def test_someone_else_signed_in_cannot_use_the_link(client, demo, people):
    invitation = Invitation.objects.get(facility=demo["takada"])
    log_in(client, people["other_facility_user"], mfa=True)  # a facility manager: MFA (第5条)
    response = client.post(
        invitation.get_accept_url(),
        {
            "name": "x",
            "kana": "x",
            "occupation": "nurse",
            "password1": "abcd1234xyz",
            "password2": "abcd1234xyz",
        },
    )
    assert response.status_code == 200
    assert "ログアウトしてから" in response.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()


# --- profile and photo (留意事項 4) ----------------------------------------------------------------


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (1200, 900), (200, 150, 120))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 6.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_profile_photo_is_reencoded_without_metadata_and_streamed_privately(
    client_as, people, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as("other_facility_user")
    upload = SimpleUploadedFile("me.jpg", _jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(
        reverse("facilities:profile"),
        {
            "name": "山田花子",
            "kana": "ﾔﾏﾀﾞ ﾊﾅｺ",
            "occupation": "doctor",
            "phone": "０２５-１１１-１１１１",
            "photo": upload,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    doctor = User.objects.get(pk=people["other_facility_user"].pk)
    assert (doctor.kana, doctor.phone) == ("ヤマダ ハナコ", "025-111-1111")
    with doctor.photo.open("rb") as f:
        stored = Image.open(io.BytesIO(f.read()))
        assert stored.format == "JPEG" and max(stored.size) <= 800
        assert not stored.getexif()
    assert settings.MEDIA_URL is None  # no public URL exists at all
    url = doctor.photo_url
    assert url.startswith(f"/facilities/photos/{doctor.pk}/")
    # Any signed-in network user sees it; an anonymous visitor does not.
    response = client_as("user").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert client_as("anonymous").get(url).status_code == 302
    assert AuditEvent.objects.filter(action="user.profile_update", object_id=str(doctor.pk))


def test_photo_must_be_an_image(client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as("user")
    upload = SimpleUploadedFile("me.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    response = client.post(
        reverse("facilities:profile"),
        {"name": "高田看子", "kana": "たかだ かんこ", "occupation": "nurse", "photo": upload},
    )
    assert response.status_code == 200
    assert "このファイルの形式は受け付けられません" in response.content.decode()


def test_a_banned_user_cannot_see_photos(demo, people, client):
    services.user_restrict(
        actor=people["mcs_admin"],
        user=people["user"],
        facility=demo["takada"],
        level="restricted",
        reason="確認中",
    )
    log_in(client, User.objects.get(pk=people["user"].pk), mfa=False)
    admin_photo = User.objects.get(email="admin@takada.example.jp").photo_url
    assert admin_photo and client.get(admin_photo).status_code == 404


def test_photo_of_someone_without_one_is_404(client_as, people):
    assert people["other_mcs_admin"].photo_url == ""
    url = reverse("facilities:photo", args=[people["other_mcs_admin"].pk])
    assert client_as("user").get(url).status_code == 404


def test_removing_the_photo(client_as, people):
    client = client_as("user")
    nurse = User.objects.get(pk=people["user"].pk)
    assert nurse.photo
    client.post(
        reverse("facilities:profile"),
        {"name": nurse.name, "kana": nurse.kana, "occupation": "nurse", "remove_photo": "on"},
    )
    assert not User.objects.get(pk=nurse.pk).photo


@pytest.mark.parametrize("role", ["mcs_admin", "other_mcs_admin"])
def test_home_shows_administrators_what_needs_doing(client_as, role):
    html = client_as(role).get("/").content.decode()
    assert "事業所の職員管理" in html and "誓約書が未記録の職員" in html


def test_home_shows_nothing_of_it_to_a_nurse(client_as):
    html = client_as("user").get("/").content.decode()
    assert "事業所の職員管理" not in html
    assert "事業所の管理" not in html  # the menu entry too
    assert reverse("facilities:directory") in html


def test_mfa_column_ignores_recovery_codes(demo, people):
    Authenticator.objects.create(
        user=people["user"], type=Authenticator.Type.RECOVERY_CODES, data={}
    )
    rows = {m.user.email: m for m in staff_list(demo["takada"])}
    assert not rows["nurse@takada.example.jp"].has_mfa
