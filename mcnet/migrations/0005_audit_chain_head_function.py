"""One round trip, not two, to take the audit chain's lock and read its last hash (one
query fewer for every write). PostgreSQL only: SQLite serializes writers by itself."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mcnet_audit_chain_head() RETURNS varchar AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('mcnet_audit_chain'));
    -- A VOLATILE function takes a fresh snapshot for each statement (READ COMMITTED), so this
    -- sees an event committed by the writer the lock waited for.
    RETURN (SELECT hash FROM mcnet_auditevent ORDER BY id DESC LIMIT 1);
END
$$ LANGUAGE plpgsql VOLATILE;
"""
DROP = "DROP FUNCTION IF EXISTS mcnet_audit_chain_head();"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("mcnet", "0004_generated_document")]

    operations = [migrations.RunPython(forwards, backwards)]
