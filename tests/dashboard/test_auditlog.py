"""The audit viewer: the center searches the whole trail (patient page openings included, with
no patient detail) and exports it; an MCS administrator sees their facility's events and their
staff's, nothing else."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from facilities.models import Facility, FacilityMembership, User
from groups.models import Group
from mcnet.audit import AuditAction, audit_record
from mcnet.auditlog.selectors import AuditScope, audit_scope, events_in_scope
from mcnet.models import AuditEvent, AuditTrail

URL = reverse("auditlog:index")
EXPORT = reverse("auditlog:export")


def _facility(name_part: str) -> Facility:
    return Facility.objects.get(name__contains=name_part)


@pytest.fixture
def yamada_group(demo):
    return Group.objects.get(name="山田太郎さんのグループ")


@pytest.fixture
def opened(client_as, yamada_group):
    """The 高田 nurse and the ABC doctor, members of 山田太郎's group (a 春日野 patient), open
    its page: two entries in the access log of patient data."""
    for role in ("user", "other_facility_user"):
        response = client_as(role).get(reverse("groups:detail", args=[yamada_group.pk]))
        assert response.status_code == 200
    return AuditTrail.objects.filter(action="patient.view", object_id=str(yamada_group.patient_id))


def _rows(response):
    return response.context["rows"]


def test_the_center_sees_who_opened_which_patients_page(client_as, opened, yamada_group):
    assert opened.count() == 2
    client = client_as("center")
    rows = _rows(client.get(URL, {"action": "patient.view"}))
    actors = {row.actor for row in rows}
    assert {"nurse@takada.example.jp", "doctor@abc.example.jp"} <= actors
    row = next(r for r in rows if r.actor == "doctor@abc.example.jp")
    assert row.object_id == str(yamada_group.patient_id)
    assert row.object_label == f"consents.patient #{yamada_group.patient_id}"
    assert row.changes == '{"via": "groups:detail"}'  # which page, nothing about the patient
    assert row.masked
    page = client.get(URL, {"action": "patient"}).content.decode()
    assert "山田太郎" not in page and "1938" not in page


def test_a_patient_label_never_reaches_the_center(client_as, yamada_group, demo):
    """Should a service ever store a patient's name in the label or the changes, the center
    still sees only the type and id (the facility's own MCS administrator sees it as stored)."""
    kasugano = demo["kasugano"]
    event = AuditEvent(
        actor_label="cm@kasugano.example.jp",
        action="patient.update",
        object_type="consents.patient",
        object_id=str(yamada_group.patient_id),
        object_repr="山田太郎",
        facility_id=kasugano.pk,
        changes={"name": "山田太郎", "fields": ["name"]},
    )
    event.save()
    center = client_as("center").get(URL, {"object_id": event.object_id})
    row = next(r for r in _rows(center) if r.id == event.pk)
    assert row.object_label == f"consents.patient #{event.object_id}"
    assert "山田太郎" not in row.changes and "name: 非表示" in row.changes
    assert "山田太郎" not in center.content.decode()
    own = client_as("group_manager").get(URL, {"object_id": event.object_id})
    row = next(r for r in _rows(own) if r.id == event.pk)
    assert row.object_label == "山田太郎" and not row.masked


def test_an_mcs_administrator_sees_their_facility_and_their_staff_only(client_as, opened, demo):
    takada, abc = demo["takada"], demo["abc"]
    rows = _rows(client_as("mcs_admin").get(URL))
    assert rows
    takada_staff = set(
        FacilityMembership.objects.filter(facility=takada, is_active=True).values_list(
            "user__email", flat=True
        )
    )
    for row in rows:
        assert row.facility_id == takada.pk or row.actor in takada_staff, row
    # Their nurse opening a 春日野 patient's page: shown, as type and id only.
    viewed = [r for r in rows if r.action == "patient.view"]
    assert [r.actor for r in viewed] == ["nurse@takada.example.jp"]
    assert viewed[0].masked
    # Nothing of ABC's.
    everything = AuditTrail.objects.filter(
        pk__in=events_in_scope(audit_scope(User.objects.get(email="admin@takada.example.jp")))
    )
    assert not everything.filter(facility_id=abc.pk).exclude(actor__email__in=takada_staff)
    assert not everything.filter(actor__email="doctor@abc.example.jp").exclude(
        facility_id=takada.pk
    )
    # 春日野's administrator sees both openings of their patient's page, as stored.
    kasugano_rows = _rows(client_as("group_manager").get(URL, {"action": "patient.view"}))
    assert {r.actor for r in kasugano_rows} == {
        "nurse@takada.example.jp",
        "doctor@abc.example.jp",
    }
    assert not any(r.masked for r in kasugano_rows)


def test_staff_who_left_are_no_longer_followed(client_as, demo):
    takada, abc = demo["takada"], demo["abc"]
    leaver = User.objects.create_user("leaver@example.jp", "pw-leaver-2026", name="退職 者")
    FacilityMembership.objects.create(user=leaver, facility=takada, is_active=False)
    at_takada = audit_record(
        actor=leaver, action=AuditAction.FACILITY_UPDATE, facility_id=takada.pk
    )
    elsewhere = audit_record(actor=leaver, action=AuditAction.FACILITY_UPDATE, facility_id=abc.pk)
    scope = audit_scope(User.objects.get(email="admin@takada.example.jp"))
    visible = set(events_in_scope(scope).values_list("pk", flat=True))
    assert at_takada.pk in visible and elsewhere.pk not in visible


def test_who_reads_the_trail():
    assert audit_scope(None) is None


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("user", False),
        ("other_facility_user", False),  # a facility manager, not an MCS administrator
        ("mcs_admin", True),
        ("other_mcs_admin", True),
        ("group_manager", True),
        ("center", True),
    ],
)
def test_access_by_role(client_as, people, role, allowed):
    assert client_as(role).get(URL).status_code == (200 if allowed else 403)
    scope = audit_scope(people[role])
    assert (scope is not None) == allowed
    if role == "center":
        assert scope == AuditScope(True, frozenset())


