"""Looking for a person's traces everywhere the portal keeps anything: every text column of
every table (Django's and the others: guardian, sessions, allauth), decoded sessions, the
media directory (PDFs read back with pdftotext) and the cache (Redis or the test's memory).

Used by the erasure tests (別紙6 「遅滞なく削除」): after an erasure, `traces_of` must find
nothing of the patient's name, kana, date of birth, address or phone.
"""

import json
import subprocess
from pathlib import Path

from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Q, TextField
from django.db.models.functions import Cast

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def _forms(term: str) -> set[str]:
    # As stored, and as JSON stores it \u-escaped (SQLite's JSONField, json.dumps defaults).
    return {term, json.dumps(term)[1:-1]}


def model_traces(terms) -> list[str]:
    """Every CharField, TextField and JSONField of every installed model, through the ORM."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        queryset = model._default_manager.all()
        lookups = {}
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                alias = f"_{field.name}_as_text"
                queryset = queryset.annotate(**{alias: Cast(field.name, TextField())})
                lookups[field.name] = f"{alias}__contains"
            elif isinstance(field, models.CharField | models.TextField):
                lookups[field.name] = f"{field.name}__contains"
        matches = {
            (name, term): Q(*(Q(**{lookup: form}) for form in _forms(term)), _connector=Q.OR)
            for name, lookup in lookups.items()
            for term in terms
        }
        if not matches or not queryset.filter(Q(*matches.values(), _connector=Q.OR)).exists():
            continue
        found += [
            f"{model._meta.label}.{name}: {term}"
            for (name, term), match in matches.items()
            if queryset.filter(match).exists()
        ]
    return found


def table_traces(terms) -> list[str]:
    """Every text-like column of every table of the database, Django's or not, in raw SQL."""
    with connection.cursor() as cursor:
        columns: dict[str, list[str]] = {}
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type = ANY(%s) "
                "AND table_name IN (SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')",
                [list(TEXT_TYPES)],
            )
            for table, column in cursor.fetchall():
                columns.setdefault(table, []).append(column)
        else:  # SQLite: every column (its types are affinities)
            for table in connection.introspection.table_names(cursor):
                columns[table] = [
                    c.name for c in connection.introspection.get_table_description(cursor, table)
                ]
        found = []
        qn = connection.ops.quote_name
        for table, names in sorted(columns.items()):
            select = ", ".join(f"CAST({qn(n)} AS TEXT)" for n in names)
            cursor.execute(f"SELECT {select} FROM {qn(table)}")  # noqa: S608 - names from the catalog
            for row in cursor.fetchall():
                for name, value in zip(names, row, strict=True):
                    if value is None:
                        continue
                    for term in terms:
                        if any(form in value for form in _forms(term)):
                            found.append(f"{table}.{name}: {term}")
    return sorted(set(found))


def session_traces(terms) -> list[str]:
    """The sessions' data, decoded (it is stored signed and base64-encoded)."""
    found = []
    for session in Session.objects.all():
        text = json.dumps(session.get_decoded(), ensure_ascii=False, default=str)
        found += [f"session {session.pk[:6]}…: {t}" for t in terms if t in text]
    return found


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def media_traces(terms, root) -> list[str]:
    """Every file under MEDIA_ROOT: its bytes, and a PDF's text as pdftotext reads it."""
    found = []
    root = Path(root)
    if not root.exists():
        return found
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        text = pdf_text(path) if content.startswith(b"%PDF") else ""
        for term in terms:
            if term.encode() in content or term in text:
                found.append(f"{path.relative_to(root)}: {term}")
    return found


def cache_traces(terms) -> list[str]:
    """Every value in the cache (pickled: a str is kept as its UTF-8 bytes)."""
    backend = cache._cache
    values = {}
    if hasattr(backend, "get_client"):  # Redis
        client = backend.get_client()
        for key in client.scan_iter(count=1000):
            if client.type(key) == b"string":
                values[key.decode()] = client.get(key) or b""
    elif isinstance(backend, dict):  # LocMemCache
        values = dict(backend)
    return [
        f"cache {key}: {term}"
        for key, value in values.items()
        for term in terms
        if term.encode() in value
    ]


def traces_of(terms, *, media_root) -> list[str]:
    return sorted(
        set(
            model_traces(terms)
            + table_traces(terms)
            + session_traces(terms)
            + media_traces(terms, media_root)
            + cache_traces(terms)
        )
    )
