# 留意事項 1: overdue and coming supporter reviews found off an index (make bench).

import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0002_group_center_order_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="group",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce("last_reviewed_at", "created_at"),
                condition=models.Q(("kind", "patient"), ("state", "active")),
                name="group_review_base",
            ),
        ),
    ]
