"""Permission expectations for the groups app's URLs (see expectations.py for the outcomes).

Demo: 山田太郎さんのグループ (manager: group_manager; members: other_facility_user and user;
invited: mcs_admin), 上越花子さんのグループ (group_manager, other_facility_user), an archived
group and a free group. The group manager is also 春日野's MCS administrator, so they archive.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, LOGIN, OK, REDIRECT, Expect, signed_in


def _group(name: str = "山田太郎さんのグループ") -> dict:
    from groups.models import Group

    return {"pk": Group.objects.get(name=name).pk}


def _nurse() -> dict:
    from facilities.models import User

    return {"user_pk": User.objects.get(email="nurse@takada.example.jp").pk}


def _nurse_membership() -> dict:
    from groups.models import Membership

    membership = Membership.objects.get(
        group__name="山田太郎さんのグループ", user__email="nurse@takada.example.jp"
    )
    return {"user_pk": membership.user_id, "membership_pk": membership.pk}


def _member_in_group() -> dict:
    from groups.models import Membership

    membership = Membership.objects.get(
        group__name="山田太郎さんのグループ", user__email="nurse@takada.example.jp"
    )
    return {"pk": membership.group_id, "membership_pk": membership.pk}


def _announcement() -> dict:
    from groups.models import Announcement

    return {"pk": Announcement.objects.get(audience="all_users").pk}


def _takada() -> dict:
    from facilities.models import Facility

    return {"pk": Facility.objects.get(name="高田訪問看護ステーション").pk}


def _open_staff_line() -> dict:
    from groups.models import StaffAttestationLine

    line = StaffAttestationLine.objects.get(
        attestation__facility__name="高田訪問看護ステーション", discrepancy=True
    )
    return {"pk": line.attestation.facility_id, "line_pk": line.pk}


def _open_group_attestation() -> dict:
    from groups.models import GroupAttestation

    found = GroupAttestation.objects.get(group__name="山田太郎さんのグループ", discrepancy=True)
    return {"pk": found.group_id, "attestation_pk": found.pk}


def only(role: str, outcome: str = OK) -> dict:
    return {**signed_in(DENIED), role: outcome}


MEMBERS_OF_YAMADA = {
    "anonymous": LOGIN,
    "user": OK,
    "other_facility_user": OK,
    "mcs_admin": DENIED,  # invited only: sees the invitation, not the group
    "other_mcs_admin": DENIED,
    "group_manager": OK,
    "center": DENIED,
}

EXPECTATIONS: dict = {
    "groups:list": Expect(signed_in(OK)),
    "groups:create_patient_group": Expect(only("group_manager")),
    "groups:create_free_group": Expect(signed_in(OK)),  # 留意事項 1 (2): no restriction
    "groups:archive": Expect(signed_in(OK)),  # scoped to what each is entitled to
    "groups:archive_queue": Expect(signed_in(OK)),  # scoped to the facilities one archives
    "groups:center": Expect(only("center")),
    # What MCS holds, attested: the overdue facilities and open discrepancies, for the center.
    "groups:center_attestations": Expect(only("center")),
    # 高田's MCS administrator attests its staff against MCS and resolves what differed.
    "groups:staff_attestation": Expect(only("mcs_admin"), kwargs=_takada),
    "groups:staff_attestation_resolve": Expect(
        only("mcs_admin", REDIRECT),
        kwargs=_open_staff_line,
        method="post",
        data={"resolution": "MCSに登録した"},
    ),
    # The group's manager attests its members against MCS.
    "groups:attestation": Expect(only("group_manager"), kwargs=_group),
    "groups:attestation_resolve": Expect(
        only("group_manager", REDIRECT),
        kwargs=_open_group_attestation,
        method="post",
        data={"resolution": "MCSで解除した"},
    ),
    # 第8条(1): counts per facility and neutral labels, for the center alone.
    "groups:center_monitoring": Expect(only("center")),
    "groups:announcements": Expect(signed_in(OK)),
    # 利用開始までの流れ 7①: the mail preview and its confirmation are the center's alone.
    "groups:announcement_mail": Expect(only("center"), kwargs=_announcement),
    "groups:announcement_read": Expect(signed_in(REDIRECT), kwargs=_announcement, method="post"),
    # 高田's MCS administrator and their own nurse; nobody else.
    "groups:staff_memberships": Expect(only("mcs_admin"), kwargs=_nurse),
    "groups:staff_membership_remove": Expect(
        only("mcs_admin", REDIRECT),
        kwargs=_nurse_membership,
        method="post",
        data={"reason": "退職のため"},
    ),
    "groups:staff_memberships_end": Expect(
        only("mcs_admin", REDIRECT), kwargs=_nurse, method="post", data={"reason": "退職のため"}
    ),
    "groups:detail": Expect(MEMBERS_OF_YAMADA, kwargs=_group),
    "groups:invitation": Expect(only("mcs_admin"), kwargs=_group),
    "groups:invitation_accept": Expect(only("mcs_admin", REDIRECT), kwargs=_group, method="post"),
    "groups:invitation_decline": Expect(only("mcs_admin", REDIRECT), kwargs=_group, method="post"),
    "groups:invite": Expect(only("group_manager"), kwargs=_group),
    "groups:member_remove": Expect(only("group_manager"), kwargs=_member_in_group),
    "groups:leave": Expect(MEMBERS_OF_YAMADA, kwargs=_group),
    "groups:handover": Expect(only("group_manager"), kwargs=_group),
    "groups:review": Expect(only("group_manager"), kwargs=_group),
    # 第8条(1): the group's manager records a post deleted in MCS; members and the MCS
    # administrators of other facilities do not.
    "groups:post_deletion": Expect(only("group_manager"), kwargs=_group),
    "groups:report_end": Expect(only("group_manager"), kwargs=_group),
    # 留意事項 3: only the manager withdraws a report (here there is none: a redirect saying so).
    "groups:report_end_undo": Expect(only("group_manager", REDIRECT), kwargs=_group, method="post"),
    "groups:archive_group": Expect(only("group_manager"), kwargs=_group),
}
