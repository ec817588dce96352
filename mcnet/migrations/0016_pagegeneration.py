from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mcnet", "0015_audit_pending"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageGeneration",
            fields=[
                ("user_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("generation", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "ページの世代",
                "verbose_name_plural": "ページの世代",
            },
        ),
    ]
