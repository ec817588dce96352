"""The kind of object a form is printed for, and who may print it."""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Target:
    """The kind of object a form is printed for (a facility, a consent, a take-out request)."""

    model: str  # "app_label.ModelName"
    visible_to: Callable[[object], QuerySet]  # the objects a user may print
    context: Callable[[Model], dict]  # the form's context from one object
    label: Callable[[Model], str] = str
    # Called (actor, object) when the form is asked for, in the same transaction: for a form
    # whose printing is itself a fact (the team notice given to the patient, 別紙5 (2)).
    on_request: Callable[[object, Model], None] | None = None

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)
