"""Access ends with care (別紙5 (2), 第9条3項, 留意事項 医療介護情報の取り扱い (2)).

The moment 山田太郎's consent is withdrawn (or marked entered in error, or his group archived
for any reason), the members from other facilities get nothing of him from any URL they could
open before; his custodians (春日野's MCS administrator, the group's manager) open the record
only after giving a purpose, which the access log keeps as a code; the former members keep a
line in their history without his name.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from consents import services as consent_services
from consents.models import Consent
from consents.selectors import patients_visible_to
from facilities import services as facility_services
from facilities.models import FacilityRole, Occupation
from groups import services
from groups.models import Group, GroupUserObjectPermission
from mcnet.audit import AuditAction
from mcnet.models import AuditEvent, AuditTrail, Notification
from tests.conftest import log_in
from tests.demo_objects import membership, yamada_group

from .test_access import walk

# Everything of 山田太郎 that identifies him: name, kana (as typed and as stored), birth date,
# address and phone.
YAMADA = (
    "山田太郎",
    "やまだ たろう",
    "ヤマダ タロウ",
    "1938年4月12日",
    "1938-04-12",
    "1938/4/12",
    "春日野1-10-1",
    "025-555-0101",
)
FORMER_MEMBERS = ["user", "other_facility_user"]  # the 高田 nurse and the ABC doctor


def _withdraw(cm):
    consent = Consent.objects.get(patient__name="山田太郎", status="active")
    consent_services.consent_withdraw(
        actor=cm,
        consent=consent,
        withdrawn_on=consent.signed_on + dt.timedelta(days=30),
        reported_by="長男",
        method="phone",
    )


def _mark_in_error(cm):
    consent = Consent.objects.get(patient__name="山田太郎", status="active")
    consent_services.consent_mark_entered_in_error(actor=cm, consent=consent, reason="別人の書類")


def _archive_for_death(cm):
    group = services.group_report_end(
        actor=cm, group=yamada_group(), reason=Group.EndReason.DEATH, note="在宅で看取り"
    )
    services.group_archive(actor=cm, group=group)


def _archive_for_withdrawal(cm):
    _withdraw(cm)
    services.group_archive(actor=cm, group=yamada_group())


ENDINGS = {
    "withdrawn": _withdraw,
    "entered_in_error": _mark_in_error,
    "archived_death": _archive_for_death,
    "archived_withdrawn": _archive_for_withdrawal,
}


def _urls_of_the_member(client, objects, staff) -> list[tuple[str, str]]:
    """Every (method, url) about 山田太郎 the member could open, and the pages of their own."""
    pages = [
        ("get", reverse(name))
        for name in ("home", "inbox", "groups:list", "groups:archive", "printing:index")
    ]
    pages += [("get", reverse("consents:patient_list") + "?q=やまだ")]
    pages += [("get", reverse("groups:archive") + "?q=山田")]
    for _name, url, method, _response, _ids in walk(client, staff=staff, **objects):
        pages.append((method, url))
    return pages


def _leaks(body: str) -> list[str]:
    return [text for text in YAMADA if text in body]


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("role", FORMER_MEMBERS)
def test_a_former_member_gets_nothing_of_the_patient_from_any_url(
    demo, people, client_as, role, ending
):
    cm, member = people["group_manager"], people[role]
    group = yamada_group()
    objects = {
        "group": group,
        "patient": group.patient,
        "consent": Consent.objects.get(patient=group.patient, status="active"),
        "membership": membership(group, member.email),
    }
    client = client_as(role)
    # Before: the member sees him (so the assertions below can fail).
    before = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "山田太郎" in before and "春日野1-10-1" in before
    assert (
        "山田太郎"
        in client.get(reverse("consents:patient_detail", args=[group.patient_id])).content.decode()
    )

    ENDINGS[ending](cm)

    assert not GroupUserObjectPermission.objects.filter(content_object=group).exists()
    leaks, opened = [], []
    for method, url in _urls_of_the_member(client, objects, member):
        response = getattr(client, method)(url, {"reason": "x", "purpose": "other"})
        body = response.content.decode(errors="replace")
        if _leaks(body):
            leaks.append(f"{method} {url}: {_leaks(body)}")
        about_him = str(group.pk) in url or str(group.patient_id) in url
        if about_him and method == "get" and response.status_code not in (403, 404, 405):
            opened.append(f"{method} {url}: {response.status_code}")
    assert not leaks, leaks
    assert not opened, opened
    # The line of their history: closed, on which day, without his name.
    history = client.get(reverse("groups:archive")).content.decode()
    assert f"患者グループ No.{group.pk}（春日野居宅介護支援事業所）" in history
    assert "に終了しました" in history
    # Their inbox keeps its lines, without his name.
    told = Notification.objects.filter(recipient=member, url__startswith=f"/groups/{group.pk}/")
    assert told.exists()
    assert not any(_leaks(n.title + n.body) for n in told)


def test_the_registering_facilitys_other_managers_lose_the_record_too(demo, people, client_as):
    """Inside the managing facility, only the custodians: another patient-group manager of 春日野
    saw 山田太郎 while his care went on, and does not once it ended."""
    kasugano = demo["kasugano"]
    colleague = facility_services.user_create(
        actor=None,
        email="cm2@kasugano.example.jp",
        password="kasugano-2026",
        name="春日野二郎",
        kana="かすがの じろう",
        gender="male",
        occupation=Occupation.CARE_MANAGER,
    )
    facility_services.membership_add(actor=None, user=colleague, facility=kasugano)
    facility_services.role_appoint(
        actor=None, user=colleague, facility=kasugano, role=FacilityRole.Role.GROUP_MANAGER
    )
    client = client_as(None)
    log_in(client, colleague, mfa=False)
    patient_url = reverse("consents:patient_detail", args=[yamada_group().patient_id])
    assert "山田太郎" in client.get(patient_url).content.decode()
    _withdraw(people["group_manager"])
    response = client.get(patient_url)
    assert response.status_code == 404  # not even offered to state a purpose
    assert "山田太郎" not in client.get(reverse("consents:patient_list")).content.decode()
    record_open = reverse("consents:record_open", args=[yamada_group().patient_id])
    assert client.get(record_open).status_code == 404
    assert client.post(record_open, {"purpose": "other"}).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.PATIENT_OPEN_RECORD).exists()


def _kasugano_mcs_admin(demo):
    """An MCS administrator of 春日野 who is neither a member nor the manager of the group."""
    admin = facility_services.user_create(
        actor=None,
        email="admin2@kasugano.example.jp",
        password="kasugano-2026",
        name="春日野三子",
        kana="かすがの みつこ",
        gender="female",
        occupation=Occupation.NURSE,
    )
    facility_services.membership_add(actor=None, user=admin, facility=demo["kasugano"])
    facility_services.role_appoint(
        actor=None, user=admin, facility=demo["kasugano"], role=FacilityRole.Role.MCS_ADMIN
    )
    return admin


@pytest.mark.parametrize("ending", ["withdrawn", "archived_death"])
@pytest.mark.parametrize("custodian", ["group_manager", "kasugano_admin"])
def test_a_custodian_opens_the_record_with_a_purpose_and_the_log_keeps_it(
    demo, people, client_as, custodian, ending
):
    group = yamada_group()
    patient_id = group.patient_id
    admin = _kasugano_mcs_admin(demo)
    ENDINGS[ending](people["group_manager"])
    client = client_as(None)
    actor = people["group_manager"] if custodian == "group_manager" else admin
    log_in(client, actor, mfa=True)  # an administrator signs in with a second factor

    for url in (
        reverse("consents:patient_detail", args=[patient_id]),
        reverse("groups:detail", args=[group.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        ask = response.headers["Location"]
        assert ask.startswith(reverse("consents:record_open", args=[patient_id]))
        page = client.get(ask).content.decode()
        assert "閲覧の目的" in page and not _leaks(page)  # the form shows nothing of him
    # No purpose: refused, nothing opened.
    page = client.post(reverse("consents:record_open", args=[patient_id]), {"purpose": ""})
    assert "閲覧の目的を選んでください" in page.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.PATIENT_OPEN_RECORD).exists()

    next_url = reverse("groups:detail", args=[group.pk])
    response = client.post(
        reverse("consents:record_open", args=[patient_id]),
        {"purpose": "patient_request", "next": next_url},
    )
    assert response.status_code == 302 and response.headers["Location"] == next_url
    group_page = client.get(next_url).content.decode()
    assert "山田太郎" in group_page and "高田看子" in group_page  # his details and the members
    assert "目的を記録して閲覧できます" in group_page
    patient_page = client.get(reverse("consents:patient_detail", args=[patient_id]))
    assert "春日野1-10-1" in patient_page.content.decode()

    [opening] = AuditEvent.objects.filter(action=AuditAction.PATIENT_OPEN_RECORD)
    assert opening.actor == actor and opening.object_id == str(patient_id)
    assert opening.changes == {"purpose": "patient_request"}
    assert not _leaks(opening.object_repr + str(opening.changes))
    views = AuditTrail.objects.filter(
        action="patient.view", actor=actor, object_id=str(patient_id)
    ).values_list("changes__via", flat=True)
    assert {"groups:detail", "consents:patient_detail"} <= set(views)


def test_an_opening_lasts_minutes_not_forever(demo, people, client_as):
    from django.utils import timezone

    from consents.permissions import OPEN_RECORD_MINUTES

    cm = people["group_manager"]
    _withdraw(cm)
    client = client_as("group_manager")
    patient_id = yamada_group().patient_id
    client.post(reverse("consents:record_open", args=[patient_id]), {"purpose": "correction"})
    url = reverse("consents:patient_detail", args=[patient_id])
    assert client.get(url).status_code == 200
    later = timezone.now() + dt.timedelta(minutes=OPEN_RECORD_MINUTES + 1)
    with time_machine.travel(later, tick=False):  # (the session itself would have ended)
        assert not patients_visible_to(cm).filter(pk=patient_id).exists()


def test_the_next_address_stays_on_the_portal(demo, people, client_as):
    _withdraw(people["group_manager"])
    client = client_as("group_manager")
    patient_id = yamada_group().patient_id
    response = client.post(
        reverse("consents:record_open", args=[patient_id]),
        {"purpose": "other", "next": "https://evil.example.com/"},
    )
    assert response.headers["Location"] == reverse("consents:patient_detail", args=[patient_id])


def test_a_working_group_is_untouched(demo, people, client_as):
    """Another patient's group goes on: its members keep their grants and pages."""
    _withdraw(people["group_manager"])
    joetsu = Group.objects.get(name="上越花子さんのグループ")
    doctor = people["other_facility_user"]
    assert doctor.has_perm("groups.access_group", joetsu)
    page = client_as("other_facility_user").get(reverse("groups:detail", args=[joetsu.pk]))
    assert "上越花子" in page.content.decode()


