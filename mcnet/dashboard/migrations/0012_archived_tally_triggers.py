"""PostgreSQL keeps the groups archived per hour (mcnet.dashboard.models.HourTally, series
GROUPS_ARCHIVED: archived groups by the UTC hour of their archived_at) as migration 0002 keeps
the groups created: statement-level triggers on the groups add each statement's archived rows
and subtract the old ones, in the writer's own transaction — the archive, a correction, a
group removed. The series is then filled from the groups already there. Other databases have
no triggers here: the selectors count the groups themselves."""

from django.db import migrations

COLUMNS = "series, kind, hour"
EXPRS = "'groups_archived', '', date_trunc('hour', archived_at, 'UTC')"
ARCHIVED = "state = 'archived' AND archived_at IS NOT NULL"
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


def _add(sources: list[tuple[str, int]]) -> str:
    changed = " UNION ALL ".join(
        f"SELECT {EXPRS}, {sign} FROM {rel} WHERE {ARCHIVED}" for rel, sign in sources
    )
    return f"""
        INSERT INTO dashboard_hourtally ({COLUMNS}, n)
        SELECT {COLUMNS}, sum(d) FROM ({changed}) AS changed({COLUMNS}, d)
        GROUP BY {COLUMNS} HAVING sum(d) <> 0 ORDER BY {COLUMNS}
        ON CONFLICT ({COLUMNS}) DO UPDATE SET n = dashboard_hourtally.n + EXCLUDED.n;"""


FUNCTION = (
    "CREATE OR REPLACE FUNCTION dashboard_archived_tally() RETURNS trigger AS $$\nBEGIN\n"
    + "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN" + _add(sources)
        for i, (op, sources) in enumerate(BRANCHES.items())
    )
    + "\n    END IF;\n    RETURN NULL;\nEND\n$$ LANGUAGE plpgsql;\n"
    + "".join(
        f"""
CREATE TRIGGER dashboard_archived_tally_{op} AFTER {op.upper()} ON groups_group
    {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_archived_tally();"""
        for op, referencing in TRANSITIONS.items()
    )
)

FILL = f"""
INSERT INTO dashboard_hourtally ({COLUMNS}, n)
SELECT {EXPRS}, count(*) FROM groups_group WHERE {ARCHIVED} GROUP BY 1, 2, 3
ON CONFLICT ({COLUMNS}) DO UPDATE SET n = dashboard_hourtally.n + EXCLUDED.n;"""


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
            f"DROP TRIGGER IF EXISTS dashboard_archived_tally_{op} ON groups_group;"
            for op in TRANSITIONS
        )
        + "DROP FUNCTION IF EXISTS dashboard_archived_tally();"
        + "DELETE FROM dashboard_hourtally WHERE series = 'groups_archived';"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0011_facility_tally_triggers"),
        ("groups", "0010_dashboard_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
