"""The demo network for a test in a few statements instead of a thousand.

`load_demo()` goes through the services (about 1,300 queries, 2 s): paid by most of the
suite's tests, it was most of the suite's time. The first test that asks for the demo loads
it for real and records the rows it added or changed (and the files its rows name); the next
tests, which start from the same database (their transactions were rolled back), get the
same rows inserted as they were. Anything that could make the copy differ from a real load
makes the test load for real instead (and record again):

- a test outside a transaction (live server, real workers): its rows are committed, and the
  demo's on-commit work (mail, tasks) must happen as it would;
- a database that is not the one recorded from (a transactional test flushed it, and the
  content types came back with other ids): every table's row count and largest id differ;
- travelled time (time-machine), another language active, another local day, or a recording
  older than a few minutes (the demo's dates are relative to now).
"""

import datetime as dt
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, models
from django.utils import timezone, translation
from time_machine import escape_hatch

from mcnet.demo import load_demo

# A recording older than this is made again: the demo's times are "now" when it loads.
MAX_AGE = dt.timedelta(minutes=5)


@dataclass
class Recording:
    key: tuple
    fingerprint: tuple
    recorded_at: dt.datetime
    facilities: dict[str, int]
    # model -> rows to insert, and rows to update, as {attname: value}
    inserts: dict = field(default_factory=dict)
    updates: dict = field(default_factory=dict)
    deletes: dict = field(default_factory=dict)
    files: list = field(default_factory=list)  # (storage, name, bytes)


_recording: Recording | None = None


def _tables() -> list[type[models.Model]]:
    """Every table once: concrete, managed models, many-to-many tables included; not the
    tallies the database's triggers keep (replaying the rows they count keeps them)."""
    from mcnet.dashboard.models import KEPT_BY_TRIGGERS

    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model not in KEPT_BY_TRIGGERS
    ]


def _fields(model) -> list[models.Field]:
    return list(model._meta.local_concrete_fields)


def _dump(model) -> dict:
    names = [f.attname for f in _fields(model)]
    pk = model._meta.pk.attname
    rows = {}
    for values in model._base_manager.values_list(*names):
        row = {
            name: bytes(value) if isinstance(value, memoryview) else value
            for name, value in zip(names, values, strict=True)
        }
        rows[row[pk]] = row
    return rows


def _fingerprint() -> tuple:
    """Every table's row count and, where the key is a number, its largest key (one query)."""
    quote = connection.ops.quote_name
    parts = []
    for model in _tables():
        table, pk = quote(model._meta.db_table), model._meta.pk
        parts.append(f"(SELECT count(*) FROM {table})")  # noqa: S608 (model names)
        if isinstance(pk, models.AutoField | models.BigAutoField | models.IntegerField):
            parts.append(f"(SELECT max({quote(pk.column)}) FROM {table})")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


def _key() -> tuple:
    return (
        translation.get_language(),
        timezone.localdate(),
        settings.MEDIA_ROOT,
        getattr(settings, "MCNET_BASE_URL", None),
    )


def _usable() -> bool:
    return (
        connection.vendor == "postgresql"
        and connection.in_atomic_block  # the test's transaction, rolled back after it
        and not escape_hatch.is_travelling()
    )


def _record() -> tuple[Recording, dict]:
    """Load the demo for real in this test, noting what it added, changed and removed."""
    before = {model: _dump(model) for model in _tables()}
    fingerprint = _fingerprint_of(before)
    facilities = load_demo()
    recording = Recording(
        key=_key(),
        fingerprint=fingerprint,
        recorded_at=time.time(),
        facilities={key: facility.pk for key, facility in facilities.items()},
    )
    for model in _tables():
        old, new = before[model], _dump(model)
        added = [row for pk, row in new.items() if pk not in old]
        changed = [row for pk, row in new.items() if pk in old and old[pk] != row]
        removed = [pk for pk in old if pk not in new]
        if added:
            recording.inserts[model] = added
        if changed:
            recording.updates[model] = changed
        if removed:
            recording.deletes[model] = removed
        for f in _fields(model):
            if isinstance(f, models.FileField):
                for row in (*added, *changed):
                    name = row[f.attname]
                    if name and f.storage.exists(name):
                        with f.storage.open(name, "rb") as stored:
                            recording.files.append((f.storage, name, stored.read()))
    return recording, facilities


def _fingerprint_of(dumped: dict) -> tuple:
    # The same figures as _fingerprint(), from rows already read (no second query).
    parts = []
    for model in _tables():
        rows, pk = dumped[model], model._meta.pk
        parts.append(len(rows))
        if isinstance(pk, models.AutoField | models.BigAutoField | models.IntegerField):
            parts.append(max(rows, default=None))
    return tuple(parts)


def _insert(model, rows: list[dict]) -> None:
    fields = _fields(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    values = [[f.get_db_prep_save(row[f.attname], connection) for f in fields] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _replay(recording: Recording) -> dict:
    for model, pks in recording.deletes.items():
        model._base_manager.filter(pk__in=pks).delete()
    for model, rows in recording.inserts.items():
        _insert(model, rows)
    for model, rows in recording.updates.items():
        pk = model._meta.pk.attname
        for row in rows:
            model._base_manager.filter(pk=row[pk]).update(
                **{k: v for k, v in row.items() if k != pk}
            )
    for storage, name, data in recording.files:
        if not storage.exists(name):
            storage.save(name, ContentFile(data))
    from facilities.models import Facility

    found = Facility.objects.in_bulk(recording.facilities.values())
    return {key: found[pk] for key, pk in recording.facilities.items()}


def demo_network() -> dict:
    """The demo network in this test's database, as load_demo() returns it."""
    global _recording
    if not _usable():
        return load_demo()
    fresh = _recording is not None and (
        _recording.key == _key()
        and time.time() - _recording.recorded_at < MAX_AGE.total_seconds()
        and _recording.fingerprint == _fingerprint()
    )
    if fresh:
        return _replay(_recording)
    _recording, facilities = _record()
    return facilities
