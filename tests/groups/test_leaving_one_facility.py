"""留意事項4: a membership records the facility through which the member joined; leaving that
facility ends it, even for someone who still works at another facility, and the group's
manager is asked to invite them again if they still care for the patient."""

from facilities import services as facility_services
from facilities.models import User
from groups.models import Membership
from mcnet.models import Notification
from tests.demo_objects import membership, yamada_group


def test_leaving_the_facility_one_joined_through_ends_that_membership_only(demo, people):
    nurse, takada, abc = people["user"], demo["takada"], demo["abc"]
    facility_services.membership_add(actor=None, user=nurse, facility=abc)
    yamada = yamada_group()
    through_takada = membership(yamada, nurse.email)
    assert through_takada.via_facility == takada  # invited while working at 高田 only
    others = list(
        Membership.objects.filter(user=nurse, state__in=Membership.OPEN_STATES).exclude(
            pk=through_takada.pk
        )
    )
    # Say one other membership was joined through ABC (the group invited her as ABC's staff).
    assert others
    Membership.objects.filter(pk=others[0].pk).update(via_facility=abc)

    facility_services.staff_deactivate(
        actor=people["mcs_admin"], user=nurse, facility=takada, reason="異動"
    )
    assert User.objects.get(pk=nurse.pk).state == User.State.ACTIVE  # still works at ABC
    through_takada.refresh_from_db()
    assert through_takada.state not in Membership.OPEN_STATES
    assert Membership.objects.get(pk=others[0].pk).state in Membership.OPEN_STATES
    asked = Notification.objects.get(
        kind="groups.member_ended", recipient=yamada.manager, title__contains=yamada.name
    )
    assert "高田訪問看護ステーション を通じて参加していたため外れました" in asked.body
    assert "改めて招待してください" in asked.body


def test_a_new_invitation_records_the_facility(demo, people):
    from groups import services

    yamada = yamada_group()
    admin = people["other_mcs_admin"]  # ABC's MCS administrator, only at ABC
    Membership.objects.filter(group=yamada, user=admin).delete()
    invited = services.membership_invite(actor=yamada.manager, group=yamada, user=admin)
    assert invited.via_facility == demo["abc"]
