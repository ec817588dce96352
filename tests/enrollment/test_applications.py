"""別紙1/別紙2 online: the public form, the e-mail confirmation, the applicant's own page."""

import re

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from enrollment import selectors, services
from enrollment.models import Application, ApplicationEvent
from mcnet.models import AuditEvent, Notification

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)

FORM = {
    "facility_name": "直江津訪問看護ステーション",
    "kind": "visiting_nursing",
    "postal_code": "９４２－００１１",
    "prefecture": "",
    "city": "",
    "town": "",
    "address_line": "5-5-5",
    "phone": "０２５－５５５－５５５５",
    "manager_name": "直江津花",
    "manager_email": "Ｈａｎａ＠Naoetsu.example.jp",
    "pledge_affirmed": "on",
    "website": "",
}


def apply(client, **changes):
    return client.post(reverse("enrollment:apply"), {**FORM, **changes})


def confirm_link(message) -> str:
    return re.search(r"http://[^\s]+/enrollment/apply/confirm/[^\s]+/", message.body).group(0)


def status_link(message) -> str:
    return re.search(r"http://[^\s]+/enrollment/application/[^\s]+/", message.body).group(0)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.fixture
def submitted(demo, client, send_mails, django_capture_on_commit_callbacks):
    """An application as the applicant leaves it: applied, then confirmed by the link."""
    with django_capture_on_commit_callbacks(execute=False):
        apply(client)
    send_mails()
    application = Application.objects.get(facility_name=FORM["facility_name"])
    client.post(path_of(confirm_link(mail.outbox[-1])))
    send_mails()
    application.refresh_from_db()
    return application


def test_the_public_page_shows_every_field_and_the_whole_pledge(client, db):
    page = client.get(reverse("enrollment:apply")).content.decode()
    for label in (
        "事業所名",
        "郵便番号",
        "都道府県",
        "市区町村",
        "番地・建物名",
        "事業所電話番号",
        "施設の種類",
        "事業所管理者氏名",
        "事業所管理者メールアドレス",
    ):
        assert label in page, label
    for article in ("第１条", "第２条", "第３条", "第４条", "第５条"):
        assert article in page
    assert "連携業務以外で利用しないものとし" in page
    assert "誠意をもって協議致します" in page
    assert 'type="checkbox" name="pledge_affirmed"' in page
    # Only the site's own script files (the address lookup); the form works without them.
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all('src="/static/' in tag for tag in scripts), scripts


