"""Triggers that bump the page generation (mcnet.models.PageGeneration) of everyone whose home
page (mcnet.views.home, cached by mcnet/pagecache.py) may show what a row change touched, in
the writer's own transaction. They complete groups' migration 0009 (the group list and a
group's page) with the tables only the home page reads; docs/architecture.md, "Cached pages",
has the table of what home shows, from which tables, and whose home each change reaches.

Here, in the app above every table they name (the dashboard depends on groups, consents,
facilities, devices and enrollment), because the home page reads them all and 0009's helper
functions (mcnet_pages_changed, mcnet_pages_facility_people, …) are groups'. Statement
triggers with transition tables, as in 0009: a job that changes 5,000 rows bumps once.
PostgreSQL only; on SQLite (the demo) the page cache is off.

Two generations belong to no user (mcnet_pagegeneration rows under ids no account has):
- NETWORK (0): the announcements, which reach every user (or every MCS administrator): one
  bump instead of one per user of the network;
- CENTER (-1): what only the center's staff see on home (applications, rosters and change
  notices waiting, escalated incidents).
facilities.selectors.signed_in_user adds them to the user's own generation (the center's only
for center staff) in the request's one query, so a cached home costs no query more.

Whose home a change reaches, beyond 0009:
- an announcement: everyone (NETWORK); a read mark: its user;
- a staff attestation or its lines: the people of the attestation's facility; a group
  attestation: the group's members;
- a patient, a consent, a patient's request: the patient's custodians and counters — the
  people of the patient's facility (patient-group managers count the patients in care, MCS
  administrators answer requests), whoever registered the patient (custodian while the
  patient has no group), the managers and members of the patient's groups;
- a group (created, ended, removed): the same people of its patient, as custody moves and
  the count of patients in care changes (the group's own facility is 0009's);
- a person renamed: those they invited (the invitation names who invites);
- a facility membership, pledge, education session or attendee, facility invitation,
  device, take-out, loss or incident report, roster or change notice: the people of the
  row's facility (the facility cards, the MCS administrator's queue, the filers' notices);
  a take-out also its requester;
- an escalated incident, an application, a roster or change notice: the center (CENTER).
"""

from django.db import migrations

NETWORK = 0
CENTER = -1

