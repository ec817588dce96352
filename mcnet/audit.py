"""The audit trail: `audit_record` is called by services, inside their transaction."""

from contextvars import ContextVar

from django.db import models

from .models import AuditEvent

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
    return AuditEvent.objects.create(
        actor=actor if is_person else None,
        actor_label=actor.email if is_person else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=str(target)[:200] if target is not None else "",
        facility_id=facility_id,
        changes=changes or {},
        ip_address=current_ip.get(),
    )
