"""PostgreSQL keeps the dashboard's tallies (mcnet.dashboard.models) with statement-level
triggers: each INSERT, UPDATE or DELETE of groups, consents and accounts adds its rows' counts
(and subtracts the old ones) in the same transaction, one grouped statement per tally however
many rows it changed, so a bulk load costs one aggregate, not a trigger call per row. The
tallies are then filled from the rows already there; creating the triggers locks the tables
against writers until this migration commits, so no write falls between the two.

Tally rows are written in key order, so two transactions touching the same keys wait for each
other instead of deadlocking. Other databases have no triggers here: the selectors count the
rows themselves."""

from django.db import migrations

# (tally table, its key columns, the key expressions over a row of the source table)
TALLIES = {
    "groups_group": [
        (
            "dashboard_grouptally",
            "facility_id, kind, state",
            "COALESCE(facility_id, 0), kind, state",
        ),
        (
            "dashboard_hourtally",
            "series, kind, hour",
            "'groups_created', kind, date_trunc('hour', created_at, 'UTC')",
        ),
    ],
    "consents_consent": [
        (
            "dashboard_hourtally",
            "series, kind, hour",
            "'consents_recorded', '', date_trunc('hour', recorded_at, 'UTC')",
        ),
    ],
    "facilities_user": [
        ("dashboard_usertally", "occupation, state", "occupation, state"),
        (
            "dashboard_hourtally",
            "series, kind, hour",
            "'users_joined', '', date_trunc('hour', date_joined, 'UTC')",
        ),
    ],
}


def _add(table: str, columns: str, exprs: str, sources: list[tuple[str, int]]) -> str:
    """Add each key's change (+1 per new row, -1 per old row) to `table`, keys in order."""
    changed = " UNION ALL ".join(f"SELECT {exprs}, {sign} FROM {rel}" for rel, sign in sources)
    return f"""
        INSERT INTO {table} ({columns}, n)
        SELECT {columns}, sum(d) FROM ({changed}) AS changed({columns}, d)
        GROUP BY {columns} HAVING sum(d) <> 0 ORDER BY {columns}
        ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + EXCLUDED.n;"""


def _function(source: str) -> str:
    branches = {
        "INSERT": [("new_rows", 1)],
        "UPDATE": [("new_rows", 1), ("old_rows", -1)],
        "DELETE": [("old_rows", -1)],
    }
    body = "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN"
        + "".join(_add(t, c, e, sources) for t, c, e in TALLIES[source])
        for i, (op, sources) in enumerate(branches.items())
    )
    return f"""
CREATE OR REPLACE FUNCTION dashboard_tally_{source}() RETURNS trigger AS $$
BEGIN
{body}
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER dashboard_tally_insert AFTER INSERT ON {source}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_tally_{source}();
CREATE TRIGGER dashboard_tally_update AFTER UPDATE ON {source}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_tally_{source}();
CREATE TRIGGER dashboard_tally_delete AFTER DELETE ON {source}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_tally_{source}();
"""


def _positions(columns: str) -> str:
    return ", ".join(str(i + 1) for i in range(columns.count(",") + 1))


def _fill(source: str) -> str:
    return "".join(
        f"""
INSERT INTO {table} ({columns}, n)
SELECT {exprs}, count(*) FROM {source} GROUP BY {_positions(columns)}
ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + EXCLUDED.n;"""
        for table, columns, exprs in TALLIES[source]
    )


def _drop(source: str) -> str:
    return "".join(
        f"DROP TRIGGER IF EXISTS dashboard_tally_{op} ON {source};"
        for op in ("insert", "update", "delete")
    ) + f"DROP FUNCTION IF EXISTS dashboard_tally_{source}();"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for source in TALLIES:
        schema_editor.execute(_function(source))
    for source in TALLIES:
        schema_editor.execute(_fill(source))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for source in TALLIES:
        schema_editor.execute(_drop(source))
    schema_editor.execute(
        "DELETE FROM dashboard_grouptally; DELETE FROM dashboard_usertally; "
        "DELETE FROM dashboard_hourtally;"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_tallies"),
        ("groups", "0008_membership_via_facility"),
        ("consents", "0004_consent_rule_version"),
        ("facilities", "0006_staffpledge_method_staffpledge_rule_version"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
