"""Demo groups managed by cm@kasugano.example.jp (第8条): 山田太郎 with the ABC doctor and the
高田 nurse, 上越花子 with the ABC doctor only, one pending invitation, one archived group and one
free group; and the center's announcements.

Idempotent: groups are found by patient (or name), memberships by their open state.
"""

import datetime as dt

from django.utils import timezone

from consents.models import Patient
from facilities.models import User

from . import selectors, services
from .models import Announcement, Group, Membership, StaffAttestation, StaffAttestationLine

FREE_GROUP_NAME = "春日野地区 多職種連絡会"


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _member(group: Group, manager: User, user: User) -> None:
    """Invite and accept, unless already in."""
    membership = group.memberships.filter(user=user, state__in=Membership.OPEN_STATES).first()
    if membership is None:
        membership = services.membership_invite(actor=manager, group=group, user=user)
    if membership.state == Membership.State.INVITED:
        services.group_invitation_accept(actor=user, membership=membership)


def _patient_group(facilities: dict, name: str, manager: User) -> Group:
    patient = Patient.objects.get(facility=facilities["kasugano"], name=name)
    group = Group.objects.filter(patient=patient).order_by("-pk").first()
    if group is None:
        group = services.group_create_for_patient(actor=manager, patient=patient)
    return group


def _attestations(facilities: dict, yamada: Group, cm: User) -> None:
    """MCS has no API: 高田's MCS administrator compared its staff with MCS a month ago and
    found the nurse not yet registered there; the care manager found one person in 山田太郎's
    MCS group who is not in the portal. Both left open, as tasks."""
    when = timezone.now() - dt.timedelta(days=30)
    takada = facilities["takada"]
    if not StaffAttestation.objects.filter(facility=takada).exists():
        statuses = {
            user.pk: StaffAttestationLine.Status.IN_MCS
            for user, _ in selectors.staff_to_attest(takada)
        }
        statuses[_user("nurse@takada.example.jp").pk] = StaffAttestationLine.Status.NOT_IN_MCS
        services.staff_attestation_record(
            actor=_user("admin@takada.example.jp"), facility=takada, statuses=statuses, now=when
        )
    if yamada.is_open and not yamada.attestations.exists():
        present = yamada.memberships.filter(state=Membership.State.ACCEPTED).values_list(
            "user_id", flat=True
        )
        services.group_attestation_record(
            actor=cm, group=yamada, present_user_ids=list(present), extra_in_mcs=1, now=when
        )


def load(facilities: dict) -> None:
    cm = _user("cm@kasugano.example.jp")
    doctor = _user("doctor@abc.example.jp")
    nurse = _user("nurse@takada.example.jp")
    center = _user("center@example.jp")
    selectors.all_users_group()

    yamada = _patient_group(facilities, "山田太郎", cm)
    if yamada.is_open:
        _member(yamada, cm, doctor)
        _member(yamada, cm, nurse)
        # The one pending invitation: 高田's MCS administrator, not yet answered.
        takada_admin = _user("admin@takada.example.jp")
        if not yamada.memberships.filter(user=takada_admin).exists():
            services.membership_invite(actor=cm, group=yamada, user=takada_admin)
        if yamada.last_reviewed_at is None:
            services.supporter_review_record(
                actor=cm, group=yamada, note="初回の精査", timeline_checked=True
            )

    joetsu = _patient_group(facilities, "上越花子", cm)
    if joetsu.is_open:
        _member(joetsu, cm, doctor)

    myoko = _patient_group(facilities, "妙高次郎", cm)
    if myoko.state == Group.State.ACTIVE:
        _member(myoko, cm, doctor)
        myoko = services.group_report_end(
            actor=cm, group=myoko, reason=Group.EndReason.DEATH, note="在宅で看取り"
        )
    if myoko.state == Group.State.TO_BE_ARCHIVED:
        services.group_archive(actor=cm, group=myoko)  # cm is 春日野's MCS administrator

    _attestations(facilities, yamada, cm)

    free = Group.objects.filter(kind=Group.Kind.FREE, name=FREE_GROUP_NAME).first()
    if free is None:
        free = services.group_create_free(
            actor=cm, name=FREE_GROUP_NAME, description="地域の多職種で情報交換をするグループ"
        )
        _member(free, cm, nurse)

    if not Announcement.objects.exists():
        services.announcement_create(
            actor=center,
            title="MC ネットへようこそ",
            body="MC ネット 全ユーザーグループです。センターからのお知らせをここに掲載します。",
        )
        services.announcement_create(
            actor=center,
            title="MCS管理者の皆さまへ: 年次のIT機器点検のお願い",
            body="各事業所のIT機器のチェックリストを確認してください（運用規程 第12条）。",
            audience=Announcement.Audience.MCS_ADMINS,
        )
