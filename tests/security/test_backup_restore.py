"""Backup and restore: the README's pg_dump procedure, restored into an empty
database, gives back the same data — including an intact audit chain."""

import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from mcnet.demo import load_demo

TABLES = [
    ("facilities_facility", "id, name, kind, phone, postal_code"),
    ("facilities_user", "id, email, name, kana, password"),
    ("facilities_facilityrole", "id, user_id, facility_id, role"),
    ("facilities_facilityuserobjectpermission", "id, user_id, content_object_id, permission_id"),
    ("mcnet_auditevent", "id, action, object_id, prev_hash, hash"),
]


def _rows(conninfo: dict, dbname: str) -> dict:
    with psycopg.connect(dbname=dbname, **conninfo) as conn:
        return {
            table: conn.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()  # noqa: S608 — fixed names above
            for table, columns in TABLES
        }


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_an_empty_database_with_the_same_data(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore are PostgreSQL's: set DATABASE_URL (CI does)")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    load_demo()
    db = connection.settings_dict
    conninfo = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"]}
    cli = ["-h", str(conninfo["host"]), "-p", str(conninfo["port"]), "-U", conninfo["user"]]
    source, target = db["NAME"], f"{db['NAME']}_restore"
    dump = tmp_path / "mcnet.dump"

    # The documented procedure (README, "Backup and restore").
    subprocess.run(
        ["pg_dump", *cli, "--format=custom", "--no-owner", "-f", str(dump), source], check=True
    )
    subprocess.run(["dropdb", *cli, "--if-exists", target], check=True)
    subprocess.run(["createdb", *cli, target], check=True)
    try:
        subprocess.run(
            ["pg_restore", *cli, "--no-owner", "--exit-on-error", "-d", target, str(dump)],
            check=True,
        )
        original, restored = _rows(conninfo, source), _rows(conninfo, target)
        assert all(original[table] for table, _ in TABLES)
        assert restored == original
    finally:
        subprocess.run(["dropdb", *cli, "--if-exists", target], check=True)
