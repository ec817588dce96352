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
    "groups:announcements": Expect(signed_in(OK)),
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
    "groups:report_end": Expect(only("group_manager"), kwargs=_group),
    "groups:archive_group": Expect(only("group_manager"), kwargs=_group),
}
