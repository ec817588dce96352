"""Nobody outside a patient's group sees the patient (別紙5 (2)): the 高田 nurse and 上越花子 by
every URL of both apps, and the center in its pages and in the admin."""

import pytest
from django.urls import URLPattern, get_resolver, reverse

from consents.models import Consent
from groups.models import Announcement, GroupAttestation, Membership, StaffAttestationLine
from mcnet.models import AuditTrail
from tests.demo_objects import (
    JOETSU_DETAILS,
    YAMADA_DOB_TEXTS,
    joetsu_group,
    shown,
    user,
    yamada_group,
)

# Details of 山田太郎 that the center must not see (his name included: the center sees a
# patient group as a neutral label, 別紙5 (2)).
YAMADA_DETAILS = ("山田太郎", *YAMADA_DOB_TEXTS, "春日野1-10-1", "025-555-0101", "ヤマダ タロウ")


def app_patterns(namespace: str) -> list[tuple[str, str]]:
    resolver = get_resolver().namespace_dict[namespace][1]
    return [
        (f"{namespace}:{p.name}", str(p.pattern))
        for p in resolver.url_patterns
        if isinstance(p, URLPattern)
    ]


def kwargs_for(name: str, route: str, group, patient, consent, membership, staff) -> dict:
    kwargs = {}
    if "<int:pk>" in route:
        if name.startswith("consents:"):
            kwargs["pk"] = consent.pk if route.startswith("consents/") else patient.pk
        elif "announcements" in route:
            kwargs["pk"] = Announcement.objects.first().pk
        else:
            kwargs["pk"] = group.pk
    if "<int:membership_pk>" in route:
        kwargs["membership_pk"] = membership.pk
    # The demo's attestations (高田's staff, 山田太郎's group), each with an open discrepancy.
    if "<int:line_pk>" in route:
        kwargs["line_pk"] = StaffAttestationLine.objects.get(discrepancy=True).pk
    if "<int:attestation_pk>" in route:
        kwargs["attestation_pk"] = GroupAttestation.objects.get(discrepancy=True).pk
    if "<int:user_pk>" in route:
        kwargs["user_pk"] = staff.pk
    return kwargs


def walk(client, group, patient, consent, membership, staff):
    """Every URL of both apps about these objects, by GET and POST: (url, method, response)."""
    for namespace in ("consents", "groups"):
        for name, route in app_patterns(namespace):
            kwargs = kwargs_for(name, route, group, patient, consent, membership, staff)
            url = reverse(name, kwargs=kwargs)
            for method in ("get", "post"):
                data = {"reason": "x", "user": staff.pk, "patient": patient.pk}
                yield name, url, method, getattr(client, method)(url, data), bool(kwargs)


def joetsu_objects():
    group = joetsu_group()
    return {
        "group": group,
        "patient": group.patient,
        "consent": Consent.objects.get(patient=group.patient),
        "membership": group.memberships.get(user__email="doctor@abc.example.jp"),
    }


def test_the_nurse_cannot_open_joetsus_group_patient_or_consent_by_any_url(demo, client_as):
    objects = joetsu_objects()
    staff = user("doctor@abc.example.jp")  # not the nurse's staff
    client = client_as("user")
    leaks, opened = [], []
    for _name, url, method, response, has_ids in walk(client, staff=staff, **objects):
        body = response.content.decode(errors="replace")
        if any(shown(text, body) for text in JOETSU_DETAILS):
            leaks.append(f"{method} {url}")
        about_her = has_ids and "announcements" not in url
        if about_her and response.status_code not in (403, 404, 405):
            opened.append(f"{method} {url}: {response.status_code}")
    assert not leaks, leaks
    assert not opened, opened
    # Nothing was changed either.
    assert objects["membership"].__class__.objects.get(pk=objects["membership"].pk).state == (
        Membership.State.ACCEPTED
    )
    assert not AuditTrail.objects.filter(
        action="patient.view",
        object_id=str(objects["patient"].pk),
        actor__email="nurse@takada.example.jp",
    ).exists()


