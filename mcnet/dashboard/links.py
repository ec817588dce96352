"""The list behind each number of the dashboard: an admin change list with its filters, or one
of the dashboard's own lists (which use the selectors' very conditions).

The admin accepts lookups on a model's own fields in the query string (`created_at__gte=…`),
so a monthly number opens the change list of exactly that month.
"""

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone


def with_query(url: str, **params) -> str:
    params = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{url}?{urlencode(params)}" if params else url


def admin_list(model: str, **params) -> str:
    """The admin change list of `app_label.modelname`, filtered by `params`."""
    app_label, model_name = model.split(".")
    return with_query(reverse(f"admin:{app_label}_{model_name}_changelist"), **params)


def instant(value: dt.datetime) -> str:
    """An aware instant as the admin's query string takes it (ISO 8601 with the offset)."""
    return timezone.localtime(value).isoformat()


def between(field: str, start: dt.datetime, end: dt.datetime) -> dict:
    return {f"{field}__gte": instant(start), f"{field}__lt": instant(end)}


def dashboard(name: str, **params) -> str:
    return with_query(reverse(f"dashboard:{name}"), **params)


def admin_change(model: str, pk) -> str:
    app_label, model_name = model.split(".")
    return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
