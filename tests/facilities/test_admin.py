"""The center's admin (第1条, 留意事項 2): filters, kana and kanji search, xlsx/CSV exports,
facility state history, and restrictions visible to the center."""

import io

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from facilities import services
from facilities.models import Facility, FacilityRole, FacilityStateChange, User, UserRestriction
from mcnet.models import AuditEvent

Role = FacilityRole.Role
FACILITIES = reverse("admin:facilities_facility_changelist")
USERS = reverse("admin:facilities_user_changelist")


def _names(response) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


def test_filter_facilities_by_number_of_mcs_administrators(client_as, demo, people):
    client = client_as("center")
    services.role_relieve(
        actor=None, user=people["other_mcs_admin"], facility=demo["abc"], role=Role.MCS_ADMIN
    )
    services.role_appoint(
        actor=None, user=people["user"], facility=demo["takada"], role="mcs_admin"
    )
    assert _names(client.get(FACILITIES, {"mcs_admins": "none"})) == {"ABCクリニック"}
    assert _names(client.get(FACILITIES, {"mcs_admins": "one"})) == {"春日野居宅介護支援事業所"}
    assert _names(client.get(FACILITIES, {"mcs_admins": "several"})) == {"高田訪問看護ステーション"}
    html = client.get(FACILITIES).content.decode()
    assert "MCS管理者の人数" in html and "2名以上" in html


def test_filter_facilities_by_kind_and_state(client_as, demo, people):
    client = client_as("center")
    services.facility_set_state(actor=None, facility=demo["abc"], state="suspended")
    assert _names(client.get(FACILITIES, {"kind__exact": "clinic"})) == {"ABCクリニック"}
    assert _names(client.get(FACILITIES, {"state__exact": "suspended"})) == {"ABCクリニック"}


@pytest.mark.parametrize("term", ["たかだ", "ﾀｶﾀﾞ", "タカダ カンコ", "高田看子", "nurse@takada"])
def test_search_users_in_kana_or_kanji_of_any_width(client_as, people, term):
    found = _names(client_as("center").get(USERS, {"q": term}))
    assert "高田看子" in found, term


def test_search_facilities_by_normalized_name(client_as, demo):
    found = _names(client_as("center").get(FACILITIES, {"q": "ｽﾃｰｼｮﾝ"}))
    assert found == {"高田訪問看護ステーション"}


def _export(client, url, model_ids, action):
    return client.post(url, {"action": action, "_selected_action": [str(i) for i in model_ids]})


def test_export_users_as_csv_with_bom_for_excel(client_as, people):
    client = client_as("center")
    User.objects.filter(pk=people["user"].pk).update(name="=HYPERLINK(1)")
    response = _export(client, USERS, User.objects.values_list("pk", flat=True), "export_csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "メールアドレス（MCS ID）" in text.splitlines()[0]
    assert "doctor@abc.example.jp" in text and "ABCクリニック: 事業所管理者" in text
    assert "'=HYPERLINK(1)" in text  # never a formula in Excel
    event = AuditEvent.objects.filter(action="admin.export").latest("id")
    assert event.changes == {"format": "csv", "rows": User.objects.count()}


def test_export_facilities_as_xlsx(client_as, demo):
    client = client_as("center")
    ids = Facility.objects.values_list("pk", flat=True)
    response = _export(client, FACILITIES, ids, "export_xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "事業所名" and "MCS管理者の人数" in rows[0]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"ABCクリニック", "春日野居宅介護支援事業所", "高田訪問看護ステーション"}
    takada = by_name["高田訪問看護ステーション"]
    assert "訪問看護ステーション" in takada and "新潟県" in takada and "高田次郎" in takada


def test_export_users_as_xlsx_keeps_formulas_as_text(client_as, people):
    client = client_as("center")
    User.objects.filter(pk=people["user"].pk).update(name="=1+1")
    response = _export(client, USERS, [people["user"].pk], "export_xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=3)
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_state_change_in_the_admin_is_kept_with_its_date_and_note(demo, people):
    center = people["center"]
    admin = site._registry[Facility]
    request = RequestFactory().post("/")
    request.user = center
    abc = demo["abc"]
    form_class = admin.get_form(request, abc)
    data = {
        "name": abc.name,
        "kind": abc.kind,
        "postal_code": abc.postal_code,
        "state": "withdrawn",
        "state_note": "別紙4により利用中止",
    }
    form = form_class(data, instance=abc)
    assert form.is_valid(), form.errors
    obj = form.save(commit=False)
    admin.save_model(request, obj, form, change=True)
    abc.refresh_from_db()
    assert abc.state == "withdrawn"
    change = FacilityStateChange.objects.filter(facility=abc).latest("id")
    assert (change.state, change.note, change.changed_by) == (
        "withdrawn",
        "別紙4により利用中止",
        center,
    )
    assert change.changed_at == abc.state_changed_at
    assert AuditEvent.objects.filter(action="facility.state", object_id=str(abc.pk)).exists()


def test_the_center_sees_restrictions_and_their_reasons_but_cannot_edit_them(
    client_as, demo, people
):
    restriction = services.user_restrict(
        actor=people["mcs_admin"],
        user=people["user"],
        facility=demo["takada"],
        level="banned",
        reason="IDを同僚に貸した",
    )
    client = client_as("center")
    listing = client.get(reverse("admin:facilities_userrestriction_changelist"))
    assert listing.status_code == 200 and "高田看子" in listing.content.decode()
    detail = client.get(
        reverse("admin:facilities_userrestriction_change", args=[restriction.pk])
    ).content.decode()
    assert "IDを同僚に貸した" in detail
    user_page = client.get(reverse("admin:facilities_user_change", args=[people["user"].pk]))
    assert "IDを同僚に貸した" in user_page.content.decode()
    assert client.get(reverse("admin:facilities_userrestriction_add")).status_code == 403
    client.post(
        reverse("admin:facilities_userrestriction_delete", args=[restriction.pk]), {"post": "yes"}
    )
    assert UserRestriction.objects.filter(pk=restriction.pk).exists()


def test_admin_facility_form_has_the_postal_code_lookup(client_as):
    html = client_as("center").get(reverse("admin:facilities_facility_add")).content.decode()
    assert "facilities/postal_lookup.js" in html
    assert "data-postal-lookup" in html and 'data-postal-target="town"' in html


def test_the_invitation_key_is_not_shown_even_to_the_center(client_as, demo):
    from facilities.models import Invitation

    invitation = Invitation.objects.get(facility=demo["takada"])
    html = (
        client_as("center")
        .get(reverse("admin:facilities_invitation_change", args=[invitation.pk]))
        .content.decode()
    )
    assert invitation.key not in html and invitation.email in html
