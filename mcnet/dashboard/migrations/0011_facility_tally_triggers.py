"""PostgreSQL keeps the facilities' tallies (mcnet.dashboard.models.FacilityTally, and HourTally's
FACILITIES_JOINED series) as migration 0002 keeps the groups', with statement-level triggers on
the facilities: each INSERT, UPDATE or DELETE adds its rows' counts and subtracts the old ones,
one grouped statement per tally, in the writer's own transaction. The tallies are then filled
from the facilities already there; creating the triggers locks the facilities against writers
until this migration commits. Other databases have no triggers here: the selectors count the
facilities themselves."""

from django.db import migrations

# (tally table, its key columns, the key expressions over a facility row)
TALLIES = [
    ("dashboard_facilitytally", "kind, state", "kind, state"),
    (
        "dashboard_hourtally",
        "series, kind, hour",
        "'facilities_joined', '', date_trunc('hour', created_at, 'UTC')",
    ),
]
BRANCHES = {
    "INSERT": [("new_rows", 1)],
    "UPDATE": [("new_rows", 1), ("old_rows", -1)],
    "DELETE": [("old_rows", -1)],
}
TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


def _add(table: str, columns: str, exprs: str, sources: list[tuple[str, int]]) -> str:
    """Add each key's change (+1 per new row, -1 per old row) to `table`, keys in order."""
    changed = " UNION ALL ".join(f"SELECT {exprs}, {sign} FROM {rel}" for rel, sign in sources)
    return f"""
        INSERT INTO {table} ({columns}, n)
        SELECT {columns}, sum(d) FROM ({changed}) AS changed({columns}, d)
        GROUP BY {columns} HAVING sum(d) <> 0 ORDER BY {columns}
        ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + EXCLUDED.n;"""


FUNCTION = (
    "CREATE OR REPLACE FUNCTION dashboard_tally_facilities_facility() RETURNS trigger AS $$\n"
    "BEGIN\n"
    + "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN"
        + "".join(_add(t, c, e, sources) for t, c, e in TALLIES)
        for i, (op, sources) in enumerate(BRANCHES.items())
    )
    + "\n    END IF;\n    RETURN NULL;\nEND\n$$ LANGUAGE plpgsql;\n"
    + "".join(
        f"""
CREATE TRIGGER dashboard_tally_{op} AFTER {op.upper()} ON facilities_facility
    {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_tally_facilities_facility();"""
        for op, referencing in TRANSITIONS.items()
    )
)

FILL = "".join(
    f"""
INSERT INTO {table} ({columns}, n)
SELECT {exprs}, count(*) FROM facilities_facility GROUP BY {
        ", ".join(str(i + 1) for i in range(columns.count(",") + 1))
    }
ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + EXCLUDED.n;"""
    for table, columns, exprs in TALLIES
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(FILL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "".join(
            f"DROP TRIGGER IF EXISTS dashboard_tally_{op} ON facilities_facility;"
            for op in TRANSITIONS
        )
        + "DROP FUNCTION IF EXISTS dashboard_tally_facilities_facility();"
        + "DELETE FROM dashboard_facilitytally;"
        + "DELETE FROM dashboard_hourtally WHERE series = 'facilities_joined';"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0010_facility_tally"),
        ("facilities", "0008_user_directory_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