SQL = f"""
CREATE OR REPLACE FUNCTION mcnet_pages_network_changed() RETURNS trigger AS $$
BEGIN
    PERFORM mcnet_pages_changed(ARRAY[{NETWORK}]::bigint[]);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_center_changed() RETURNS trigger AS $$
BEGIN
    PERFORM mcnet_pages_changed(ARRAY[{CENTER}]::bigint[]);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- The custodians and counters of these patients while their rows exist (see the docstring).
CREATE OR REPLACE FUNCTION mcnet_pages_patient_people(patient_ids bigint[]) RETURNS bigint[] AS $$
    SELECT mcnet_pages_facility_people(
            ARRAY(SELECT facility_id FROM consents_patient WHERE id = ANY(patient_ids)))
        || ARRAY(SELECT registered_by_id FROM consents_patient
                 WHERE id = ANY(patient_ids) AND registered_by_id IS NOT NULL)
        || ARRAY(SELECT manager_id FROM groups_group
                 WHERE patient_id = ANY(patient_ids) AND manager_id IS NOT NULL)
        || mcnet_pages_patient_members(patient_ids);
$$ LANGUAGE sql STABLE;

-- Rows with a facility_id: the people of those facilities (TG_ARGV[0] = 'center': and the
-- center's staff).
CREATE OR REPLACE FUNCTION mcnet_pages_facility_rows() RETURNS trigger AS $$
DECLARE
    facilities bigint[] := '{{}}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        facilities := facilities || ARRAY(SELECT facility_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        facilities := facilities || ARRAY(SELECT facility_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(mcnet_pages_facility_people(facilities));
    IF TG_NARGS > 0 AND TG_ARGV[0] = 'center' THEN
        PERFORM mcnet_pages_changed(ARRAY[{CENTER}]::bigint[]);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_takeout() RETURNS trigger AS $$
DECLARE
    facilities bigint[] := '{{}}';
    users bigint[] := '{{}}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        facilities := facilities || ARRAY(SELECT facility_id FROM old_rows);
        users := users || ARRAY(SELECT requester_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        facilities := facilities || ARRAY(SELECT facility_id FROM new_rows);
        users := users || ARRAY(SELECT requester_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(users || mcnet_pages_facility_people(facilities));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- An incident: its facility's people; the center when it is (or was) escalated.
CREATE OR REPLACE FUNCTION mcnet_pages_incident() RETURNS trigger AS $$
DECLARE
    facilities bigint[] := '{{}}';
    escalated boolean := false;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        facilities := facilities || ARRAY(SELECT facility_id FROM old_rows);
        escalated := escalated OR EXISTS (SELECT 1 FROM old_rows WHERE escalated_at IS NOT NULL);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        facilities := facilities || ARRAY(SELECT facility_id FROM new_rows);
        escalated := escalated OR EXISTS (SELECT 1 FROM new_rows WHERE escalated_at IS NOT NULL);
    END IF;
    PERFORM mcnet_pages_changed(mcnet_pages_facility_people(facilities));
    IF escalated THEN
        PERFORM mcnet_pages_changed(ARRAY[{CENTER}]::bigint[]);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_staff_attestation_line() RETURNS trigger AS $$
DECLARE
    attestations bigint[] := '{{}}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        attestations := attestations || ARRAY(SELECT attestation_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        attestations := attestations || ARRAY(SELECT attestation_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(mcnet_pages_facility_people(ARRAY(
        SELECT facility_id FROM groups_staffattestation WHERE id = ANY(attestations))));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_education_attendee() RETURNS trigger AS $$
DECLARE
    sessions bigint[] := '{{}}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        sessions := sessions || ARRAY(SELECT educationsession_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        sessions := sessions || ARRAY(SELECT educationsession_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(mcnet_pages_facility_people(ARRAY(
        SELECT facility_id FROM facilities_educationsession WHERE id = ANY(sessions))));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A patient's row: read from the rows themselves, as a deleted patient is gone from the table.
CREATE OR REPLACE FUNCTION mcnet_pages_patient_home() RETURNS trigger AS $$
DECLARE
    patients bigint[] := '{{}}';
    facilities bigint[] := '{{}}';
    users bigint[] := '{{}}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        patients := patients || ARRAY(SELECT id FROM old_rows);
        facilities := facilities || ARRAY(SELECT facility_id FROM old_rows);
        users := users || ARRAY(SELECT registered_by_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        patients := patients || ARRAY(SELECT id FROM new_rows);
        facilities := facilities || ARRAY(SELECT facility_id FROM new_rows);
        users := users || ARRAY(SELECT registered_by_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(users || mcnet_pages_facility_people(facilities)
        || mcnet_pages_patient_people(patients));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- Rows with a patient_id (a consent, a request, a group): the patient's people.
CREATE OR REPLACE FUNCTION mcnet_pages_patient_rows() RETURNS trigger AS $$
DECLARE
    patients bigint[] := '{{}}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        patients := patients || ARRAY(SELECT patient_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        patients := patients || ARRAY(SELECT patient_id FROM new_rows);
    END IF;
    patients := ARRAY(SELECT p FROM unnest(patients) AS p WHERE p IS NOT NULL);
    IF cardinality(patients) > 0 THEN
        PERFORM mcnet_pages_changed(mcnet_pages_patient_people(patients));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A person renamed: those they invited to a group (home names who invites). The person and
-- their co-members are 0009's.
CREATE OR REPLACE FUNCTION mcnet_pages_inviter() RETURNS trigger AS $$
DECLARE
    users bigint[] := ARRAY(
        SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.name, o.email) IS DISTINCT FROM (n.name, n.email));
BEGIN
    IF cardinality(users) > 0 THEN
        PERFORM mcnet_pages_changed(ARRAY(
            SELECT user_id FROM groups_membership
            WHERE invited_by_id = ANY(users) AND state = 'invited'));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

# (table, function, its argument): an INSERT, UPDATE and DELETE trigger each.
TRIGGERS = [
    ("groups_announcement", "mcnet_pages_network_changed", ""),
    ("groups_announcementread", "mcnet_pages_user_row", ""),
    ("groups_staffattestation", "mcnet_pages_facility_rows", ""),
    ("groups_staffattestationline", "mcnet_pages_staff_attestation_line", ""),
    ("groups_groupattestation", "mcnet_pages_of_group", ""),
    ("consents_patient", "mcnet_pages_patient_home", ""),
    ("consents_consent", "mcnet_pages_patient_rows", ""),
    ("consents_patientrequest", "mcnet_pages_patient_rows", ""),
    ("groups_group", "mcnet_pages_patient_rows", ""),
    ("facilities_facilitymembership", "mcnet_pages_facility_rows", ""),
    ("facilities_staffpledge", "mcnet_pages_facility_rows", ""),
    ("facilities_educationsession", "mcnet_pages_facility_rows", ""),
    ("facilities_educationsession_attendees", "mcnet_pages_education_attendee", ""),
    ("facilities_invitation", "mcnet_pages_facility_rows", ""),
    ("devices_device", "mcnet_pages_facility_rows", ""),
    ("devices_takeoutrequest", "mcnet_pages_takeout", ""),
    ("devices_lossreport", "mcnet_pages_facility_rows", ""),
    ("devices_incidentreport", "mcnet_pages_incident", ""),
    ("enrollment_application", "mcnet_pages_center_changed", ""),
    ("enrollment_rosterrequest", "mcnet_pages_facility_rows", "center"),
    ("enrollment_changenotice", "mcnet_pages_facility_rows", "center"),
]
# Renames only: not every UPDATE of the account (a sign-in writes last_login).
USER_TRIGGER = "mcnet_pages_home_facilities_user_upd"

FUNCTIONS = (
    "mcnet_pages_network_changed()",
    "mcnet_pages_center_changed()",
    "mcnet_pages_facility_rows()",
    "mcnet_pages_takeout()",
    "mcnet_pages_incident()",
    "mcnet_pages_staff_attestation_line()",
    "mcnet_pages_education_attendee()",
    "mcnet_pages_patient_home()",
    "mcnet_pages_patient_rows()",
    "mcnet_pages_inviter()",
    "mcnet_pages_patient_people(bigint[])",
)

_EVENTS = {
    "ins": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "upd": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "del": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
}


def trigger_name(table: str, event: str) -> str:
    # "mcnet_pages_" (the bench's loader disables them by that prefix), "home_", the table.
    return f"mcnet_pages_home_{table}_{event}"


def create_sql() -> str:
    statements = [SQL]
    for table, function, argument in TRIGGERS:
        argument = f"'{argument}'" if argument else ""
        for event, (verb, referencing) in _EVENTS.items():
            statements.append(
                f"CREATE TRIGGER {trigger_name(table, event)} AFTER {verb} ON {table}"
                f" {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}({argument});"
            )
    statements.append(
        f"CREATE TRIGGER {USER_TRIGGER} AFTER UPDATE ON facilities_user"
        f" {_EVENTS['upd'][1]} FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_inviter();"
    )
    return "\n".join(statements)


def drop_sql() -> str:
    statements = [
        f"DROP TRIGGER IF EXISTS {trigger_name(table, event)} ON {table};"
        for table, _function, _argument in TRIGGERS
        for event in _EVENTS
    ]
    statements.append(f"DROP TRIGGER IF EXISTS {USER_TRIGGER} ON facilities_user;")
    statements.append(f"DROP FUNCTION IF EXISTS {', '.join(FUNCTIONS)};")
    return "\n".join(statements)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_sql())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(drop_sql())


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0004_staff_tally_triggers"),
        ("groups", "0010_dashboard_indexes"),
        ("consents", "0004_consent_rule_version"),
        ("facilities", "0008_user_directory_name"),
        ("devices", "0004_article12_checklist_and_erasure"),
        ("enrollment", "0004_change_notice_portal_lines"),
        ("mcnet", "0016_pagegeneration"),
    ]

    operations = [migrations.RunPython(create, drop)]
