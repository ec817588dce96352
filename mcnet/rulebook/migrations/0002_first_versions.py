"""Version 1 of every network document: the rules in force since 2021-09-01 (附則)."""

from django.db import migrations

from mcnet.rulebook.seed import ensure_first_versions


def forwards(apps, schema_editor):
    ensure_first_versions(apps.get_model("rulebook", "RuleVersion"))


class Migration(migrations.Migration):
    dependencies = [("rulebook", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
