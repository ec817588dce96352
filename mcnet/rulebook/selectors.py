"""Which version of a document is in force on a day (第15条), and its history."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from .models import NETWORK_DOCUMENTS, Document, RuleVersion
from .seed import ensure_first_versions


def _versions(document: str, facility=None) -> QuerySet[RuleVersion]:
    if facility is None:
        return RuleVersion.objects.filter(document=document, facility__isnull=True)
    return RuleVersion.objects.filter(document=document, facility=facility)


def version_in_force(document: str, *, on: dt.date | None = None, facility=None):
    """The version in force on `on` (today by default): the latest to take effect by then.

    A form dated before the network's first version prints the first; a facility's own rules
    (第14条) not yet in force are None. The network's version 1 is
    created when missing, as NetworkSettings is (a database emptied by a test, say)."""
    on = on or timezone.localdate()
    versions = _versions(document, facility)
    version = versions.filter(effective_on__lte=on).order_by("-effective_on", "-number").first()
    if version is None and facility is None:
        version = versions.order_by("effective_on", "number").first()
    if version is None and facility is None and document in NETWORK_DOCUMENTS:
        ensure_first_versions(RuleVersion)
        return version_in_force(document, on=on)
    return version


def versions_of(document: str, *, facility=None) -> QuerySet[RuleVersion]:
    return _versions(document, facility).select_related("published_by").order_by("-number")


def network_documents_in_force(on: dt.date | None = None) -> list[tuple[str, str, RuleVersion]]:
    """(document, its name, version in force) of each network document."""
    return [
        (document.value, document.label, version_in_force(document.value, on=on))
        for document in Document
        if document in NETWORK_DOCUMENTS
    ]


def upcoming_versions(on: dt.date | None = None) -> QuerySet[RuleVersion]:
    """Published versions that take effect later (the center and the facilities see them)."""
    on = on or timezone.localdate()
    return RuleVersion.objects.filter(facility__isnull=True, effective_on__gt=on).order_by(
        "effective_on", "document"
    )