def test_applying_stores_nothing_for_the_center_until_the_address_is_confirmed(
    client, demo, send_mails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = apply(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:apply_sent")
    application = Application.objects.get(facility_name=FORM["facility_name"])
    # Normalized: full-width digits, dashes and ＠; the address filled from the postal code.
    assert application.postal_code == "942-0011"
    assert application.phone == "025-555-5555"
    assert application.manager_email == "hana@naoetsu.example.jp"
    assert (application.prefecture, application.city) == ("新潟県", "上越市")
    assert application.state == Application.State.UNCONFIRMED
    assert application.pledge_affirmed
    submitted_here = Notification.objects.filter(
        kind="enrollment.application_submitted", title__contains=FORM["facility_name"]
    )
    assert not submitted_here.exists()

    send_mails()
    sent = mails_to("hana@naoetsu.example.jp")
    assert len(sent) == 1
    link = path_of(confirm_link(sent[0]))

    # GET only asks; the POST sends it to the center.
    assert client.get(link).status_code == 200
    application.refresh_from_db()
    assert application.state == Application.State.UNCONFIRMED
    response = client.post(link)
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert application.submitted_at is not None
    assert response["Location"] == selectors.application_status_path(application)
    assert [n.recipient.email for n in submitted_here] == ["center@example.jp"]
    assert AuditEvent.objects.filter(
        action="enrollment.application.submit", object_id=str(application.pk)
    ).exists()

    # A second click changes nothing and leads to the status page.
    assert client.post(link).status_code == 302
    assert application.events.filter(kind=ApplicationEvent.Kind.SUBMITTED).count() == 1

    send_mails()
    assert "印刷" in mail.outbox[-1].body
    assert path_of(status_link(mail.outbox[-1])) == selectors.application_status_path(application)


def test_a_confirmation_link_expires(client, demo, send_mails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        apply(client)
    send_mails()
    link = path_of(confirm_link(mails_to("hana@naoetsu.example.jp")[0]))
    with time_machine.travel(timezone.now() + timezone.timedelta(days=4)):
        response = client.post(link)
    assert response.status_code == 410
    assert "有効期限" in response.content.decode()
    assert Application.objects.get(facility_name=FORM["facility_name"]).state == "unconfirmed"


def test_a_forged_or_tampered_link_is_404(client, submitted):
    token = selectors.application_status_token(submitted)
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", submitted.access_nonce):
        assert client.get(reverse("enrollment:application_status", args=[bad])).status_code == 404
        assert client.get(reverse("enrollment:apply_confirm", args=[bad])).status_code == 404


def test_an_applicant_never_sees_another_application(client, submitted):
    other = Application.objects.get(manager_email="manager@myoko-pharmacy.example.jp")
    own = selectors.application_status_token(submitted)
    page = client.get(reverse("enrollment:application_status", args=[own])).content.decode()
    assert submitted.facility_name in page and other.facility_name not in page
    # The status link is not a confirmation link, and neither opens the other's pages.
    page = client.get(reverse("printing:application_preview", args=[own])).content.decode()
    assert other.facility_name not in page
    assert client.get(reverse("enrollment:apply_confirm", args=[own])).status_code == 404
    confirm = selectors.application_confirm_token(other)
    assert client.get(reverse("enrollment:application_status", args=[confirm])).status_code == 404


def test_an_unconfirmed_application_has_no_status_page(client, demo):
    application = services.application_create(
        data={**FORM, "manager_email": "x@y.jp", "prefecture": "新潟県", "city": "上越市"}
    )
    token = selectors.application_status_token(application)
    assert client.get(reverse("enrollment:application_status", args=[token])).status_code == 404


def test_the_honeypot_saves_nothing(client, demo):
    response = apply(client, website="http://spam.example")
    assert response.status_code == 302
    assert not Application.objects.filter(facility_name=FORM["facility_name"]).exists()


def test_the_public_form_is_rate_limited(client, demo):
    for _ in range(10):
        assert apply(client, manager_email="").status_code == 200  # invalid: shown again
    response = apply(client)
    assert response.status_code == 429
    assert not Application.objects.filter(facility_name=FORM["facility_name"]).exists()


def test_missing_fields_and_the_pledge_are_named(client, demo):
    response = apply(
        client, pledge_affirmed="", manager_email="hana@naoetsu", postal_code="000-0000"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "連携守秘誓約書（別紙2）に同意してください。" in page
    assert "メールアドレスの形式が正しくありません" in page
    assert "都道府県 を入力してください" in page
    assert not Application.objects.filter(facility_name=FORM["facility_name"]).exists()


def test_print_view_fills_besshi1_and_besshi2_with_seal_boxes(client, submitted):
    token = selectors.application_status_token(submitted)
    page = client.get(reverse("printing:application_preview", args=[token])).content.decode()
    assert "＜別紙１＞" in page and "＜別紙２＞" in page
    assert "利用申込書" in page and "利用に係る連携守秘誓約書" in page
    assert "上越医師会 会長　殿" in page
    assert "本事業所において、MC ネットを利用した情報共有を行いたいので、申し込みます。" in page
    assert page.count('class="seal">印<') == 2
    assert "直江津花" in page and "〒942-0011" in page and "hana@naoetsu.example.jp" in page
    assert "令和" in page
    assert "※複数のスタッフでのメールアドレスの共有はセキュリティ上認められません。" in page


def test_the_signed_scan_is_checked_by_content(client, submitted, send_mails):
    token = selectors.application_status_token(submitted)
    url = reverse("enrollment:application_scan", args=[token])
    fake = SimpleUploadedFile(
        "besshi1.pdf", b"just text, not a PDF", content_type="application/pdf"
    )
    response = client.post(url, {"scan": fake})
    assert response.status_code == 400
    assert "形式は受け付けられません" in response.content.decode()
    submitted.refresh_from_db()
    assert not submitted.scan

    response = client.post(url, {"scan": SimpleUploadedFile("photo.txt", PNG)})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.scan.name.endswith("/scan.png")
    assert submitted.scan_uploaded_at is not None
    assert Notification.objects.filter(kind="enrollment.application_scan").exists()
    # The file is never served under a URL: only the center opens it, in the admin.
    assert (
        "/media/"
        not in client.get(reverse("enrollment:application_status", args=[token])).content.decode()
    )


def test_a_too_large_scan_is_refused(client, submitted, settings):
    import mcnet.uploads

    token = selectors.application_status_token(submitted)
    big = SimpleUploadedFile("scan.png", PNG + b"\0" * (mcnet.uploads.MAX_SCAN_BYTES + 1))
    response = client.post(reverse("enrollment:application_scan", args=[token]), {"scan": big})
    assert response.status_code == 400
    assert "大きすぎます" in response.content.decode()


def test_post_only_actions_refuse_get(client, submitted):
    token = selectors.application_status_token(submitted)
    for name in ("application_scan", "application_resubmit"):
        assert client.get(reverse(f"enrollment:{name}", args=[token])).status_code == 405


def test_a_returned_application_is_corrected_and_resubmitted(client, submitted, people, send_mails):
    services.application_return(
        actor=people["center"], application=submitted, reason="電話番号をご確認ください。"
    )
    send_mails()
    assert "電話番号をご確認ください。" in mail.outbox[-1].body
    token = selectors.application_status_token(submitted)
    page = client.get(reverse("enrollment:application_status", args=[token])).content.decode()
    assert "差し戻し" in page and "電話番号をご確認ください。" in page
    assert 'action="' + reverse("enrollment:application_resubmit", args=[token]) in page

    data = {**FORM, "phone": "025-555-0000", "prefecture": "新潟県", "city": "上越市"}
    response = client.post(reverse("enrollment:application_resubmit", args=[token]), data)
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == Application.State.SUBMITTED
    assert submitted.phone == "025-555-0000"
    assert Notification.objects.filter(kind="enrollment.application_resubmitted").exists()


def test_a_resubmission_with_a_new_address_is_confirmed_again(client, submitted, people):
    services.application_return(actor=people["center"], application=submitted, reason="直して")
    token = selectors.application_status_token(submitted)
    data = {
        **FORM,
        "manager_email": "new@naoetsu.example.jp",
        "prefecture": "新潟県",
        "city": "上越市",
    }
    response = client.post(reverse("enrollment:application_resubmit", args=[token]), data)
    assert response["Location"] == reverse("enrollment:apply_sent")
    submitted.refresh_from_db()
    assert submitted.state == Application.State.UNCONFIRMED


def test_only_a_returned_application_can_be_resubmitted(client, submitted):
    token = selectors.application_status_token(submitted)
    data = {**FORM, "prefecture": "新潟県", "city": "上越市"}
    response = client.post(reverse("enrollment:application_resubmit", args=[token]), data)
    assert response.status_code == 400
    assert "差し戻された申込だけ" in response.content.decode()


def test_besshi_contexts_have_every_field(submitted):
    from mcnet.printing.forms import besshi1, besshi2

    one = besshi1.for_application(submitted)
    for key in ("name", "postal_code", "address", "phone", "kind", "manager_name", "manager_email"):
        assert one["facility"][key], key
    assert one["date"] and one["network"]
    two = besshi2.for_application(submitted)
    assert submitted.pledge_affirmed and two["facility"]["name"] == submitted.facility_name
    # The articles the manager affirmed (第15条).
    assert two["rules"]["number"] == submitted.pledge_rule_version.number
