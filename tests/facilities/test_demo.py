"""The facilities' demo data (第7条): pledges, one education session with attendees, one
pending invitation."""

from facilities.models import EducationSession, Invitation, StaffPledge, User
from mcnet.demo import load_demo


def test_demo_has_pledges_a_session_and_a_pending_invitation(demo):
    takada = demo["takada"]
    pledged = set(StaffPledge.objects.values_list("user__email", flat=True))
    assert pledged == {
        "admin@abc.example.jp",
        "doctor@abc.example.jp",
        "cm@kasugano.example.jp",
        "admin@takada.example.jp",
        "nurse@takada.example.jp",
    }
    assert StaffPledge.objects.get(user__email="doctor@abc.example.jp").waived
    session = EducationSession.objects.get(facility=takada)
    assert set(session.attendees.values_list("email", flat=True)) == {
        "admin@takada.example.jp",
        "nurse@takada.example.jp",
    }
    invitation = Invitation.objects.get(facility=takada)
    assert invitation.is_usable and invitation.email == "new.nurse@takada.example.jp"
    assert not User.objects.filter(email=invitation.email).exists()
    assert User.objects.get(email="nurse@takada.example.jp").photo


def test_loading_the_demo_twice_changes_nothing(demo):
    counts = (
        StaffPledge.objects.count(),
        EducationSession.objects.count(),
        Invitation.objects.count(),
    )
    photo = User.objects.get(email="nurse@takada.example.jp").photo.name
    load_demo()
    assert counts == (
        StaffPledge.objects.count(),
        EducationSession.objects.count(),
        Invitation.objects.count(),
    )
    assert User.objects.get(email="nurse@takada.example.jp").photo.name == photo