def test_withdrawal_notices_name_no_patient(demo, people):
    _withdraw(people["group_manager"])
    group = yamada_group()
    notices = Notification.objects.filter(kind="groups.consent_withdrawn")
    assert {n.recipient.email for n in notices} == {
        "doctor@abc.example.jp",
        "nurse@takada.example.jp",
    }
    for notice in notices:
        assert f"患者グループ No.{group.pk}" in notice.title
        assert not _leaks(notice.title + notice.body)


# --- the center never sees a patient's name (別紙5 (2)) ----------------------------------------


def _demo_patient_texts() -> tuple[str, ...]:
    from consents.demo import PATIENTS
    from mcnet.text import normalize_kana

    texts = []
    for name, kana, _birth, _sex, address, phone, _covered, signer in PATIENTS:
        texts += [name, kana, normalize_kana(kana), address, phone]
        if signer[1]:
            texts.append(signer[1])  # the family member who signed
    return tuple(texts)


def _center_urls() -> list[str]:
    from django.contrib import admin

    from mcnet.dashboard.exports import REPORTS
    from tests.security.expectations import EXPECTATIONS, OK

    urls = []
    for name, expect in EXPECTATIONS.items():  # every portal page the center opens
        if expect.method == "get" and expect.for_role("center") == OK:
            kwargs = expect.kwargs() if callable(expect.kwargs) else expect.kwargs
            data = expect.data() if callable(expect.data) else expect.data
            query = "&".join(f"{k}={v}" for k, v in data.items())
            urls.append(reverse(name, kwargs=kwargs) + (f"?{query}" if query else ""))
    urls.append(reverse("groups:center") + "?state=archived")
    for report in REPORTS:  # the exports, as CSV
        urls.append(
            reverse("dashboard:reports")
            + f"?report={report}&date_from=2020-01-01&date_to=2029-12-31&format=csv"
        )
    urls.append(reverse("auditlog:export") + "?format=csv")
    urls.append(reverse("auditlog:index") + "?action=patient")
    urls.append("/admin/")
    for model in admin.site._registry:  # every changelist and the change form of its rows
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        for pk in model._default_manager.order_by("-pk").values_list("pk", flat=True)[:6]:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk]))
    return urls


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_the_center_sees_no_patient_name_in_its_pages_admin_and_exports(demo, people, client_as):
    cm = people["group_manager"]
    _withdraw(cm)  # a closed group and its notices are there too
    services.group_archive(actor=cm, group=yamada_group())
    texts = _demo_patient_texts()
    client = client_as("center")
    urls = _center_urls()
    seen, leaks = 0, []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            continue
        seen += 1
        body = _body(response)
        leaks += [f"{url}: {t}" for t in texts if t in body]
    assert not leaks, leaks
    assert seen > 40  # the walk reached the pages (the admin's changelists included)
    overview = client.get(reverse("groups:center")).content.decode()
    assert f"患者グループ No.{yamada_group().pk}（春日野居宅介護支援事業所）" in overview


# --- mails never carry patient details ---------------------------------------------------------


def test_no_mail_names_a_patient(demo, people, mailoutbox):
    from mcnet.tasks import deliver_notification_emails

    cm = people["group_manager"]
    joetsu = Group.objects.get(name="上越花子さんのグループ")
    services.membership_invite(actor=cm, group=joetsu, user=people["other_mcs_admin"])
    _withdraw(cm)
    services.group_archive(actor=cm, group=yamada_group())
    ids = list(Notification.objects.values_list("pk", flat=True))
    deliver_notification_emails(ids)
    assert len(mailoutbox) == len(ids) > 10
    texts = _demo_patient_texts()
    for message in mailoutbox:
        found = [t for t in texts if t in message.subject + message.body]
        assert not found, (message.subject, found)
    link = reverse("groups:invitation", args=[joetsu.pk])
    [invitation] = [
        m for m in mailoutbox if m.to == [people["other_mcs_admin"].email] and link in m.body
    ]
    assert invitation.subject == "[MC ネット] 連携グループへの招待があります"
