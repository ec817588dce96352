from facilities.models import Facility, FacilityRole, User
from mcnet.demo import DEMO_PASSWORD, LOGINS, load_demo
from mcnet.models import AuditEvent


def test_demo_data_is_idempotent(db):
    load_demo()
    counts = (
        User.objects.count(),
        Facility.objects.count(),
        FacilityRole.objects.count(),
        AuditEvent.objects.count(),
    )
    load_demo()
    assert counts == (
        User.objects.count(),
        Facility.objects.count(),
        FacilityRole.objects.count(),
        AuditEvent.objects.count(),
    )


def test_every_demo_login_works_with_the_published_password(client, demo):
    for email, _label in LOGINS:
        assert client.login(email=email, password=DEMO_PASSWORD), email
        client.logout()


def test_demo_roles_match_the_issue(demo):
    def roles(email):
        return set(FacilityRole.objects.filter(user__email=email).values_list("role", flat=True))

    assert roles("admin@abc.example.jp") == {"mcs_admin"}
    assert {"mcs_admin", "group_manager"} <= roles("cm@kasugano.example.jp")
    assert "mcs_admin" in roles("admin@takada.example.jp")
    assert roles("nurse@takada.example.jp") == set()
    assert User.objects.get(email="center@example.jp").is_center_staff
    abc = Facility.objects.get(name="ABCクリニック")
    assert (abc.kind, abc.postal_code, abc.phone) == ("clinic", "943-1111", "025-111-1111")
    assert abc.address == "新潟県上越市千代田町1-1-1"
    doctor = User.objects.get(email="doctor@abc.example.jp")
    assert (doctor.name, doctor.occupation) == ("山田花子", "doctor")


def test_load_demo_command_prints_the_logins(db, capsys):
    from django.core.management import call_command

    call_command("load_demo")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    assert all(email in out for email, _ in LOGINS)