@pytest.mark.parametrize("role", ["user", "mcs_admin", "other_mcs_admin", "center"])
def test_lists_and_home_show_nothing_of_joetsu_to_outsiders(demo, client_as, role):
    client = client_as(role)
    for url in (
        reverse("home"),
        reverse("groups:list"),
        reverse("groups:archive"),
        reverse("groups:archive_queue"),
        reverse("groups:announcements"),
        reverse("consents:patient_list"),
        reverse("consents:patient_list") + "?q=じょうえつ",
        reverse("groups:archive") + "?q=上越",
    ):
        body = client.get(url).content.decode()
        for text in JOETSU_DETAILS:
            assert not shown(text, body), (role, url, text)


def test_the_center_sees_no_patient_detail_in_any_page(demo, client_as):
    client = client_as("center")
    for group in (yamada_group(), joetsu_group()):
        objects = {
            "group": group,
            "patient": group.patient,
            "consent": Consent.objects.get(patient=group.patient),
            "membership": group.memberships.exclude(user_id=group.manager_id).first(),
        }
        nurse = user("nurse@takada.example.jp")
        for name, url, method, response, _ids in walk(client, staff=nurse, **objects):
            body = response.content.decode(errors="replace")
            for text in (*YAMADA_DETAILS, *JOETSU_DETAILS[1:]):
                assert not shown(text, body), (name, method, url, text)
            pages = ("groups:detail", "consents:patient_detail", "consents:consent_detail")
            if name in pages and method == "get":
                assert response.status_code == 404


def test_the_centers_overview_shows_labels_kinds_states_counts_and_reviews(demo, client_as):
    client = client_as("center")
    page = client.get(reverse("groups:center")).content.decode()
    yamada = yamada_group()
    assert f"患者グループ No.{yamada.pk}（春日野居宅介護支援事業所）" in page
    assert "アーカイブ済み" in page and "春日野地区 多職種連絡会" in page  # a free group's name
    for text in (*YAMADA_DETAILS, *JOETSU_DETAILS):
        assert not shown(text, page)
    # Searching by a patient's name finds nothing; by the group's number, the group.
    found = client.get(reverse("groups:center"), {"q": "山田"}).content.decode()
    assert f"No.{yamada.pk}（" not in found
    found = client.get(reverse("groups:center"), {"q": f"No.{yamada.pk}"}).content.decode()
    assert f"No.{yamada.pk}（" in found


def test_the_centers_admin_shows_groups_without_patient_details(demo, client_as):
    client = client_as("center")
    listing = client.get("/admin/groups/group/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert f"患者グループ No.{yamada_group().pk}（春日野居宅介護支援事業所）" in body
    for text in (*YAMADA_DETAILS, *JOETSU_DETAILS, "妙高次郎"):
        assert not shown(text, body), text
    searched = client.get("/admin/groups/group/", {"q": "山田太郎"}).content.decode()
    assert f"No.{yamada_group().pk}（" not in searched
    for group in (yamada_group(), joetsu_group()):
        change = client.get(f"/admin/groups/group/{group.pk}/change/")
        assert change.status_code == 200
        html = change.content.decode()
        assert group.name not in html and f"No.{group.pk}（" in html
        for text in (*YAMADA_DETAILS, *JOETSU_DETAILS, "生年月日", "住所"):
            assert not shown(text, html), text
    # Patients and consents are not in the admin at all.
    assert client.get("/admin/consents/patient/").status_code == 404
    assert client.get("/admin/consents/consent/").status_code == 404
    assert "/admin/consents/" not in client.get("/admin/").content.decode()
    # Read-only: the center changes no group through the admin.
    response = client.post(f"/admin/groups/group/{yamada_group().pk}/change/", {"name": "x"})
    assert response.status_code == 403
    assert yamada_group().name == "山田太郎さんのグループ"


def test_opening_a_patient_is_in_the_access_log(demo, client_as, people):
    yamada = yamada_group()
    client = client_as("other_facility_user")
    client.get(reverse("groups:detail", args=[yamada.pk]))
    client.get(reverse("consents:patient_detail", args=[yamada.patient_id]))
    events = AuditTrail.objects.filter(
        action="patient.view", actor=people["other_facility_user"], object_id=str(yamada.patient_id)
    )
    assert {e.changes["via"] for e in events} == {"groups:detail", "consents:patient_detail"}
    assert all(e.object_type == "consents.patient" for e in events)
    assert not any("山田" in e.object_repr for e in events)  # the trail never holds the name
