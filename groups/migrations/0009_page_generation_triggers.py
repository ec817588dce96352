"""Triggers that bump mcnet_pagegeneration for every user whose cached group list
(mcnet/pagecache.py) may show what a row change touched, in the same transaction.

In the database rather than in the services: every writer (services, the admin, jobs, a
migration's data fix) is covered, and a new service cannot forget it. PostgreSQL only; on
SQLite (the demo) the page cache is off (mcnet.pagecache.enabled).

Who sees what (groups/list.html, the base layout's menus):
- a membership: every member of its group (the member counts), the invitee;
- a group: its members (name, state, review, counts) and whoever holds a role at its
  facility (the MCS administrator's archive queue count);
- a facility: whoever holds a role or works there (its state decides what they may do);
- a role, a facility membership, a grant: its user;
- a user: themselves and those they invited (the invitations show the inviter's name).
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

CREATE OR REPLACE FUNCTION mcnet_pages_facility() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mcnet_pages_changed(mcnet_pages_facility_people(ARRAY[OLD.id]));
    END IF;
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

CREATE OR REPLACE FUNCTION mcnet_pages_user() RETURNS trigger AS $$
BEGIN
    PERFORM mcnet_pages_changed(ARRAY[OLD.id] || (
        SELECT coalesce(array_agg(user_id), '{}') FROM groups_membership
        WHERE invited_by_id = OLD.id AND state = 'invited'));
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
    FOR EACH ROW EXECUTE FUNCTION mcnet_pages_user_row();
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
        (OLD.name, OLD.email, OLD.state, OLD.is_active)
        IS DISTINCT FROM (NEW.name, NEW.email, NEW.state, NEW.is_active)
    ) EXECUTE FUNCTION mcnet_pages_user();
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
DROP FUNCTION IF EXISTS mcnet_pages_membership(), mcnet_pages_group(), mcnet_pages_facility(),
    mcnet_pages_user_row(), mcnet_pages_user(), mcnet_pages_group_members(bigint[]),
    mcnet_pages_facility_people(bigint[]), mcnet_pages_changed(bigint[]);
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
        ("mcnet", "0015_pagegeneration"),
    ]

    operations = [migrations.RunPython(create, drop)]
