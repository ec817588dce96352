"""Demo patients with their consents (別紙7), registered by the care manager of 春日野.

Idempotent: each patient is found by facility and name first.
"""

import datetime as dt

from facilities.models import User

from . import services
from .models import Consent, Patient

# name, kana, birth date, sex, address, phone, covered facility keys, signer
PATIENTS = [
    (
        "山田太郎",
        "やまだ たろう",
        dt.date(1938, 4, 12),
        "male",
        "新潟県上越市春日野1-10-1",
        "025-555-0101",
        ("kasugano", "abc"),
        ("patient", "", ""),
    ),
    (
        "上越花子",
        "じょうえつ はなこ",
        dt.date(1942, 9, 3),
        "female",
        "新潟県上越市本町3-2-1",
        "025-555-0202",
        ("kasugano", "abc"),
        ("family", "上越一郎", "長男"),
    ),
    # Her group ended (death) and is in the archive.
    (
        "妙高次郎",
        "みょうこう じろう",
        dt.date(1930, 1, 20),
        "male",
        "新潟県妙高市栄町2-2",
        "0255-55-0303",
        ("kasugano", "abc"),
        ("patient", "", ""),
    ),
]


def load(facilities: dict) -> None:
    cm = User.objects.get(email="cm@kasugano.example.jp")
    kasugano = facilities["kasugano"]
    for name, kana, birth, sex, address, phone, covered, signer in PATIENTS:
        patient = Patient.objects.filter(facility=kasugano, name=name).first()
        if patient is None:
            patient = services.patient_register(
                actor=cm,
                facility=kasugano,
                name=name,
                kana=kana,
                birth_date=birth,
                sex=sex,
                address=address,
                phone=phone,
            )
        if not patient.consents.exists():
            kind, signer_name, relationship = signer
            services.consent_record(
                actor=cm,
                patient=patient,
                signed_on=dt.date(2026, 4, 1),
                signer_kind=kind,
                signer_name=signer_name,
                signer_relationship=relationship,
                explainer_facility=kasugano,
                explainer_phone=kasugano.phone,
                explainer_name=cm.name,
                covered_facilities=[facilities[key] for key in covered],
                academic_use=name == "山田太郎",
                paper_kept_at_facility=True,
            )
    # 山田太郎's visiting nurse (高田) joined later: a signed 追加同意書, the paper kept at 春日野.
    yamada = Consent.objects.active().get(patient__facility=kasugano, patient__name="山田太郎")
    if not yamada.addenda.exists():
        addendum = services.consent_addendum_prepare(
            actor=cm, consent=yamada, facilities=[facilities["takada"]]
        )
        services.consent_addendum_record_signed(
            actor=cm, addendum=addendum, signed_on=dt.date(2026, 5, 8), paper_kept_at_facility=True
        )
    assert Consent.objects.filter(patient__facility=kasugano).exists()
