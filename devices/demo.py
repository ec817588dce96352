"""Demo data of the devices app at 高田訪問看護ステーション: the register (one BYOD, one device
whose checklist is overdue), an approved and a pending take-out, an open loss report, and an
incident report handed to the center. Idempotent: each row is found by its natural key first."""

import datetime as dt

from django.utils import timezone

from facilities.models import User
from groups.models import Group

from . import services
from .models import (
    CHECKLIST_FIELDS,
    Device,
    IncidentReport,
    LossReport,
    PrivacyLeak,
    TakeoutRequest,
)

ADMIN = "admin@takada.example.jp"
NURSE = "nurse@takada.example.jp"

TABLET = "訪問用タブレット1号"
OFFICE_PC = "事務所PC-01"
BYOD_PHONE = "高田看子の私用スマートフォン"
LOST_PHONE = "訪問用スマホ2号"

APPROVED_PURPOSE = "訪問看護の記録確認（訪問先でMCSを閲覧）"
PENDING_PURPOSE = "夜間オンコール対応時にMCSで利用者の状況を確認するため"
INCIDENT_TEXT = "身に覚えのないログイン通知のメールが届きました。"


def load(facilities: dict) -> None:
    takada = facilities["takada"]
    admin = User.objects.filter(email=ADMIN).first()
    nurse = User.objects.filter(email=NURSE).first()
    if admin is None or nurse is None:
        return
    today = timezone.localdate()
    checked = {name: today - dt.timedelta(days=30) for name in CHECKLIST_FIELDS}
    stale = {name: today - dt.timedelta(days=400) for name in CHECKLIST_FIELDS}

    def device(label, **fields):
        found = Device.objects.filter(facility=takada, label=label).first()
        return found or services.device_register(
            actor=admin, facility=takada, label=label, **fields
        )

    tablet = device(
        TABLET,
        kind=Device.Kind.TABLET,
        ownership=Device.Ownership.FACILITY,
        assigned_user=nurse,
        **checked,
    )
    device(OFFICE_PC, kind=Device.Kind.PC, ownership=Device.Ownership.FACILITY, **stale)
    byod = device(
        BYOD_PHONE,
        kind=Device.Kind.SMARTPHONE,
        ownership=Device.Ownership.PERSONAL,
        assigned_user=nurse,
        **checked,
    )
    lost_phone = device(
        LOST_PHONE,
        kind=Device.Kind.SMARTPHONE,
        ownership=Device.Ownership.FACILITY,
        assigned_user=nurse,
        **checked,
    )

    # An approved take-out, active now (art. 12 (9)).
    if not TakeoutRequest.objects.filter(facility=takada, purpose=APPROVED_PURPOSE).exists():
        approved = services.takeout_file(
            actor=nurse,
            facility=takada,
            kind=TakeoutRequest.Kind.TAKEOUT,
            information="担当利用者の訪問看護記録（MCSの閲覧のみ、端末には保存しない）",
            medium=f"事業所のタブレット（{TABLET}）",
            purpose=APPROVED_PURPOSE,
            period_start=today,
            period_end=today + dt.timedelta(days=14),
            device=tablet,
        )
        services.takeout_decide(
            actor=admin,
            request_obj=approved,
            approve=True,
            comment="画面ロックを必ずかけてください。",
        )

    # A pending BYOD request (art. 12 (10)).
    if not TakeoutRequest.objects.filter(facility=takada, purpose=PENDING_PURPOSE).exists():
        services.takeout_file(
            actor=nurse,
            facility=takada,
            kind=TakeoutRequest.Kind.BYOD,
            information="オンコール対象の利用者の状況（MCSの閲覧のみ）",
            medium="個人所有のスマートフォン",
            purpose=PENDING_PURPOSE,
            period_start=today + dt.timedelta(days=1),
            period_end=today + dt.timedelta(days=90),
            device=byod,
            personal_device="スマートフォン（黒、顔認証ロックあり）",
        )

    # An open loss report (art. 12 (11)); the phone goes to "lost".
    if not LossReport.objects.filter(facility=takada, device_description=LOST_PHONE).exists():
        services.loss_report_file(
            actor=nurse,
            facility=takada,
            kind=LossReport.Kind.LOST,
            device=lost_phone,
            device_description=LOST_PHONE,
            occurred_at=timezone.now() - dt.timedelta(hours=3),
            place="訪問先から事業所へ戻る途中（高田駅付近）",
            contents="MCSアプリ（ログイン状態）、連絡先",
            password_changed=True,
            carrier_contacted=LossReport.Carrier.REQUESTED,
        )

    # An incident the administrator handed to the center (留意事項 4).
    if not IncidentReport.objects.filter(facility=takada, description=INCIDENT_TEXT).exists():
        incident = services.incident_file(
            actor=nurse,
            facility=takada,
            kind=IncidentReport.Kind.UNAUTHORIZED_ACCESS,
            occurred_at=timezone.now() - dt.timedelta(days=1),
            description=INCIDENT_TEXT,
        )
        services.incident_acknowledge(actor=admin, incident=incident)
        services.incident_escalate(
            actor=admin,
            incident=incident,
            note="パスワードを変更させました。MCS側のログイン履歴の確認をお願いします。",
        )

    # The unauthorized access may have exposed 山田太郎's group (高田's nurse is a member): the
    # legal clock runs (個人情報保護法 §26), the center sees its due dates.
    incident = IncidentReport.objects.get(facility=takada, description=INCIDENT_TEXT)
    if not PrivacyLeak.objects.filter(incident=incident).exists():
        services.leak_mark(
            actor=admin,
            report=incident,
            known_at=incident.occurred_at,
            groups=Group.objects.filter(patient__name="山田太郎", facility__isnull=False)[:1],
        )
