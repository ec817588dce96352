"""The access log off the chain's lock: AuditPending (appended without the lock, sealed into
the chain by a periodic job) and AuditTrail, the view readers query: sealed events and pending
records in one relation (pending ids negated, so ids stay unique)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


COLUMNS = (
    "created_at, actor_id, actor_label, action, object_type, object_id, object_repr, "
    "facility_id, changes, ip_address"
)
CREATE_VIEW = f"""
CREATE VIEW mcnet_audittrail AS
    SELECT id, {COLUMNS}, TRUE AS sealed FROM mcnet_auditevent
    UNION ALL
    SELECT -id, {COLUMNS}, FALSE AS sealed FROM mcnet_auditpending
"""
DROP_VIEW = "DROP VIEW IF EXISTS mcnet_audittrail"


class Migration(migrations.Migration):

    dependencies = [
        ('mcnet', '0014_networksettings_staff_change_days'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditTrail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(verbose_name='日時')),
                ('actor_label', models.CharField(max_length=254, verbose_name='操作者（記録時）')),
                ('action', models.CharField(max_length=64, verbose_name='操作')),
                ('object_type', models.CharField(max_length=64, verbose_name='対象の種類')),
                ('object_id', models.CharField(max_length=64, verbose_name='対象ID')),
                ('object_repr', models.CharField(max_length=200, verbose_name='対象')),
                ('facility_id', models.BigIntegerField(null=True, verbose_name='事業所ID')),
                ('changes', models.JSONField(default=dict, verbose_name='変更内容')),
                ('ip_address', models.GenericIPAddressField(null=True, verbose_name='IPアドレス')),
                ('sealed', models.BooleanField()),
            ],
            options={
                'verbose_name': '監査ログ',
                'verbose_name_plural': '監査ログ',
                'db_table': 'mcnet_audittrail',
                'ordering': ['-created_at', '-id'],
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='AuditPending',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='日時')),
                ('actor_label', models.CharField(blank=True, max_length=254, verbose_name='操作者（記録時）')),
                ('action', models.CharField(max_length=64, verbose_name='操作')),
                ('object_type', models.CharField(max_length=64, verbose_name='対象の種類')),
                ('object_id', models.CharField(blank=True, max_length=64, verbose_name='対象ID')),
                ('object_repr', models.CharField(blank=True, max_length=200, verbose_name='対象')),
                ('facility_id', models.BigIntegerField(blank=True, null=True, verbose_name='事業所ID')),
                ('changes', models.JSONField(blank=True, default=dict, verbose_name='変更内容')),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IPアドレス')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作者')),
            ],
            options={
                'verbose_name': '監査ログ',
                'verbose_name_plural': '監査ログ',
            },
        ),
        migrations.RunSQL(CREATE_VIEW, DROP_VIEW),
    ]
