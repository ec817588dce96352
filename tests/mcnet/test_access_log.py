"""The access log of patient data off the audit chain's lock: a view appends a pending record
(one INSERT, no lock), the periodic job seals it into the hash chain once, in order, and every
reader of the trail sees it from the moment it is written (mcnet/audit.py)."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections, transaction
from django.urls import reverse

from consents.services import patient_access_record
from mcnet import audit
from mcnet.audit import AuditAction, access_log_seal, audit_record, verify_chain
from mcnet.models import AuditEvent, AuditPending, AuditTrail
from mcnet.printing.forms.disclosure import access_events
from tests.conftest import ROLE_EMAILS
from tests.demo_objects import yamada_group

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the chain's lock is PostgreSQL's advisory lock"
)


def _views(patient_id) -> dict:
    filters = {"action": "patient.view", "object_id": str(patient_id)}
    return {
        "sealed": AuditEvent.objects.filter(**filters).count(),
        "pending": AuditPending.objects.filter(**filters).count(),
        "trail": AuditTrail.objects.filter(**filters).count(),
    }


class _ChainLockHeld:
    """Another connection holds the chain's lock (as a writer in a long transaction would),
    and this one gives up on any lock after a second: a request that needed the chain's lock
    fails instead of completing."""

    def __enter__(self):
        self.other = connections.create_connection("default")
        self.other.ensure_connection()
        self.other.set_autocommit(False)
        with self.other.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
            cursor.execute("SELECT mcnet_audit_chain_head()")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
        self.other.rollback()
        self.other.close()


@pytest.mark.django_db(transaction=True)  # the test's own writes must not hold the lock
def test_opening_a_patients_page_takes_no_chain_lock(demo, client_as):
    group = yamada_group()
    client = client_as("user")  # signing in is audited: before the lock is taken
    before = _views(group.patient_id)
    with _ChainLockHeld():
        response = client.get(reverse("groups:detail", args=[group.pk]))
        assert response.status_code == 200
        # What the view used to do (and every write still does) waits for the lock: the test
        # would catch a view that took it.
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            audit_record(actor=None, action=AuditAction.REMINDERS_RUN, object_type="x")
    after = _views(group.patient_id)
    assert after["sealed"] == before["sealed"]
    assert after["pending"] == before["pending"] + 1
    assert after["trail"] == before["trail"] + 1


def test_a_pending_record_holds_ids_and_codes_only(demo, client_as, people):
    group = yamada_group()
    client_as("user").get(reverse("groups:detail", args=[group.pk]), REMOTE_ADDR="198.51.100.9")
    record = AuditPending.objects.latest("id")
    assert (record.actor, record.actor_label) == (people["user"], "nurse@takada.example.jp")
    assert (record.object_type, record.object_id) == ("consents.patient", str(group.patient_id))
    assert record.facility_id == group.patient.facility_id
    assert record.changes == {"via": "groups:detail"}
    assert record.ip_address == "198.51.100.9"
    stored = " ".join(str(getattr(record, f.attname)) for f in AuditPending._meta.concrete_fields)
    assert "山田" not in stored and "やまだ" not in stored and "1938" not in stored


def test_a_members_opening_records_what_patient_access_record_writes(demo, client_as, people):
    # A member's decision and record are one statement (groups.services.group_open): its
    # record must be the service's own, column for column.
    group = yamada_group()
    client_as("user").get(reverse("groups:detail", args=[group.pk]), REMOTE_ADDR="198.51.100.9")
    from_the_page = AuditPending.objects.latest("id")
    token = audit.current_ip.set("198.51.100.9")
    try:
        patient_access_record(actor=people["user"], patient=group.patient, via="groups:detail")
    finally:
        audit.current_ip.reset(token)
    from_the_service = AuditPending.objects.latest("id")
    columns = [f.attname for f in AuditPending._meta.concrete_fields]
    columns = [c for c in columns if c not in ("id", "created_at")]
    assert [getattr(from_the_page, c) for c in columns] == [
        getattr(from_the_service, c) for c in columns
    ]
    assert from_the_page.created_at <= from_the_service.created_at


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
def test_an_opening_is_recorded_exactly_when_the_page_is_shown(demo, client_as, role):
    # Members are decided and recorded in one statement, anyone else by every way of seeing
    # a group and then recorded; a refusal (deny by default) records nothing.
    group = yamada_group()
    before = _views(group.patient_id)["pending"]
    response = client_as(role).get(reverse("groups:detail", args=[group.pk]))
    shown = response.status_code == 200
    assert _views(group.patient_id)["pending"] == before + (1 if shown else 0)


def test_only_reads_are_deferred(demo):
    with pytest.raises(ValueError, match="audit_record"):
        audit.access_log_append(
            actor=None, action=AuditAction.PATIENT_UPDATE, target=yamada_group().patient
        )


def test_the_seal_chains_each_record_once_in_order_as_it_was_recorded(demo, client_as):
    group = yamada_group()
    client = client_as("user")
    for _ in range(3):
        client.get(reverse("groups:detail", args=[group.pk]), REMOTE_ADDR="198.51.100.9")
    client_as("other_facility_user").get(
        reverse("consents:patient_detail", args=[group.patient_id])
    )
    pending = list(AuditPending.objects.order_by("id"))
    assert len(pending) == 4
    last_before = AuditEvent.objects.order_by("-id").first()

    assert access_log_seal(batch_size=3) == 4  # two batches
    assert access_log_seal() == 0  # nothing twice
    assert not AuditPending.objects.exists()
    sealed = list(AuditEvent.objects.filter(pk__gt=last_before.pk).order_by("id"))
    fields = (
        "created_at",
        "actor_id",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "facility_id",
        "changes",
        "ip_address",
    )
    assert [[getattr(e, f) for f in fields] for e in sealed] == [
        [getattr(p, f) for f in fields] for p in pending
    ]
    assert sealed[0].prev_hash == last_before.hash
    assert verify_chain() is None


def test_a_batch_that_fails_half_way_leaves_everything_pending(demo, client_as, monkeypatch):
    group = yamada_group()
    client = client_as("user")
    for _ in range(5):
        client.get(reverse("groups:detail", args=[group.pk]))
    events_before = AuditEvent.objects.count()
    insert = AuditEvent.objects.bulk_create
    calls = []

    def insert_then_crash(events, **kwargs):
        created = insert(events, **kwargs)
        calls.append(len(created))
        if len(calls) == 2:  # the second batch is in the table when the worker dies
            raise RuntimeError("worker killed")
        return created

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", insert_then_crash)
    with pytest.raises(RuntimeError, match="worker killed"):
        access_log_seal(batch_size=2)
    assert calls == [2, 2]
    # The first batch is sealed; the second left nothing behind and is still pending.
    assert AuditEvent.objects.count() == events_before + 2
    assert AuditPending.objects.count() == 3
    monkeypatch.undo()
    assert access_log_seal(batch_size=2) == 3
    assert AuditEvent.objects.count() == events_before + 5
    assert verify_chain() is None


def test_the_trail_shows_a_pending_opening_and_the_same_event_once_sealed(demo, client_as):
    group = yamada_group()
    client_as("other_facility_user").get(
        reverse("groups:detail", args=[group.pk]), REMOTE_ADDR="198.51.100.9"
    )
    center = client_as("center")
    query = {"action": "patient.view", "object_id": str(group.patient_id)}

    def rows():
        return [
            (r.created_at, r.actor, r.object_label, r.changes, r.ip_address, r.masked)
            for r in center.get("/audit/", query).context["rows"]
        ], [r.sealed for r in center.get("/audit/", query).context["rows"]]

    def exported():
        response = center.get("/audit/export/", {**query, "format": "csv"})
        return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[1:]

    pending_rows, pending_sealed = rows()
    pending_export = exported()
    pending_disclosure = list(access_events(group.patient).values("created_at", "actor_id"))
    assert pending_rows and not pending_sealed[0]
    assert pending_rows[0][1] == "doctor@abc.example.jp" and pending_rows[0][4] == "198.51.100.9"
    assert any("doctor@abc.example.jp" in line for line in pending_export)

    access_log_seal()
    sealed_rows, sealed = rows()
    assert sealed_rows == pending_rows and all(sealed)  # the same events, none twice
    assert exported() == pending_export
    assert list(access_events(group.patient).values("created_at", "actor_id")) == (
        pending_disclosure
    )


def test_verify_audit_passes_after_the_seal_and_finds_a_tampered_sealed_opening(
    demo, client_as, capsys
):
    group = yamada_group()
    client_as("user").get(reverse("groups:detail", args=[group.pk]))
    call_command("verify_audit")
    assert "awaiting their seal: 1" in capsys.readouterr().out
    access_log_seal()
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "intact" in out and "awaiting" not in out
    opening = AuditEvent.objects.filter(action="patient.view").latest("id")
    AuditEvent.objects.filter(pk=opening.pk).update(actor_label="someone@else.example.jp")
    with pytest.raises(CommandError, match=f"event #{opening.pk} "):
        call_command("verify_audit")


def test_the_periodic_job_seals_the_access_log(demo, client_as, settings):
    from mcnet import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["audit-seal-access-log"]
    assert entry["task"] == tasks.seal_access_log.name == "mcnet.tasks.seal_access_log"
    assert float(entry["schedule"]) <= 60  # tamper-evident within a minute
    client_as("user").get(reverse("groups:detail", args=[yamada_group().pk]))
    assert tasks.seal_access_log.apply().get() == 1
    assert not AuditPending.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sealers_seal_each_record_once_in_order():
    """Four sealers at once, each in its own connection and transactions: they take turns on
    the chain's lock and each batch reads only what the one before left."""
    records = [
        AuditPending(
            actor_label="system",
            action="patient.view",
            object_type="consents.patient",
            object_id=str(n),
            changes={"via": "groups:detail"},
        )
        for n in range(200)
    ]
    AuditPending.objects.bulk_create(records)
    start = threading.Barrier(4)
    sealed, errors = [], []

    def sealer():
        try:
            start.wait()
            sealed.append(access_log_seal(batch_size=15))
        except Exception as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sealer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(sealed) == 200
    assert not AuditPending.objects.exists()
    events = AuditEvent.objects.filter(action="patient.view").order_by("id")
    assert list(events.values_list("object_id", flat=True)) == [str(n) for n in range(200)]
    assert verify_chain() is None
