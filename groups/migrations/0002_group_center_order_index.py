# The center's overview of every group, read in index order (a million groups: make bench).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="group",
            index=models.Index(fields=["state", "kind", "name", "id"], name="group_center_order"),
        ),
    ]
