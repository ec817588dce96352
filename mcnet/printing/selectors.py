"""Reads about printed forms that depend on who asks.

A document is visible to whoever may see the object it was printed for — asked of the owning
app's selector through the form's target — and a blank or sample form to any signed-in user.
"""

from django.db.models import QuerySet
from django.http import Http404

from enrollment.models import Application
from facilities.models import Facility
from mcnet.models import GeneratedDocument

from . import batches, permissions, registry


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def printable_object(user, code: str, object_id: int, model: str | None = None):
    """(target, object) when `user` may print form `code` for that object, else None."""
    if not _signed_in(user):
        return None
    try:
        spec = registry.get(code)
    except LookupError:
        return None
    target = spec.target_for(model)
    if target is None:
        return None
    obj = target.visible_to(user).filter(pk=object_id).first()
    return (target, obj) if obj is not None else None


def batch_scope(user, key: str, scope_id: int | None):
    """(batch, scope) when `user` may run batch `key` over that scope, else None."""
    if not _signed_in(user):
        return None
    batch = batches.get(key)
    if batch is None:
        return None
    if batch.scope_model is None:
        return (batch, None) if scope_id is None and batch.scopes_for(user) is True else None
    if scope_id is None:
        return None
    scope = batch.scopes_for(user).filter(pk=scope_id).first()
    return (batch, scope) if scope is not None else None


def _object_visible(user, document: GeneratedDocument) -> bool:
    spec = registry.get(document.form_code)
    model = document.content_type.model_class() if document.content_type_id else None
    if model is None:
        return False
    target = spec.target_for(model)
    return target is not None and target.visible_to(user).filter(pk=document.object_id).exists()


def _batch_visible(user, document: GeneratedDocument) -> bool:
    batch = batches.get(document.data.get("batch", ""))
    if batch is None:
        return False
    scope_id = document.object_id if batch.scope_model else None
    if batch_scope(user, batch.key, scope_id) is None:
        return False
    target = registry.get(document.form_code).target_for(batch.item_model)
    if target is None:
        return False
    items = set(document.items)
    return target.visible_to(user).filter(pk__in=items).count() == len(items)


def _visible_document(user, pk: int) -> GeneratedDocument | None:
    if not _signed_in(user):
        return None
    document = GeneratedDocument.objects.select_related("content_type").filter(pk=pk).first()
    if document is None:
        return None
    if document.is_batch:
        return document if _batch_visible(user, document) else None
    if document.content_type_id is None:
        return document  # a blank or sample form: nobody's data
    return document if _object_visible(user, document) else None


def document_for(user, pk: int) -> GeneratedDocument:
    """The document, if `user` may see it (same permission as its object); 404 otherwise,
    whether it exists or not."""
    document = _visible_document(user, pk)
    if document is None:
        raise Http404
    return document


def recent_documents_for(user, limit: int = 20) -> list[GeneratedDocument]:
    """What this user asked for lately and may still see."""
    if not _signed_in(user):
        return []
    candidates = GeneratedDocument.objects.filter(requested_by=user).select_related("content_type")[
        : limit * 2
    ]
    visible = [d for d in candidates if _visible_document(user, d.pk) is not None]
    return visible[:limit]


def facilities_for_forms(user, query: str = "") -> QuerySet:
    """The facilities whose papers (別紙1–4) this user may print, for the forms page. The
    center, which may print every facility's, finds them by name (up to 20) rather than
    being shown 20,000."""
    if not _signed_in(user):
        return Facility.objects.none()
    if user.is_center_staff:
        if not query:
            return Facility.objects.none()
        return permissions.facilities_printable_by(user).filter(name__icontains=query)[:20]
    return permissions.facilities_printable_by(user).order_by("name")


def available_batches(user) -> list[dict]:
    """The batch jobs this user may start, with their scopes, for the forms page."""
    offered = []
    for batch in batches.batches().values():
        allowed = batch.scopes_for(user) if _signed_in(user) else False
        if batch.scope_model is None:
            if allowed is True:
                offered.append({"batch": batch, "scope": None})
        else:
            for scope in allowed.order_by("pk")[:50]:
                offered.append({"batch": batch, "scope": scope})
    return offered


def applications_for_forms(user, limit: int = 20) -> list:
    """The center's latest applications (別紙1・別紙2 as filed), for the forms page."""
    if not _signed_in(user) or not user.is_center_staff:
        return []
    target = registry.get("besshi1").target_for("enrollment.Application")
    if target is None:
        return []
    return list(
        target.visible_to(user)
        .filter(state__in=Application.CENTER_STATES)
        .order_by("-submitted_at", "-pk")[:limit]
    )
