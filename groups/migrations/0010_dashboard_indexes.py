# The center's dashboard on a cache miss: due and overdue reviews per facility, groups waiting
# for the archive and groups archived per month, each read off a small index (make bench).
# Built CONCURRENTLY: writers to the million groups are not held up while they build.

import django.db.models.functions.comparison
from mcnet.migration_operations import AddIndexWithoutLock
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("groups", "0009_page_generation_triggers"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="group",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce("last_reviewed_at", "created_at"),
                models.F("facility"),
                include=["last_reviewed_at", "created_at"],
                condition=models.Q(("kind", "patient"), ("state", "active")),
                name="group_review_base_facility",
            ),
        ),
        AddIndexWithoutLock(
            model_name="group",
            index=models.Index(
                condition=models.Q(("state", "to_be_archived")),
                fields=["end_reported_at", "facility"],
                name="group_archive_waiting",
            ),
        ),
        AddIndexWithoutLock(
            model_name="group",
            index=models.Index(
                condition=models.Q(("state", "archived")),
                fields=["archived_at"],
                name="group_archived_on",
            ),
        ),
    ]
