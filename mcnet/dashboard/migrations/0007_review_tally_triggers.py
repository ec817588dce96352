"""PostgreSQL keeps the review tally (mcnet.dashboard.models.ReviewTally, 留意事項 1) as migration
0002 keeps the group tally: statement-level triggers on the groups add each statement's rows
(and subtract the old ones) per facility and UTC day of the review base, one grouped statement
however many rows it changed, in the writer's own transaction — a review (last_reviewed_at), a
group opened, reported ended, archived, moved to another facility, removed, or a bulk load. Only
working patient groups count: a row leaving that state is subtracted at its old key.

Tally rows are written in key order, so two transactions touching the same keys wait for each
other instead of deadlocking. The tally is then filled from the groups already there; creating
the triggers locks the groups against writers until this migration commits. Other databases
have no triggers here: the selectors count the groups themselves."""

from django.db import migrations

KEY = "day, facility_id"
# The UTC day of the group's review base (groups.selectors.ReviewClock) and its facility (0: none).
EXPRS = (
    "(COALESCE(last_reviewed_at, created_at) AT TIME ZONE 'UTC')::date, COALESCE(facility_id, 0)"
)
COUNTED = "kind = 'patient' AND state = 'active'"


def _add(sources: list[tuple[str, int]]) -> str:
    changed = " UNION ALL ".join(
        f"SELECT {EXPRS}, {sign} FROM {rel} WHERE {COUNTED}" for rel, sign in sources
    )
    return f"""
        INSERT INTO dashboard_reviewtally ({KEY}, n)
        SELECT {KEY}, sum(d) FROM ({changed}) AS changed({KEY}, d)
        GROUP BY {KEY} HAVING sum(d) <> 0 ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET n = dashboard_reviewtally.n + EXCLUDED.n;"""


BRANCHES = {
    "INSERT": [("new_rows", 1)],
    "UPDATE": [("new_rows", 1), ("old_rows", -1)],
    "DELETE": [("old_rows", -1)],
}

FUNCTION = (
    "CREATE OR REPLACE FUNCTION dashboard_review_tally() RETURNS trigger AS $$\nBEGIN\n"
    + "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN" + _add(sources)
        for i, (op, sources) in enumerate(BRANCHES.items())
    )
    + "\n    END IF;\n    RETURN NULL;\nEND\n$$ LANGUAGE plpgsql;\n"
)

TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}

TRIGGERS = "".join(
    f"""
CREATE TRIGGER dashboard_review_tally_{op} AFTER {op.upper()} ON groups_group
    {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_review_tally();"""
    for op, referencing in TRANSITIONS.items()
)

FILL = f"""
INSERT INTO dashboard_reviewtally ({KEY}, n)
SELECT {EXPRS}, count(*) FROM groups_group WHERE {COUNTED} GROUP BY 1, 2
ON CONFLICT ({KEY}) DO UPDATE SET n = dashboard_reviewtally.n + EXCLUDED.n;"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION + TRIGGERS)
    schema_editor.execute(FILL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "".join(
            f"DROP TRIGGER IF EXISTS dashboard_review_tally_{op} ON groups_group;"
            for op in TRANSITIONS
        )
        + "DROP FUNCTION IF EXISTS dashboard_review_tally();"
        + "DELETE FROM dashboard_reviewtally;"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0006_review_tally"),
        ("groups", "0010_dashboard_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
