"""Demo data of the enrollment app: one application awaiting the center, one 別紙3 request of
ABCクリニック awaiting registration, one 別紙4 notice of 高田. Found by natural key first, so
loading twice changes nothing."""

from facilities.models import Facility, User

from . import services
from .models import Application, ChangeNotice, RosterRequest

DEMO_APPLICATION = {
    "facility_name": "妙高みどり薬局",
    "postal_code": "944-0048",
    "prefecture": "新潟県",
    "city": "妙高市",
    "town": "下町",
    "address_line": "4-4-4",
    "phone": "0255-44-4444",
    "kind": Facility.Kind.PHARMACY,
    "manager_name": "妙高みどり",
    "manager_email": "manager@myoko-pharmacy.example.jp",
    "pledge_affirmed": True,
}

# 別紙3 of ABCクリニック: the two staff already in the demo (linked) and one newcomer.
DEMO_ROSTER = [
    {"name": "山田花子", "gender": "女", "occupation": "医師", "email": "doctor@abc.example.jp"},
    {
        "name": "上越一",
        "gender": "男",
        "occupation": "看護師",
        "email": "admin@abc.example.jp",
        "is_mcs_admin": "〇",
        "had_mcs_account": "有",
    },
    {
        "name": "春日山看子",
        "gender": "女",
        "occupation": "看護師",
        "email": "kasugayama@abc.example.jp",
    },
]

DEMO_NOTICE = [
    {
        "action": "追加",
        "kana": "たかだ りこ",
        "name": "高田理子",
        "occupation": "理学療法士",
        "email": "pt@takada.example.jp",
    },
]


def load(facilities: dict) -> None:
    if not Application.objects.filter(manager_email=DEMO_APPLICATION["manager_email"]).exists():
        application = services.application_create(data=DEMO_APPLICATION)
        services.application_confirm_email(application=application)

    abc = facilities["abc"]
    if not RosterRequest.objects.filter(facility=abc).exists():
        services.roster_submit(
            actor=User.objects.get(email="doctor@abc.example.jp"),
            facility=abc,
            rows=DEMO_ROSTER,
            source=RosterRequest.Source.WEB,
            representative_name="山田花子",
        )

    takada = facilities["takada"]
    if not ChangeNotice.objects.filter(facility=takada).exists():
        services.notice_submit(
            actor=User.objects.get(email="admin@takada.example.jp"),
            facility=takada,
            rows=DEMO_NOTICE,
            signer_name="高田次郎",
        )
