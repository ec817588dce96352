# The center's dashboard on a cache miss: the few deactivated accounts off a small index
# (make bench). Built CONCURRENTLY: sign-ins and account changes are not held up meanwhile.

from mcnet.migration_operations import AddIndexWithoutLock
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("facilities", "0006_staffpledge_method_staffpledge_rule_version"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="user",
            index=models.Index(
                condition=models.Q(("is_active", False)), fields=["id"], name="user_inactive"
            ),
        ),
    ]
