"""PostgreSQL keeps the MCS administrators' tally (mcnet.dashboard.models.AdminTally, 別紙3 *1):
statement-level triggers add each statement's MCS administrator roles per facility (and
subtract the old ones), and a facility created, its state changed or the facility removed
sets or removes its row, in the writer's own transaction — the portal's services, the admin,
bulk loads alike.

The counts are added (commutative), so writers of roles at once need no lock beyond the tally
row's; a facility's state is written by whoever updates the facility, whose row lock orders
them. Rows are written in facility order, so two transactions wait for each other instead of
deadlocking. The tally is then filled from the rows already there; creating the triggers
locks both tables against writers until this migration commits. Other databases have no
triggers here: the selectors count the rows themselves."""

from django.db import migrations

ROLES = """
CREATE OR REPLACE FUNCTION dashboard_admin_tally_roles() RETURNS trigger AS $$
BEGIN
    INSERT INTO dashboard_admintally (facility_id, active, admins)
        SELECT changed.facility_id, COALESCE(f.state = 'active', false), changed.d
        FROM (
            SELECT facility_id, sum(d) AS d FROM ({changed}) AS rows(facility_id, d)
            GROUP BY facility_id HAVING sum(d) <> 0
        ) AS changed
        LEFT JOIN facilities_facility AS f ON f.id = changed.facility_id
        ORDER BY changed.facility_id
        ON CONFLICT (facility_id)
        DO UPDATE SET admins = dashboard_admintally.admins + EXCLUDED.admins;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

FACILITIES = """
CREATE OR REPLACE FUNCTION dashboard_admin_tally_facilities() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM dashboard_admintally WHERE facility_id IN (SELECT id FROM old_rows);
        RETURN NULL;
    END IF;
    INSERT INTO dashboard_admintally (facility_id, active, admins)
        SELECT id, state = 'active', 0 FROM new_rows ORDER BY id
        ON CONFLICT (facility_id) DO UPDATE SET active = EXCLUDED.active
        WHERE dashboard_admintally.active IS DISTINCT FROM EXCLUDED.active;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

MCS_ADMIN = "role = 'mcs_admin'"
TRANSITIONS = {
    "insert": ("REFERENCING NEW TABLE AS new_rows", [("new_rows", 1)]),
    "update": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        [("new_rows", 1), ("old_rows", -1)],
    ),
    "delete": ("REFERENCING OLD TABLE AS old_rows", [("old_rows", -1)]),
}


def _roles_function(op: str) -> str:
    _referencing, sources = TRANSITIONS[op]
    changed = " UNION ALL ".join(
        f"SELECT facility_id, {sign} FROM {rel} WHERE {MCS_ADMIN}" for rel, sign in sources
    )
    return ROLES.replace(
        "dashboard_admin_tally_roles()", f"dashboard_admin_tally_roles_{op}()"
    ).format(changed=changed)


def _trigger(table: str, op: str, function: str) -> str:
    referencing, _sources = TRANSITIONS[op]
    return f"""
CREATE TRIGGER dashboard_admin_tally_{op} AFTER {op.upper()} ON {table}
    {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();"""


FILL = """
INSERT INTO dashboard_admintally (facility_id, active, admins)
SELECT f.id, f.state = 'active',
    (SELECT count(*) FROM facilities_facilityrole AS r
     WHERE r.facility_id = f.id AND r.role = 'mcs_admin')
FROM facilities_facility AS f ORDER BY f.id;"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FACILITIES)
    for op in TRANSITIONS:
        schema_editor.execute(_roles_function(op))
        schema_editor.execute(
            _trigger("facilities_facilityrole", op, f"dashboard_admin_tally_roles_{op}")
        )
        schema_editor.execute(
            _trigger("facilities_facility", op, "dashboard_admin_tally_facilities")
        )
    schema_editor.execute(FILL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for op in TRANSITIONS:
        for table in ("facilities_facilityrole", "facilities_facility"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS dashboard_admin_tally_{op} ON {table};")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS dashboard_admin_tally_roles_{op}();")
    schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_admin_tally_facilities();")
    schema_editor.execute("DELETE FROM dashboard_admintally;")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0008_admin_tally"),
        ("facilities", "0008_user_directory_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