def test_search_by_actor_facility_object_action_and_days(client_as, demo):
    takada = demo["takada"]
    client = client_as("center")
    base = AuditEvent.objects.count()
    assert base > 20
    by_email = _rows(client.get(URL, {"actor": "CM@KASUGANO"}))
    assert by_email and {r.actor for r in by_email} == {"cm@kasugano.example.jp"}
    by_name = _rows(client.get(URL, {"actor": "かすがの"}))  # kana of 春日野一郎
    assert {r.actor for r in by_name} == {"cm@kasugano.example.jp"}
    by_id = _rows(client.get(URL, {"facility": str(takada.pk)}))
    assert by_id and all(r.facility_id == takada.pk for r in by_id)
    by_name = _rows(client.get(URL, {"facility": "高田訪問"}))
    assert {r.id for r in by_name} == {r.id for r in by_id}
    created = _rows(client.get(URL, {"action": "facility.create"}))
    assert {r.facility_name for r in created} >= {"ABCクリニック", "高田訪問看護ステーション"}
    prefix = _rows(client.get(URL, {"action": "facility"}))
    assert {r.action.split(".")[0] for r in prefix} == {"facility"}
    one = _rows(client.get(URL, {"object_type": "facilities.facility", "object_id": takada.pk}))
    assert one and {(r.object_type, r.object_id) for r in one} == {
        ("facilities.facility", str(takada.pk))
    }
    today = timezone.localdate()
    assert _rows(client.get(URL, {"date_from": today, "date_to": today}))
    assert not _rows(client.get(URL, {"date_to": today - dt.timedelta(days=1)}))
    bad = client.get(URL, {"date_from": today, "date_to": today - dt.timedelta(days=3)})
    assert "終了日は開始日と同じか、それより後にしてください。" in bad.content.decode()


def test_pages_of_fifty(client_as, demo):
    client = client_as("center")
    first = client.get(URL)
    assert len(_rows(first)) == 50 and first.context["has_next"]
    second = client.get(URL, {"page": 2})
    assert not {r.id for r in _rows(first)} & {r.id for r in _rows(second)}


def test_export_as_csv_and_xlsx(client_as, opened):
    client = client_as("center")
    response = client.get(EXPORT, {"action": "patient.view", "format": "csv"})
    assert response["Content-Disposition"].endswith('.csv"')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日時", "操作者", "操作"]
    assert len(rows) == 3 and {r[2] for r in rows[1:]} == {"patient.view"}
    assert all(r[5].startswith("consents.patient #") for r in rows[1:])
    response = client.get(EXPORT, {"action": "patient.view", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "日時" and len(values) == 3
    exported = AuditEvent.objects.filter(action="audit.export").order_by("-pk")
    assert exported.count() == 2
    assert exported[0].changes["filters"] == {"action": "patient.view"}
    assert exported[0].changes["scope"] == "center"


def test_an_administrators_export_is_their_scope(client_as, opened, demo):
    client = client_as("mcs_admin")
    body = b"".join(client.get(EXPORT, {"format": "csv"}).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
    takada = demo["takada"]
    staff = {"admin@takada.example.jp", "nurse@takada.example.jp"}
    assert rows
    for row in rows:
        assert row[6] == str(takada.pk) or row[1] in staff, row
    assert client_as("user").get(EXPORT, {"format": "csv"}).status_code == 403
