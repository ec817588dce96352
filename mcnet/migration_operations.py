"""Migration operations that work on both databases the portal runs on."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexWithoutLock(AddIndexConcurrently):
    """An index built CONCURRENTLY on PostgreSQL, so writers to a table of millions are not
    held up while it builds; a plain index elsewhere (SQLite, the embedded default of
    `make run`, has no such option and nothing to hold up). The migration is non-atomic."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
