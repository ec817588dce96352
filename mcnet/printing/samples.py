"""Sample data for `render_form CODE --sample`: a made-up facility, staff and patient.

Nothing here is a real person; the example rows follow the rules' own example (別紙3).
"""

import datetime as dt

SAMPLE_DATE = dt.date(2026, 11, 23)

FACILITY = {
    "name": "ABCクリニック",
    "postal_code": "943-1111",
    "address": "新潟県○○市千代田町1-1-1",
    "phone": "025-111-1111",
    "fax": "025-111-1112",
    "kind": "診療所（クリニック）",
    "manager_name": "山田花子",
    "manager_email": "abc@example.jp",
}

# name, kana, gender, occupation, e-mail, MCS administrator, already registered with MCS
_STAFF = [
    ("山田花子", "やまだ はなこ", "女", "医師", "abc@example.jp", True, False),
    ("青木一", "あおき はじめ", "男", "看護師", "xyz@example.jp", False, True),
    ("佐藤京子", "さとう きょうこ", "女", "看護師", "sato@example.jp", False, False),
    ("鈴木健太", "すずき けんた", "男", "理学療法士", "suzuki@example.jp", False, False),
    ("高橋美咲", "たかはし みさき", "女", "事務職員", "takahashi@example.jp", False, True),
]


def staff_rows(count: int = len(_STAFF)) -> list[dict]:
    """`count` staff rows; beyond the named examples, numbered ones (to fill several pages)."""
    rows = []
    for i in range(count):
        if i < len(_STAFF):
            name, kana, gender, occupation, email, admin, registered = _STAFF[i]
        else:
            n = i + 1
            name, kana = f"職員{n:03d}", f"しょくいん {n:03d}"
            gender = "女" if n % 2 else "男"
            occupation = ("看護師", "介護福祉士", "薬剤師", "理学療法士")[n % 4]
            email, admin, registered = f"staff{n:03d}@example.jp", False, n % 5 == 0
        rows.append(
            {
                "name": name,
                "kana": kana,
                "gender": gender,
                "occupation": occupation,
                "email": email,
                "is_admin": admin,
                "registered": registered,
            }
        )
    return rows


CHANGES = [
    {
        "kana": "さとう きょうこ",
        "name": "佐藤京子",
        "occupation": "看護師",
        "email": "sato@example.jp",
        "is_admin": False,
        "change": "add",
    },
    {
        "kana": "すずき けんた",
        "name": "鈴木健太",
        "occupation": "理学療法士",
        "email": "suzuki@example.jp",
        "is_admin": False,
        "change": "delete",
    },
]

PATIENT = {"name": "見本太郎", "address": "新潟県○○市本町1-2-3"}
FAMILY = {"name": "見本花子", "relationship": "長女"}
EXPLAINER = {"facility": "みどり居宅介護支援事業所", "phone": "025-222-2222", "name": "緑川一郎"}
COVERED = [
    {"name": "みどり居宅介護支援事業所", "kind": "居宅介護支援事業所", "phone": "025-222-2222"},
    {"name": "見本クリニック", "kind": "診療所", "phone": "025-333-3333"},
]
ADDED = [
    {"name": "見本訪問看護ステーション", "kind": "訪問看護ステーション", "phone": "025-444-4444"}
]
SAMPLE_CONSENT_DATE = dt.date(2026, 4, 1)
TEAM = [
    {**COVERED[0], "professions": ["介護支援専門員"]},
    {**COVERED[1], "professions": ["医師", "看護師"]},
    {**ADDED[0], "professions": ["看護師"]},
]

TAKEOUT = {
    "facility": "さくら訪問看護ステーション",
    "requester_name": "桜井看子",
    "requester_occupation": "看護師",
    "kind": "facility",  # or "byod" (第12条(10))
    "device": "タブレット端末（事業所貸与 No.3）",
    "information": "訪問予定の利用者の訪問記録（MCS 上の患者グループ）",
    "medium": "タブレット端末本体（MCS アプリ。端末内にファイルは保存しない）",
    "purpose": "訪問先での記録と多職種との情報共有",
    "period_start": dt.date(2026, 12, 1),
    "period_end": dt.date(2027, 3, 31),
    "checklist": {
        "boot_password": True,
        "antivirus": True,
        "screen_lock": True,
        "browser_no_password": True,
        "no_file_sharing": True,
        "mdm_considered": False,
    },
    "decision": "approved",  # "approved" | "rejected" | "" (not decided yet)
    "decided_on": dt.date(2026, 11, 24),
    "approver_name": "桜井次郎",
    "decision_note": "訪問時以外は事業所で保管すること。",
}

LEAK = {
    "facility": {
        "name": FACILITY["name"],
        "address": FACILITY["address"],
        "phone": FACILITY["phone"],
        "manager_name": FACILITY["manager_name"],
    },
    "report_kind": "紛失・盗難報告",
    "known_at": dt.date(2026, 11, 20),
    "preliminary_due": dt.date(2026, 11, 23),
    "final_due": dt.date(2026, 12, 20),
    "group_count": 1,
    "items": {
        "overview": "訪問先からの帰路で業務用スマートフォンを紛失した。",
        "data_items": "氏名、病状に関する記録（要配慮個人情報）",
        "person_count": "1",
        "cause": "車両の屋根に置いたまま発車した。",
    },
}
