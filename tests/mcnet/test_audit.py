"""The audit trail is append-only and written with every write (national guideline: access log)."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from facilities.models import Facility
from mcnet.audit import AuditAction, audit_record
from mcnet.models import AuditEvent
from mcnet.services import model_update_audited
from tests.factories import row_facility


def test_audit_events_cannot_be_changed_or_deleted(demo):
    event = audit_record(
        actor=None, action=AuditAction.FACILITY_UPDATE, object_type="x", object_id=1
    )
    event.action = "tampered"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "facility.update"


def test_admin_change_of_a_facility_is_audited_with_who_and_where(client_as, demo):
    client = client_as("center")
    abc = demo["abc"]
    data = {
        "name": "ABCクリニック",
        "kind": "clinic",
        "postal_code": "９４３ー１１１１",
        "prefecture": "新潟県",
        "city": "上越市",
        "town": "千代田町",
        "address_line": "1-1-1",
        "phone": "０２５−１１１−９９９９",
        "fax": "",
        "manager_name": "山田花子",
        "manager_email": "doctor@abc.example.jp",
        "state": "active",
        "state_changed_at_0": "2026-11-01",
        "state_changed_at_1": "09:00:00",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
    }
    response = client.post(
        f"/admin/facilities/facility/{abc.pk}/change/", data, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    abc.refresh_from_db()
    assert abc.phone == "025-111-9999"  # stored normalized
    # The admin writes through the service, whose event it is (facilities.services).
    event = AuditEvent.objects.filter(action="facility.update", object_id=str(abc.pk)).get()
    assert event.actor.email == "center@example.jp"
    assert event.ip_address == "198.51.100.7"
    assert "phone" in event.changes["fields"]
    assert "025-111-9999" not in str(event.changes)  # names, never values


def test_center_reads_the_audit_trail_but_cannot_add_or_change_it(client_as, demo):
    client = client_as("center")
    event = AuditEvent.objects.first()
    assert client.get("/admin/mcnet/auditevent/").status_code == 200
    assert client.get("/admin/mcnet/auditevent/add/").status_code == 403
    client.post(f"/admin/mcnet/auditevent/{event.pk}/change/", {"action": "x"})
    client.post(f"/admin/mcnet/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


def test_facility_creation_by_service_is_audited(demo):
    assert AuditEvent.objects.filter(
        action="facility.create", object_id=str(Facility.objects.get(name="ABCクリニック").pk)
    ).exists()


def test_the_trail_is_a_hash_chain_that_verifies(demo):
    from mcnet.audit import GENESIS, verify_chain

    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) > 5
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert verify_chain() is None


def test_an_edited_event_is_found_by_verify_audit(demo):
    from django.core.management import CommandError, call_command

    victim = AuditEvent.objects.order_by("id")[3]
    AuditEvent.objects.filter(pk=victim.pk).update(object_repr="書き換え")  # bypasses save()
    with pytest.raises(CommandError, match=f"event #{victim.pk} "):
        call_command("verify_audit")


def test_a_deleted_event_breaks_the_link_of_the_next(demo):
    from django.db.models.query import QuerySet

    from mcnet.audit import verify_chain

    _first, second, third = AuditEvent.objects.order_by("id")[:3]
    QuerySet.delete(AuditEvent.objects.filter(pk=second.pk))  # bypasses the model's delete()
    assert verify_chain().pk == third.pk


def test_verify_audit_reports_an_intact_trail(demo, capsys):
    from django.core.management import call_command

    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain(django_db_blocker):
    """Writers in parallel transactions (the lock and the read of the last hash are one
    round trip on PostgreSQL, mcnet 0005): every event links to the one before it."""
    import threading

    from django.db import connection, connections, transaction

    from mcnet.audit import verify_chain

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers by itself")
    start = threading.Barrier(4)
    errors = []

    def writer(n):
        try:
            start.wait()
            for i in range(15):
                with transaction.atomic():  # held a moment, so the others wait on the lock
                    audit_record(actor=None, action=AuditAction.REMINDERS_RUN, object_id=f"{n}-{i}")
        except Exception as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = list(AuditEvent.objects.filter(action=AuditAction.REMINDERS_RUN).order_by("id"))
    assert len(events) == 60
    assert len({event.prev_hash for event in events}) == 60  # no two share a predecessor
    assert verify_chain() is None


def test_an_update_is_audited_once_by_field_names_and_not_at_all_when_nothing_changed(db):
    facility = row_facility(name="旧名クリニック")
    before = AuditEvent.objects.count()
    fields = ("name", "phone")
    facility, changed = model_update_audited(
        actor=None,
        action=AuditAction.FACILITY_UPDATE,
        instance=facility,
        fields=fields,
        data={"name": "新名クリニック", "phone": facility.phone},
    )
    assert changed == ["name"]
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.action, event.object_id, event.changes) == (
        "facility.update",
        str(facility.pk),
        {"fields": ["name"]},
    )
    _same, changed = model_update_audited(
        actor=None,
        action=AuditAction.FACILITY_UPDATE,
        instance=facility,
        fields=fields,
        data={"name": "新名クリニック"},
    )
    assert changed == []
    assert AuditEvent.objects.count() == before + 1
