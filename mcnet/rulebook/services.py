"""Publishing a version of the rules (第15条) or of a facility's own rules (第14条)."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from mcnet.audit import AuditAction, audit_record

from . import text
from .models import NETWORK_DOCUMENTS, Document, RuleVersion
from .permissions import may_publish_network_rules


@transaction.atomic
def rule_version_publish(
    *,
    actor,
    document: str,
    source: str,
    approved_on: dt.date,
    effective_on: dt.date,
    summary: str = "",
    facility=None,
) -> RuleVersion:
    """A new version of `document`: its text (parsed into blocks), the approval date and the
    date it takes effect. Center staff publish the network's documents; a facility's own
    rules are published through facilities.services (its manager, 第14条).

    Publishing the same text with the same dates again (a double submission) returns the
    version already published."""
    if facility is None:
        if document not in NETWORK_DOCUMENTS:
            raise ValidationError({"document": _("文書を選んでください。")})
        if not may_publish_network_rules(actor):
            raise PermissionDenied
    elif document != Document.FACILITY_RULES:
        raise ValidationError({"document": _("事業所の定めとして登録してください。")})
    if effective_on < approved_on:
        raise ValidationError({"effective_on": _("施行日は承認日以降の日付にしてください。")})
    blocks = text.parse(source)
    summary = (summary or "").strip()[:300]
    if facility is None:
        versions = RuleVersion.objects.filter(document=document, facility__isnull=True)
    else:
        versions = RuleVersion.objects.filter(document=document, facility=facility)
    # One publisher at a time per document: the number is the next one. A facility's first
    # version has no row to lock yet, so its facility row is the lock.
    if facility is not None:
        list(type(facility).objects.select_for_update().filter(pk=facility.pk).values("pk"))
    list(versions.select_for_update().values_list("pk", flat=True))
    same = versions.filter(
        blocks=blocks, approved_on=approved_on, effective_on=effective_on
    ).first()
    if same is not None:
        return same
    number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = RuleVersion.objects.create(
        document=document,
        facility=facility,
        number=number,
        blocks=blocks,
        approved_on=approved_on,
        effective_on=effective_on,
        summary=summary,
        published_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.RULEBOOK_PUBLISH,
        target=version,
        facility_id=getattr(facility, "pk", None),
        changes={
            "document": document,
            "number": number,
            "approved_on": approved_on,
            "effective_on": effective_on,
            "blocks": len(blocks),
        },
    )
    return version
