"""Triggers that bump mcnet_pagegeneration for every user whose cached pages (the group list
and a group's page, mcnet/pagecache.py) may show what a row change touched, in the same
transaction.

In the database rather than in the services: every writer (services, the admin, jobs, a
migration's data fix) is covered, and a new service cannot forget it. Statement triggers
with transition tables: a job that changes 5,000 memberships bumps once, set-based, not
5,000 times. PostgreSQL only; on
SQLite (the demo) the page cache is off (mcnet.pagecache.enabled).

Who sees what (groups/list.html, groups/detail.html, the base layout's menus):
- a membership: every member of its group (the member list and counts, the invitations);
- a group: its members and whoever holds a role or works at its facility (the MCS
  administrator's archive queue, the facility's name);
- a patient, a consent, a supporter review, a team notice: the members of the patient's or
  the group's groups;
- a facility: whoever holds a role or works there (its state decides what they may do); when
  it is renamed, also the members of their groups (a member's facilities are shown);
- a role, a grant, center staff: that user;
- a person (name, photo, occupation, state…) or where they work: themselves and everyone in a
  group with them, invitations included.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION mcnet_pages_changed(user_ids bigint[]) RETURNS void AS $$
    INSERT INTO mcnet_pagegeneration (user_id, generation)
    SELECT DISTINCT u, 1 FROM unnest(user_ids) AS u WHERE u IS NOT NULL ORDER BY u
    ON CONFLICT (user_id) DO UPDATE SET generation = mcnet_pagegeneration.generation + 1;
$$ LANGUAGE sql;

CREATE OR REPLACE FUNCTION mcnet_pages_group_members(group_ids bigint[]) RETURNS bigint[] AS $$
    SELECT coalesce(array_agg(DISTINCT user_id), '{}') FROM groups_membership
    WHERE group_id = ANY(group_ids);
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_facility_people(facility_ids bigint[]) RETURNS bigint[] AS $$
    SELECT coalesce(array_agg(user_id), '{}') FROM (
        SELECT user_id FROM facilities_facilityrole WHERE facility_id = ANY(facility_ids)
        UNION SELECT user_id FROM facilities_facilitymembership WHERE facility_id = ANY(facility_ids)
    ) AS people;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_co_members(user_ids bigint[]) RETURNS bigint[] AS $$
    SELECT coalesce(array_agg(DISTINCT m.user_id), '{}') FROM groups_membership m
    WHERE m.group_id IN (SELECT group_id FROM groups_membership WHERE user_id = ANY(user_ids));
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_patient_members(patient_ids bigint[]) RETURNS bigint[] AS $$
    SELECT mcnet_pages_group_members(
        (SELECT coalesce(array_agg(id), '{}') FROM groups_group WHERE patient_id = ANY(patient_ids)));
$$ LANGUAGE sql STABLE;

-- Each function reads the statement's rows: old_rows (UPDATE, DELETE) and new_rows (INSERT,
-- UPDATE); a branch names only the tables its event has.
CREATE OR REPLACE FUNCTION mcnet_pages_membership() RETURNS trigger AS $$
DECLARE
    users bigint[] := '{}';
    groups bigint[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        users := users || ARRAY(SELECT user_id FROM old_rows);
        groups := groups || ARRAY(SELECT group_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        users := users || ARRAY(SELECT user_id FROM new_rows);
        groups := groups || ARRAY(SELECT group_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(users || mcnet_pages_group_members(groups));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_group() RETURNS trigger AS $$
DECLARE
    groups bigint[] := '{}';
    facilities bigint[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        groups := groups || ARRAY(SELECT id FROM old_rows);
        facilities := facilities || ARRAY(SELECT facility_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        groups := groups || ARRAY(SELECT id FROM new_rows);
        facilities := facilities || ARRAY(SELECT facility_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(
        mcnet_pages_group_members(groups) || mcnet_pages_facility_people(facilities));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_facility() RETURNS trigger AS $$
DECLARE
    facilities bigint[] := ARRAY(SELECT id FROM old_rows);
    renamed bigint[];
    people bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        renamed := facilities;
    ELSE
        renamed := ARRAY(SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
                         WHERE o.name IS DISTINCT FROM n.name);
    END IF;
    people := mcnet_pages_facility_people(facilities);
    IF cardinality(renamed) > 0 THEN
        -- A member's facilities are shown on their groups' pages, and a group's facility.
        people := people || mcnet_pages_co_members(mcnet_pages_facility_people(renamed))
            || mcnet_pages_group_members(ARRAY(
                SELECT id FROM groups_group WHERE facility_id = ANY(renamed)));
    END IF;
    PERFORM mcnet_pages_changed(people);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_user_row() RETURNS trigger AS $$
DECLARE
    users bigint[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        users := users || ARRAY(SELECT user_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        users := users || ARRAY(SELECT user_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(users);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_person_row() RETURNS trigger AS $$
DECLARE
    users bigint[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        users := users || ARRAY(SELECT user_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        users := users || ARRAY(SELECT user_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(users || mcnet_pages_co_members(users));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- Not for every UPDATE of the account: a sign-in writes last_login.
CREATE OR REPLACE FUNCTION mcnet_pages_user() RETURNS trigger AS $$
DECLARE
    users bigint[] := ARRAY(
        SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.name, o.kana, o.email, o.state, o.is_active, o.occupation, o.phone, o.photo,
               o.gender, o.is_staff)
        IS DISTINCT FROM (n.name, n.kana, n.email, n.state, n.is_active, n.occupation, n.phone,
                          n.photo, n.gender, n.is_staff));
BEGIN
    IF cardinality(users) > 0 THEN
        PERFORM mcnet_pages_changed(users || mcnet_pages_co_members(users));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_of_group() RETURNS trigger AS $$
DECLARE
    groups bigint[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        groups := groups || ARRAY(SELECT group_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        groups := groups || ARRAY(SELECT group_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(mcnet_pages_group_members(groups));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_of_patient() RETURNS trigger AS $$
DECLARE
    patients bigint[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        patients := patients || ARRAY(SELECT patient_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        patients := patients || ARRAY(SELECT patient_id FROM new_rows);
    END IF;
    PERFORM mcnet_pages_changed(mcnet_pages_patient_members(patients));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_patient() RETURNS trigger AS $$
BEGIN
    PERFORM mcnet_pages_changed(mcnet_pages_patient_members(ARRAY(SELECT id FROM old_rows)));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER mcnet_pages_groups_membership_ins AFTER INSERT ON groups_membership
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_membership();
CREATE TRIGGER mcnet_pages_groups_membership_upd AFTER UPDATE ON groups_membership
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_membership();
CREATE TRIGGER mcnet_pages_groups_membership_del AFTER DELETE ON groups_membership
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_membership();
CREATE TRIGGER mcnet_pages_groups_group_ins AFTER INSERT ON groups_group
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_group();
CREATE TRIGGER mcnet_pages_groups_group_upd AFTER UPDATE ON groups_group
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_group();
CREATE TRIGGER mcnet_pages_groups_group_del AFTER DELETE ON groups_group
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_group();
CREATE TRIGGER mcnet_pages_facilities_facility_upd AFTER UPDATE ON facilities_facility
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_facility();
CREATE TRIGGER mcnet_pages_facilities_facility_del AFTER DELETE ON facilities_facility
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_facility();
CREATE TRIGGER mcnet_pages_facilities_facilityrole_ins AFTER INSERT ON facilities_facilityrole
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_facilityrole_upd AFTER UPDATE ON facilities_facilityrole
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_facilityrole_del AFTER DELETE ON facilities_facilityrole
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_facilitymembership_ins AFTER INSERT ON facilities_facilitymembership
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_person_row();
CREATE TRIGGER mcnet_pages_facilities_facilitymembership_upd AFTER UPDATE ON facilities_facilitymembership
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_person_row();
CREATE TRIGGER mcnet_pages_facilities_facilitymembership_del AFTER DELETE ON facilities_facilitymembership
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_person_row();
CREATE TRIGGER mcnet_pages_groups_groupuserobjectpermission_ins AFTER INSERT ON groups_groupuserobjectpermission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_groups_groupuserobjectpermission_upd AFTER UPDATE ON groups_groupuserobjectpermission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_groups_groupuserobjectpermission_del AFTER DELETE ON groups_groupuserobjectpermission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_facilityuserobjectpermission_ins AFTER INSERT ON facilities_facilityuserobjectpermission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_facilityuserobjectpermission_upd AFTER UPDATE ON facilities_facilityuserobjectpermission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_facilityuserobjectpermission_del AFTER DELETE ON facilities_facilityuserobjectpermission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_user_groups_ins AFTER INSERT ON facilities_user_groups
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_user_groups_upd AFTER UPDATE ON facilities_user_groups
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_user_groups_del AFTER DELETE ON facilities_user_groups
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facilities_user_upd AFTER UPDATE ON facilities_user
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_user();
CREATE TRIGGER mcnet_pages_consents_patient_upd AFTER UPDATE ON consents_patient
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_patient();
CREATE TRIGGER mcnet_pages_consents_patient_del AFTER DELETE ON consents_patient
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_patient();
CREATE TRIGGER mcnet_pages_consents_consent_ins AFTER INSERT ON consents_consent
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_patient();
CREATE TRIGGER mcnet_pages_consents_consent_upd AFTER UPDATE ON consents_consent
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_patient();
CREATE TRIGGER mcnet_pages_consents_consent_del AFTER DELETE ON consents_consent
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_patient();
CREATE TRIGGER mcnet_pages_groups_supporterreview_ins AFTER INSERT ON groups_supporterreview
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_group();
CREATE TRIGGER mcnet_pages_groups_supporterreview_upd AFTER UPDATE ON groups_supporterreview
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_group();
CREATE TRIGGER mcnet_pages_groups_supporterreview_del AFTER DELETE ON groups_supporterreview
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_group();
CREATE TRIGGER mcnet_pages_groups_teamnotice_ins AFTER INSERT ON groups_teamnotice
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_group();
CREATE TRIGGER mcnet_pages_groups_teamnotice_upd AFTER UPDATE ON groups_teamnotice
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_group();
CREATE TRIGGER mcnet_pages_groups_teamnotice_del AFTER DELETE ON groups_teamnotice
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcnet_pages_of_group();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS mcnet_pages_groups_membership_ins ON groups_membership;
DROP TRIGGER IF EXISTS mcnet_pages_groups_membership_upd ON groups_membership;
DROP TRIGGER IF EXISTS mcnet_pages_groups_membership_del ON groups_membership;
DROP TRIGGER IF EXISTS mcnet_pages_groups_group_ins ON groups_group;
DROP TRIGGER IF EXISTS mcnet_pages_groups_group_upd ON groups_group;
DROP TRIGGER IF EXISTS mcnet_pages_groups_group_del ON groups_group;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facility_upd ON facilities_facility;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facility_del ON facilities_facility;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilityrole_ins ON facilities_facilityrole;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilityrole_upd ON facilities_facilityrole;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilityrole_del ON facilities_facilityrole;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilitymembership_ins ON facilities_facilitymembership;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilitymembership_upd ON facilities_facilitymembership;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilitymembership_del ON facilities_facilitymembership;
DROP TRIGGER IF EXISTS mcnet_pages_groups_groupuserobjectpermission_ins ON groups_groupuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_groups_groupuserobjectpermission_upd ON groups_groupuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_groups_groupuserobjectpermission_del ON groups_groupuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilityuserobjectpermission_ins ON facilities_facilityuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilityuserobjectpermission_upd ON facilities_facilityuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_facilityuserobjectpermission_del ON facilities_facilityuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_user_groups_ins ON facilities_user_groups;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_user_groups_upd ON facilities_user_groups;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_user_groups_del ON facilities_user_groups;
DROP TRIGGER IF EXISTS mcnet_pages_facilities_user_upd ON facilities_user;
DROP TRIGGER IF EXISTS mcnet_pages_consents_patient_upd ON consents_patient;
DROP TRIGGER IF EXISTS mcnet_pages_consents_patient_del ON consents_patient;
DROP TRIGGER IF EXISTS mcnet_pages_consents_consent_ins ON consents_consent;
DROP TRIGGER IF EXISTS mcnet_pages_consents_consent_upd ON consents_consent;
DROP TRIGGER IF EXISTS mcnet_pages_consents_consent_del ON consents_consent;
DROP TRIGGER IF EXISTS mcnet_pages_groups_supporterreview_ins ON groups_supporterreview;
DROP TRIGGER IF EXISTS mcnet_pages_groups_supporterreview_upd ON groups_supporterreview;
DROP TRIGGER IF EXISTS mcnet_pages_groups_supporterreview_del ON groups_supporterreview;
DROP TRIGGER IF EXISTS mcnet_pages_groups_teamnotice_ins ON groups_teamnotice;
DROP TRIGGER IF EXISTS mcnet_pages_groups_teamnotice_upd ON groups_teamnotice;
DROP TRIGGER IF EXISTS mcnet_pages_groups_teamnotice_del ON groups_teamnotice;
DROP FUNCTION IF EXISTS mcnet_pages_membership(),
    mcnet_pages_group(),
    mcnet_pages_facility(),
    mcnet_pages_user_row(),
    mcnet_pages_person_row(),
    mcnet_pages_user(),
    mcnet_pages_of_group(),
    mcnet_pages_of_patient(),
    mcnet_pages_patient(),
    mcnet_pages_co_members(bigint[]),
    mcnet_pages_patient_members(bigint[]),
    mcnet_pages_group_members(bigint[]),
    mcnet_pages_facility_people(bigint[]),
    mcnet_pages_changed(bigint[]);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0008_membership_via_facility"),
        ("facilities", "0006_staffpledge_method_staffpledge_rule_version"),
        ("consents", "0004_consent_rule_version"),
        ("mcnet", "0016_pagegeneration"),
    ]

    operations = [migrations.RunPython(create, drop)]
