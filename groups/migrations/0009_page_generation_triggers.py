"""Triggers that bump mcnet_pagegeneration for every user whose cached pages (the group list
and a group's page, mcnet/pagecache.py) may show what a row change touched, in the same
transaction.

In the database rather than in the services: every writer (services, the admin, jobs, a
migration's data fix) is covered, and a new service cannot forget it. PostgreSQL only; on
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
    SELECT coalesce(array_agg(user_id), '{}') FROM groups_membership
    WHERE group_id = ANY(group_ids);
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_facility_people(facility_ids bigint[]) RETURNS bigint[] AS $$
    SELECT coalesce(array_agg(user_id), '{}') FROM (
        SELECT user_id FROM facilities_facilityrole WHERE facility_id = ANY(facility_ids)
        UNION SELECT user_id FROM facilities_facilitymembership WHERE facility_id = ANY(facility_ids)
    ) AS people;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_membership() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(
            mcnet_pages_group_members(ARRAY[OLD.group_id]) || OLD.user_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM mcnet_pages_changed(
            mcnet_pages_group_members(ARRAY[NEW.group_id]) || NEW.user_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_group() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_group_members(ARRAY[OLD.id])
            || mcnet_pages_facility_people(ARRAY[OLD.facility_id]));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_group_members(ARRAY[NEW.id])
            || mcnet_pages_facility_people(ARRAY[NEW.facility_id]));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_co_members(user_ids bigint[]) RETURNS bigint[] AS $$
    SELECT coalesce(array_agg(DISTINCT m.user_id), '{}') FROM groups_membership m
    WHERE m.group_id IN (SELECT group_id FROM groups_membership WHERE user_id = ANY(user_ids));
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_patient_members(patient_ids bigint[]) RETURNS bigint[] AS $$
    SELECT mcnet_pages_group_members(
        (SELECT coalesce(array_agg(id), '{}') FROM groups_group WHERE patient_id = ANY(patient_ids)));
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mcnet_pages_facility() RETURNS trigger AS $$
DECLARE
    people bigint[] := mcnet_pages_facility_people(ARRAY[OLD.id]);
BEGIN
    IF TG_OP = 'DELETE' OR OLD.name IS DISTINCT FROM NEW.name THEN
        people := people || mcnet_pages_co_members(people) || mcnet_pages_group_members(
            (SELECT coalesce(array_agg(id), '{}') FROM groups_group WHERE facility_id = OLD.id));
    END IF;
    PERFORM mcnet_pages_changed(people);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_user_row() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(ARRAY[OLD.user_id]);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM mcnet_pages_changed(ARRAY[NEW.user_id]);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_person_row() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(OLD.user_id || mcnet_pages_co_members(ARRAY[OLD.user_id]));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM mcnet_pages_changed(NEW.user_id || mcnet_pages_co_members(ARRAY[NEW.user_id]));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_user() RETURNS trigger AS $$
BEGIN
    PERFORM mcnet_pages_changed(OLD.id || mcnet_pages_co_members(ARRAY[OLD.id]));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_of_group() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_group_members(ARRAY[OLD.group_id]));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_group_members(ARRAY[NEW.group_id]));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_of_patient() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_patient_members(ARRAY[OLD.patient_id]));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_patient_members(ARRAY[NEW.patient_id]));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mcnet_pages_patient() RETURNS trigger AS $$
BEGIN
    PERFORM mcnet_pages_changed(mcnet_pages_patient_members(ARRAY[OLD.id]));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER mcnet_pages_membership AFTER INSERT OR UPDATE OR DELETE ON groups_membership
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_membership();
CREATE TRIGGER mcnet_pages_group AFTER INSERT OR UPDATE OR DELETE ON groups_group
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_group();
CREATE TRIGGER mcnet_pages_facility AFTER UPDATE OR DELETE ON facilities_facility
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_facility();
CREATE TRIGGER mcnet_pages_role AFTER INSERT OR UPDATE OR DELETE ON facilities_facilityrole
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facility_membership
    AFTER INSERT OR UPDATE OR DELETE ON facilities_facilitymembership
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_person_row();
CREATE TRIGGER mcnet_pages_group_grant
    AFTER INSERT OR UPDATE OR DELETE ON groups_groupuserobjectpermission
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_facility_grant
    AFTER INSERT OR UPDATE OR DELETE ON facilities_facilityuserobjectpermission
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_user_row();
CREATE TRIGGER mcnet_pages_center_staff AFTER INSERT OR UPDATE OR DELETE ON facilities_user_groups
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_user_row();
-- Not on every UPDATE of the account: a sign-in writes last_login.
CREATE TRIGGER mcnet_pages_user AFTER UPDATE ON facilities_user
    FOR EACH ROW WHEN (
        (OLD.name, OLD.kana, OLD.email, OLD.state, OLD.is_active, OLD.occupation, OLD.phone,
         OLD.photo, OLD.gender, OLD.is_staff)
        IS DISTINCT FROM
        (NEW.name, NEW.kana, NEW.email, NEW.state, NEW.is_active, NEW.occupation, NEW.phone,
         NEW.photo, NEW.gender, NEW.is_staff)
    ) EXECUTE FUNCTION mcnet_pages_user();
CREATE TRIGGER mcnet_pages_patient AFTER UPDATE OR DELETE ON consents_patient
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_patient();
CREATE TRIGGER mcnet_pages_consent AFTER INSERT OR UPDATE OR DELETE ON consents_consent
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_of_patient();
CREATE TRIGGER mcnet_pages_review AFTER INSERT OR UPDATE OR DELETE ON groups_supporterreview
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_of_group();
CREATE TRIGGER mcnet_pages_team_notice AFTER INSERT OR UPDATE OR DELETE ON groups_teamnotice
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_of_group();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS mcnet_pages_membership ON groups_membership;
DROP TRIGGER IF EXISTS mcnet_pages_group ON groups_group;
DROP TRIGGER IF EXISTS mcnet_pages_facility ON facilities_facility;
DROP TRIGGER IF EXISTS mcnet_pages_role ON facilities_facilityrole;
DROP TRIGGER IF EXISTS mcnet_pages_facility_membership ON facilities_facilitymembership;
DROP TRIGGER IF EXISTS mcnet_pages_group_grant ON groups_groupuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_facility_grant ON facilities_facilityuserobjectpermission;
DROP TRIGGER IF EXISTS mcnet_pages_center_staff ON facilities_user_groups;
DROP TRIGGER IF EXISTS mcnet_pages_user ON facilities_user;
DROP TRIGGER IF EXISTS mcnet_pages_patient ON consents_patient;
DROP TRIGGER IF EXISTS mcnet_pages_consent ON consents_consent;
DROP TRIGGER IF EXISTS mcnet_pages_review ON groups_supporterreview;
DROP TRIGGER IF EXISTS mcnet_pages_team_notice ON groups_teamnotice;
DROP FUNCTION IF EXISTS mcnet_pages_membership(), mcnet_pages_group(), mcnet_pages_facility(),
    mcnet_pages_user_row(), mcnet_pages_person_row(), mcnet_pages_user(),
    mcnet_pages_of_group(), mcnet_pages_of_patient(), mcnet_pages_patient(),
    mcnet_pages_co_members(bigint[]), mcnet_pages_patient_members(bigint[]),
    mcnet_pages_group_members(bigint[]), mcnet_pages_facility_people(bigint[]),
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
        ("mcnet", "0015_pagegeneration"),
    ]

    operations = [migrations.RunPython(create, drop)]
