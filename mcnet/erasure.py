"""Erasing quoted personal data from free text (別紙6 「遅滞なく削除」).

A report, a note or a comment may quote a patient by name; when the patient's data is erased
the quote goes, the rest of the text (often a record someone must keep, e.g. a leak report)
stays."""

from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Replace

# What a quote of an erased person reads afterwards (stored data, not UI text).
ERASED = "［削除済み］"


def free_text_fields(model) -> list[str]:
    """The columns where people write what they like: text without a fixed set of choices."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not isinstance(field, models.EmailField)
        and not field.choices
        and not field.primary_key
    ]


def quotes_replace(model, texts) -> int:
    """Replace each of `texts` (longest first, so a full name goes before its parts) wherever
    a free-text column of `model` quotes it. Returns how many rows changed."""
    texts = sorted({t for t in texts if t}, key=len, reverse=True)
    changed = 0
    for name in free_text_fields(model):
        for text in texts:
            changed += model._default_manager.filter(Q(**{f"{name}__contains": text})).update(
                **{name: Replace(name, Value(text), Value(ERASED))}
            )
    return changed
