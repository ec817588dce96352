"""Writes of shared pieces."""

from collections.abc import Iterable
from typing import TypeVar

from django.db import models
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from .audit import AuditAction, audit_record
from .models import Notification

M = TypeVar("M", bound=models.Model)


def model_update(*, instance: M, fields: Iterable[str], data: dict) -> tuple[M, list[str]]:
    """The one way an update service writes (HackSoft styleguide's model_update): sets the
    `fields` whose value in `data` differs, validates them (ValidationError, nothing written)
    and saves only them. Returns the instance and the names changed, in `fields` order; the
    caller audits them as {"fields": names} — names, never values (patient text stays out of
    the trail). A key of `data` outside `fields` is a programming error (TypeError)."""
    fields = list(fields)
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"not editable here: {sorted(unknown)}")
    changed = [name for name in fields if name in data and getattr(instance, name) != data[name]]
    if not changed:
        return instance, []
    for name in changed:
        setattr(instance, name, data[name])
    concrete = instance._meta.concrete_fields
    # Only the changed values are judged: editing one field does not re-judge the others.
    instance.full_clean(exclude=[f.name for f in concrete if f.name not in changed])
    auto_now = [f.name for f in concrete if getattr(f, "auto_now", False)]
    instance.save(update_fields=[*changed, *auto_now])
    return instance, changed


def audit_update(*, actor, action: AuditAction, target: models.Model, changed: list[str]) -> None:
    """The audit event of an update, in its one shape: {"fields": [names]} (names, never values:
    patient text stays out of the trail); none when nothing changed."""
    if changed:
        audit_record(actor=actor, action=action, target=target, changes={"fields": changed})


def model_update_audited(
    *, actor, action: AuditAction, instance: M, fields: Iterable[str], data: dict
) -> tuple[M, list[str]]:
    """model_update, then its audit event (audit_update): the usual update service's write."""
    instance, changed = model_update(instance=instance, fields=fields, data=data)
    audit_update(actor=actor, action=action, target=instance, changed=changed)
    return instance, changed


def object_grants_set(*, user, obj: models.Model, wanted: set[str], grants) -> None:
    """Make the user's guardian grants on `obj` exactly `wanted` ("app.codename"). Grants
    follow the rows that give them (role rows, memberships), never the other way round;
    `grants` is the object's direct grant table (e.g. GroupUserObjectPermission)."""
    label = obj._meta.app_label
    held = {
        f"{label}.{codename}"
        for codename in grants.objects.filter(user=user, content_object=obj).values_list(
            "permission__codename", flat=True
        )
    }
    for perm in wanted - held:
        assign_perm(perm, user, obj)
    for perm in held - wanted:
        remove_perm(perm, user, obj)


def inbox_mark_read(*, user) -> int:
    # Reading one's own inbox is not an audited write: it changes no record of the network.
    marked = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    user.unread_notifications = 0  # the count read with the user for the header is stale
    return marked
