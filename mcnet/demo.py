"""The demo network, in one place: used by `make run` (load_demo) and by the tests.

Loading it twice changes nothing: every row is found by its natural key first.
"""

import datetime as dt
from importlib import import_module
from importlib.util import find_spec

from django.db import transaction
from django.utils import timezone

from consents import services as consent_services
from consents.models import Patient, PatientRequest
from facilities import services as facility_services
from facilities.models import Facility, FacilityRole, Occupation, User

from .models import NetworkSettings
from .rulebook.models import RuleVersion
from .rulebook.seed import ensure_first_versions

DEMO_APPS = ("facilities", "consents", "groups", "devices", "enrollment")
DEMO_PASSWORD = "mcnet-demo-2026"  # noqa: S105 — published in the README for the demo
Role = FacilityRole.Role

FACILITIES = [
    {
        "key": "abc",
        "name": "ABCクリニック",
        "kind": Facility.Kind.CLINIC,
        "postal_code": "943-1111",
        "prefecture": "新潟県",
        "city": "上越市",
        "town": "千代田町",
        "address_line": "1-1-1",
        "phone": "025-111-1111",
        "manager_name": "山田花子",
        "manager_email": "doctor@abc.example.jp",
    },
    {
        "key": "kasugano",
        "name": "春日野居宅介護支援事業所",
        "kind": Facility.Kind.HOME_CARE_SUPPORT,
        "postal_code": "943-0807",
        "prefecture": "新潟県",
        "city": "上越市",
        "town": "春日野",
        "address_line": "2-2-2",
        "phone": "025-222-2222",
        "manager_name": "春日野一郎",
        "manager_email": "cm@kasugano.example.jp",
    },
    {
        "key": "takada",
        "name": "高田訪問看護ステーション",
        "kind": Facility.Kind.VISITING_NURSING,
        "postal_code": "943-0835",
        "prefecture": "新潟県",
        "city": "上越市",
        "town": "本城町",
        "address_line": "3-3-3",
        "phone": "025-333-3333",
        "manager_name": "高田次郎",
        "manager_email": "admin@takada.example.jp",
    },
]

# email, name, kana, gender, occupation, facility key, roles
USERS = [
    (
        "center@example.jp",
        "相澤 センター",
        "あいざわ せんたー",
        "female",
        Occupation.CENTER_STAFF,
        None,
        (),
    ),
    (
        "admin@abc.example.jp",
        "上越一",
        "じょうえつ はじめ",
        "male",
        Occupation.NURSE,
        "abc",
        (Role.MCS_ADMIN,),
    ),
    (
        "doctor@abc.example.jp",
        "山田花子",
        "やまだ はなこ",
        "female",
        Occupation.DOCTOR,
        "abc",
        (Role.FACILITY_MANAGER,),
    ),
    (
        "cm@kasugano.example.jp",
        "春日野一郎",
        "かすがの いちろう",
        "male",
        Occupation.CARE_MANAGER,
        "kasugano",
        (Role.MCS_ADMIN, Role.GROUP_MANAGER, Role.FACILITY_MANAGER),
    ),
    (
        "admin@takada.example.jp",
        "高田次郎",
        "たかだ じろう",
        "male",
        Occupation.NURSE,
        "takada",
        (Role.MCS_ADMIN, Role.FACILITY_MANAGER),
    ),
    (
        "nurse@takada.example.jp",
        "高田看子",
        "たかだ かんこ",
        "female",
        Occupation.NURSE,
        "takada",
        (),
    ),
]

LOGINS = [
    ("center@example.jp", "センター職員"),
    ("admin@abc.example.jp", "ABCクリニック MCS管理者"),
    ("doctor@abc.example.jp", "ABCクリニック 医師 山田花子（事業所管理者）"),
    ("cm@kasugano.example.jp", "春日野居宅 介護支援専門員（MCS管理者・患者グループ管理者）"),
    ("admin@takada.example.jp", "高田訪問看護 MCS管理者"),
    ("nurse@takada.example.jp", "高田訪問看護 看護師"),
]


@transaction.atomic
def load_demo() -> dict:
    """Create the demo network if it is not there yet; return the facilities by key."""
    NetworkSettings.load()
    # The rules of 2021-09-01 as version 1 of each document (the data migration made them;
    # a database flushed by a test has none).
    ensure_first_versions(RuleVersion)
    facilities = {}
    for data in FACILITIES:
        fields = {k: v for k, v in data.items() if k != "key"}
        facility = Facility.objects.filter(name=fields["name"]).first()
        if facility is None:
            facility = facility_services.facility_create(
                actor=None, state=Facility.State.ACTIVE, **fields
            )
        facilities[data["key"]] = facility

    for email, name, kana, gender, occupation, facility_key, roles in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = facility_services.user_create(
                actor=None,
                email=email,
                password=DEMO_PASSWORD,
                name=name,
                kana=kana,
                gender=gender,
                occupation=occupation,
            )
        if facility_key is None:
            if not user.is_center_staff:
                facility_services.center_staff_add(actor=None, user=user)
            continue
        facility = facilities[facility_key]
        facility_services.membership_add(actor=None, user=user, facility=facility)
        for role in roles:
            facility_services.role_appoint(actor=None, user=user, facility=facility, role=role)

    # Each app adds its part of the demo (patients, groups, devices, applications) in
    # `<app>/demo.py: load(facilities)`; all of it is reached from here, in this order.
    for app in DEMO_APPS:
        if find_spec(f"{app}.demo") is not None:
            import_module(f"{app}.demo").load(facilities)
    _load_patient_request()
    return facilities


def _load_patient_request() -> None:
    """One open disclosure request (別紙6 ご本人の照会): 上越花子's eldest son asked at 春日野
    to see what the network holds about his mother; his identity is still to be checked."""
    if find_spec("consents.demo") is None:
        return
    patient = Patient.objects.filter(name="上越花子", erased_at__isnull=True).first()
    if patient is None or PatientRequest.objects.filter(patient=patient).exists():
        return
    consent_services.patient_request_receive(
        actor=User.objects.get(email="cm@kasugano.example.jp"),
        patient=patient,
        kind=PatientRequest.Kind.DISCLOSURE,
        requester_kind=PatientRequest.Requester.FAMILY,
        requester_name="上越一郎",
        requester_relationship="長男",
        requester_contact="新潟県上越市本町3-2-1 025-555-0202",
        channel=PatientRequest.Channel.IN_PERSON,
        received_on=timezone.localdate() - dt.timedelta(days=2),
        details="母の情報をこのネットワークがどのように持っているか、すべて見せてほしい。",
    )
