"""Batch generation: many objects' forms as one job with a progress bar and one PDF.

Each batch names the form, the kind of object it prints, the scope it runs over (a facility,
or the whole network), who may ask for it, and which objects it takes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model, QuerySet

from consents.models import active_consent_q
from consents.selectors import registering_facilities_of
from facilities.models import Facility
from mcnet.permissions import is_center_staff

from . import permissions


@dataclass(frozen=True)
class BatchSpec:
    key: str
    form_code: str
    title: str
    item_model: str
    # None: the batch runs over the whole network; else the kind of its scope object.
    scope_model: str | None
    # The scopes (or, without a scope model, True/False) this user may run the batch for.
    scopes_for: Callable[[object], QuerySet | bool]
    # The objects the batch prints, for this user and scope.
    items: Callable[[object, Model | None], QuerySet]

    def scope_model_class(self) -> type[Model] | None:
        return apps.get_model(self.scope_model) if self.scope_model else None


def _every_facility(user, scope) -> QuerySet:
    """別紙3 for all facilities: every facility in use or applying (not withdrawn)."""
    return (
        permissions.facilities_printable_by(user)
        .exclude(state=Facility.State.WITHDRAWN)
        .order_by("name", "pk")
    )


def _pending_consent_facilities(user) -> QuerySet:
    return (
        registering_facilities_of(user)
        if getattr(user, "is_authenticated", False)
        else Facility.objects.none()
    )


def _patients_pending_consent(user, facility) -> QuerySet:
    """The facility's patients with no valid consent yet: their 別紙7 are to be signed."""
    return (
        permissions.patients_printable_by(user)
        .filter(facility=facility)
        .exclude(active_consent_q("consents__"))
        .select_related("facility")
        .order_by("kana", "pk")
    )


def build_batches() -> dict[str, BatchSpec]:
    batches = [
        BatchSpec(
            key="besshi3-all",
            form_code="besshi3",
            title="全事業所",
            item_model="facilities.Facility",
            scope_model=None,
            scopes_for=is_center_staff,
            items=_every_facility,
        ),
        # Every pending 別紙7 of a facility, for its patient-group managers.
        BatchSpec(
            key="besshi7-pending",
            form_code="besshi7",
            title="同意書（別紙7）の未取得者",
            item_model="consents.Patient",
            scope_model="facilities.Facility",
            scopes_for=_pending_consent_facilities,
            items=_patients_pending_consent,
        ),
    ]
    return {batch.key: batch for batch in batches}


_batches: dict[str, BatchSpec] | None = None


def batches() -> dict[str, BatchSpec]:
    global _batches
    if _batches is None:
        _batches = build_batches()
    return _batches


def get(key: str) -> BatchSpec | None:
    return batches().get(key)
