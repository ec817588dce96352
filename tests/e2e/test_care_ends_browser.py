"""Access ends with care, in a real browser (別紙5 (2), 第9条3項): 山田太郎's consent is
withdrawn → the 高田 nurse (another facility) no longer sees him anywhere, only a line in her
history without his name → his custodian opens the record after stating why."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from consents.models import Consent
from facilities.models import User
from groups.models import Group

from .helpers import assert_accessible, login, login_with_totp, path_re

CM = "cm@kasugano.example.jp"
NURSE = "nurse@takada.example.jp"
YAMADA = ("山田太郎", "ヤマダ タロウ", "1938", "春日野1-10-1", "025-555-0101")


def main(page):
    return page.locator("main")


def _shows_nothing_of_him(page):
    for text in YAMADA:
        expect(page.locator("body")).not_to_contain_text(text)


def test_consent_withdrawn_the_nurse_of_another_facility_no_longer_sees_the_patient(
    page, second_page, demo_live
):
    group = Group.objects.get(name="山田太郎さんのグループ")
    consent = Consent.objects.get(patient=group.patient, status="active")
    group_url = demo_live + reverse("groups:detail", args=[group.pk])
    patient_url = demo_live + reverse("consents:patient_detail", args=[group.patient_id])

    # The nurse of 高田 sees him while his care goes on.
    nurse = second_page
    login(nurse, demo_live, NURSE)
    nurse.goto(demo_live + "/groups/")
    main(nurse).get_by_role("link", name="山田太郎さんのグループ").click()
    nurse.wait_for_url(group_url)
    expect(main(nurse)).to_contain_text("1938年4月12日")

    # His family phones: the care manager records the withdrawal.
    cm = page
    login_with_totp(cm, demo_live, User.objects.get(email=CM))
    cm.goto(demo_live + reverse("consents:consent_withdraw", args=[consent.pk]))
    assert_accessible(cm)
    cm.get_by_label("撤回を申し出た人").fill("長男")
    cm.get_by_label("電話で").check()
    main(cm).get_by_role("button", name="撤回を記録する").click()
    cm.wait_for_url(path_re("/patients/"))
    expect(main(cm)).to_contain_text("同意の撤回を記録しました")

    # At once, the nurse gets nothing of him: not his group, not his page, not her lists.
    for url in (group_url, patient_url):
        response = nurse.goto(url)
        assert response.status == 404
        _shows_nothing_of_him(nurse)
    for path in ("/", "/groups/", "/inbox/", "/patients/"):
        nurse.goto(demo_live + path)
        _shows_nothing_of_him(nurse)
    # Her history keeps the line, without his name.
    nurse.goto(demo_live + "/groups/archive/")
    expect(main(nurse)).to_contain_text(
        f"参加していた 患者グループ No.{group.pk}（春日野居宅介護支援事業所）"
    )
    _shows_nothing_of_him(nurse)
    assert_accessible(nurse)

    # His custodian (春日野's MCS administrator and the group's manager) opens it with a purpose.
    cm.goto(group_url)
    cm.wait_for_url(re.compile(rf".*/patients/{group.patient_id}/open/\?next=.*"))
    _shows_nothing_of_him(cm)
    assert_accessible(cm)
    cm.get_by_label("閲覧の目的").select_option(label="本人・家族からの照会・請求への対応（別紙6）")
    main(cm).get_by_role("button", name="目的を記録して開く").click()
    cm.wait_for_url(group_url)
    expect(main(cm)).to_contain_text("1938年4月12日")
    expect(main(cm)).to_contain_text("高田看子")
