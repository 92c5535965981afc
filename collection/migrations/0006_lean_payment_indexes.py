"""Leaner payment and proxy-item indexes: no index a composite or partial one already serves.

On SQLite (the demo) altering a column rebuilds the table, which drops the append-only
triggers of 0002; they are put back after the rebuild, in either direction.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def append_only_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    first = importlib.import_module("collection.migrations.0002_payment_append_only_trigger")
    for statement in first.SQLITE_FORWARD:
        schema_editor.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))


class Migration(migrations.Migration):

    dependencies = [
        ('collection', '0005_periodic_tasks'),
        ('enrollment', '0005_lean_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, append_only_triggers),
        migrations.AlterField(
            model_name='payment',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, db_index=False, help_text='同一年度的第二笔个人缴费：记为重复缴费待退，不计入收入和进度。', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='duplicates', to='collection.payment', verbose_name='重复于'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='recorded_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='录入人'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='resident',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='enrollment.resident', verbose_name='参保人'),
        ),
        migrations.AlterField(
            model_name='proxybatchitem',
            name='batch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='items', to='collection.proxybatch', verbose_name='批次'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(condition=models.Q(('duplicate_of__isnull', False)), fields=['duplicate_of'], name='payment_duplicate_idx'),
        ),
        migrations.RunPython(append_only_triggers, migrations.RunPython.noop),
    ]
