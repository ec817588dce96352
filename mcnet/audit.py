"""The audit trail: `audit_record` is called by services, inside their transaction.

Tamper-evident: each event stores the hash of the one before it and its own hash over its
content, so an edited or deleted row breaks the chain (`manage.py verify_audit` finds where).
Events are chained in id order under one lock, held until the writing transaction commits.
"""

import hashlib
import json
from contextvars import ContextVar

from django.db import connection, models, transaction
from django.utils import timezone

from .models import AuditEvent

GENESIS = "0" * 64

# Where the current request came from; set by RequestContextMiddleware, empty in tasks/commands.
current_ip: ContextVar[str | None] = ContextVar("mcnet_current_ip", default=None)


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    facility_id: int | None = None,
    changes: dict | None = None,
) -> AuditEvent:
    """Write one audit event. `target` names the object; its facility is taken when it has one."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
        if facility_id is None:
            facility_id = getattr(target, "facility_id", None)
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor if is_person else None,
        actor_label=actor.email if is_person else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=str(target)[:200] if target is not None else "",
        facility_id=facility_id,
        changes=json.loads(json.dumps(changes or {}, default=str)),
        ip_address=current_ip.get(),
    )
    with transaction.atomic():
        last = _lock_the_chain_and_read_its_head()
        event.prev_hash = last or GENESIS
        event.hash = event_hash(event)
        event.save()
    return event


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and everything the event says (not its id or actor FK,
    which may be nulled when an account is erased; the label keeps who it was)."""
    content = json.dumps(
        [
            event.prev_hash,
            event.created_at.isoformat(),
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.facility_id,
            event.changes,
            event.ip_address,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode()).hexdigest()


def verify_chain(batch_size: int = 10_000) -> AuditEvent | None:
    """The first event whose link is broken, or None when the whole trail is intact."""
    expected_prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev or event.hash != event_hash(event):
            return event
        expected_prev = event.hash
    return None


def _lock_the_chain_and_read_its_head() -> str | None:
    """One writer at a time appends to the chain: the last hash is read under the lock.

    PostgreSQL: a transaction-level advisory lock, taken and followed by the read in one round
    trip (the function of migration mcnet 0005). SQLite serializes writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT mcnet_audit_chain_head()")
            return cursor.fetchone()[0]
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
