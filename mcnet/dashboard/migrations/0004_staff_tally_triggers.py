"""PostgreSQL keeps the staff tallies (mcnet.dashboard.models.StaffTally, EducationTally): after
each INSERT, UPDATE or DELETE of memberships, pledges, education sessions or their attendees, a
statement-level trigger counts the facilities that statement touched anew, in the writer's own
transaction (第7条: staff without a pledge, staff educated in each 年度) — so do a change of a
facility's state and of an account's is_active (working staff: active memberships of active
accounts at active facilities, as mcnet.dashboard.selectors.working_staff says).

A count across tables (a membership and a pledge written by two transactions at once) cannot be
kept by adding differences: each would miss the other's row. So the touched facilities' tally
rows are locked first, in id order, and counted afterwards: in READ COMMITTED the count is a new
statement and sees every transaction that held the lock before; one that comes later counts
again. A transaction with an older snapshot (REPEATABLE READ) fails on the locked row instead of
writing a stale count. Counting a facility reads its own staff (tens, a few hundred), not the
network's.

Other databases have no triggers here: the selectors count the rows themselves."""

from django.db import migrations

RECOUNT = """
CREATE OR REPLACE FUNCTION dashboard_staff_recount(ids bigint[]) RETURNS void AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO dashboard_stafftally (facility_id, staff, without_pledge)
        SELECT DISTINCT id, 0, 0 FROM unnest(ids) AS touched(id) WHERE id IS NOT NULL
        ORDER BY id
        ON CONFLICT (facility_id) DO NOTHING;
    PERFORM 1 FROM dashboard_stafftally WHERE facility_id = ANY(ids)
        ORDER BY facility_id FOR UPDATE;
    UPDATE dashboard_stafftally AS t
        SET staff = c.staff, without_pledge = c.without_pledge
        FROM (
            SELECT touched.id,
                count(m.id) AS staff,
                count(m.id) FILTER (WHERE NOT EXISTS (
                    SELECT 1 FROM facilities_staffpledge AS p
                    WHERE p.user_id = m.user_id AND p.facility_id = m.facility_id
                )) AS without_pledge
            FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) AS touched
            LEFT JOIN (
                facilities_facilitymembership AS m
                JOIN facilities_facility AS f ON f.id = m.facility_id AND f.state = 'active'
                JOIN facilities_user AS u ON u.id = m.user_id AND u.is_active
            ) ON m.facility_id = touched.id AND m.is_active
            GROUP BY touched.id
        ) AS c
        WHERE t.facility_id = c.id
            AND (t.staff, t.without_pledge) IS DISTINCT FROM (c.staff, c.without_pledge);
    DELETE FROM dashboard_educationtally WHERE facility_id = ANY(ids);
    -- Per active membership and 年度 (April to March), the day of its first attendance.
    INSERT INTO dashboard_educationtally (facility_id, day, n)
        SELECT facility_id, first_day, count(*) FROM (
            SELECT m.facility_id, min(s.held_on) AS first_day
            FROM facilities_facilitymembership AS m
            JOIN facilities_facility AS f ON f.id = m.facility_id AND f.state = 'active'
            JOIN facilities_user AS u ON u.id = m.user_id AND u.is_active
            JOIN facilities_educationsession AS s ON s.facility_id = m.facility_id
            JOIN facilities_educationsession_attendees AS a
                ON a.educationsession_id = s.id AND a.user_id = m.user_id
            WHERE m.facility_id = ANY(ids) AND m.is_active
            GROUP BY m.facility_id, m.id, extract(year FROM s.held_on - interval '3 months')
        ) AS firsts
        GROUP BY facility_id, first_day
        ORDER BY facility_id, first_day;
END
$$ LANGUAGE plpgsql;
"""

# (source table, the facilities a statement's rows touch: SQL over the transition relation
# `{rows}`, each in turn, or over old_rows and new_rows together)
SOURCES = {
    "facilities_facilitymembership": "SELECT facility_id FROM {rows}",
    # Only a facility's state and an account's is_active count; any other change (a login's
    # last_login) touches no facility.
    "facilities_facility": (
        "SELECT n.id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id"
        " WHERE n.state IS DISTINCT FROM o.state"
    ),
    "facilities_user": (
        "SELECT m.facility_id FROM facilities_facilitymembership AS m"
        " JOIN old_rows AS o ON o.id = m.user_id JOIN new_rows AS n ON n.id = o.id"
        " WHERE n.is_active IS DISTINCT FROM o.is_active"
    ),
    "facilities_staffpledge": "SELECT facility_id FROM {rows}",
    "facilities_educationsession": "SELECT facility_id FROM {rows}",
    "facilities_educationsession_attendees": (
        "SELECT s.facility_id FROM {rows} AS r"
        " JOIN facilities_educationsession AS s ON s.id = r.educationsession_id"
    ),
}

# A session without attendees counts for nobody: inserting one changes no tally.
OPERATIONS = {
    "facilities_facilitymembership": ("insert", "update", "delete"),
    "facilities_facility": ("update",),
    "facilities_user": ("update",),
    "facilities_staffpledge": ("insert", "update", "delete"),
    "facilities_educationsession": ("update", "delete"),
    "facilities_educationsession_attendees": ("insert", "update", "delete"),
}

TRANSITIONS = {
    "insert": ("REFERENCING NEW TABLE AS new_rows", ["new_rows"]),
    "update": ("REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", ["old_rows", "new_rows"]),
    "delete": ("REFERENCING OLD TABLE AS old_rows", ["old_rows"]),
}


def _function_name(source: str, op: str) -> str:
    return f"dashboard_staff_{op}_{source}"


def _create(source: str, op: str) -> str:
    referencing, relations = TRANSITIONS[op]
    source_sql = SOURCES[source]
    if "{rows}" in source_sql:
        touched = " UNION ".join(source_sql.format(rows=rel) for rel in relations)
    else:  # compares the old rows with the new ones itself
        touched = source_sql
    name = _function_name(source, op)
    lock_accounts = ""
    if source == "facilities_facilitymembership":
        # An account deactivated meanwhile recounts the facilities of its memberships as its
        # snapshot sees them, which may miss this one: share-lock the accounts first, so that
        # one of the two waits for the other's commit and counts after it.
        accounts = " UNION ".join(f"SELECT user_id FROM {rel}" for rel in relations)
        lock_accounts = (
            f"PERFORM 1 FROM facilities_user WHERE id IN ({accounts}) ORDER BY id FOR SHARE;\n    "
        )
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    {lock_accounts}PERFORM dashboard_staff_recount(ARRAY({touched}));
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER dashboard_staff_{op} AFTER {op.upper()} ON {source}
    {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


def _drop(source: str, op: str) -> str:
    return (
        f"DROP TRIGGER IF EXISTS dashboard_staff_{op} ON {source};"
        f"DROP FUNCTION IF EXISTS {_function_name(source, op)}();"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(RECOUNT)
    for source, ops in OPERATIONS.items():
        for op in ops:
            schema_editor.execute(_create(source, op))
    schema_editor.execute(
        "SELECT dashboard_staff_recount(ARRAY("
        "SELECT DISTINCT facility_id FROM facilities_facilitymembership))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for source, ops in OPERATIONS.items():
        for op in ops:
            schema_editor.execute(_drop(source, op))
    schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_staff_recount(bigint[]);")
    schema_editor.execute("DELETE FROM dashboard_stafftally; DELETE FROM dashboard_educationtally;")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0003_staff_tallies"),
        ("facilities", "0007_user_inactive_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
