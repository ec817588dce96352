"""The list behind each number of the dashboard: an admin change list with its filters, or one
of the dashboard's own lists (which use the selectors' very conditions).

The admin accepts lookups on a model's own fields in the query string (`created_at__gte=…`),
so a monthly number opens the change list of exactly that month.
"""

import datetime as dt
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone


@lru_cache(maxsize=256)
def _reverse(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


def url_of(name: str) -> str:
    """reverse(name) for a URL without arguments, resolved once: the dashboard links some 500
    numbers to a dozen lists, and resolving each anew took half of a cached page's time."""
    return _reverse(name, get_script_prefix(), get_urlconf())


def with_query(url: str, **params) -> str:
    params = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{url}?{urlencode(params)}" if params else url


def admin_list(model: str, **params) -> str:
    """The admin change list of `app_label.modelname`, filtered by `params`."""
    app_label, model_name = model.split(".")
    return with_query(url_of(f"admin:{app_label}_{model_name}_changelist"), **params)


def instant(value: dt.datetime) -> str:
    """An aware instant as the admin's query string takes it (ISO 8601 with the offset)."""
    return timezone.localtime(value).isoformat()


def between(field: str, start: dt.datetime, end: dt.datetime) -> dict:
    return {f"{field}__gte": instant(start), f"{field}__lt": instant(end)}


def dashboard(name: str, **params) -> str:
    return with_query(url_of(f"dashboard:{name}"), **params)


def admin_change(model: str, pk) -> str:
    app_label, model_name = model.split(".")
    return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
