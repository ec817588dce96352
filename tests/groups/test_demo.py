"""The groups' demo data, and loading it twice changes nothing."""

from consents.models import Consent, Patient
from groups.models import Group, Membership
from mcnet.demo import load_demo
from mcnet.models import AuditEvent
from tests.demo_objects import joetsu_group, yamada_group


def accepted(group) -> set[str]:
    return set(
        group.memberships.filter(state=Membership.State.ACCEPTED).values_list(
            "user__email", flat=True
        )
    )


def test_the_demo_has_what_the_issue_asks(demo):
    cm = "cm@kasugano.example.jp"
    yamada, joetsu = yamada_group(), joetsu_group()
    assert yamada.manager.email == cm and joetsu.manager.email == cm
    assert accepted(yamada) == {cm, "doctor@abc.example.jp", "nurse@takada.example.jp"}
    assert accepted(joetsu) == {cm, "doctor@abc.example.jp"}
    for group in (yamada, joetsu):
        assert group.patient.consents.filter(status=Consent.Status.ACTIVE).exists()
    assert Membership.objects.filter(state=Membership.State.INVITED).count() == 1
    assert Group.objects.filter(state=Group.State.ARCHIVED).count() == 1
    assert Group.objects.filter(kind=Group.Kind.FREE).count() == 1
    assert Group.objects.filter(kind=Group.Kind.ALL_USERS).count() == 1


def test_loading_the_demo_twice_changes_nothing(demo):
    counts = (
        Patient.objects.count(),
        Consent.objects.count(),
        Group.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.filter(object_type__startswith="groups").count(),
    )
    load_demo()
    assert counts == (
        Patient.objects.count(),
        Consent.objects.count(),
        Group.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.filter(object_type__startswith="groups").count(),
    )
