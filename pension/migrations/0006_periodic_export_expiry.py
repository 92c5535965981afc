"""Puts the daily deletion of old exported workbooks into the scheduler's tables, once."""

from django.db import migrations

from pension.periodic import install_periodic_tasks, remove_periodic_tasks

ENTRIES = [
    {
        "name": "每日删除过期的导出文件",
        "task": "pension.tasks.expire_export_files",
        "cron": {"minute": "40", "hour": "3", "day_of_month": "*"},
        "description": "导出的工作簿含个人信息，生成满保留天数（EXPORT_RETENTION_DAYS，默认 7 天）后删除文件，导出记录保留。",
    },
]


def forward(apps, schema_editor):
    install_periodic_tasks(apps, ENTRIES)


def backward(apps, schema_editor):
    remove_periodic_tasks(apps, ENTRIES)


class Migration(migrations.Migration):
    dependencies = [
        ("pension", "0005_export_job"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
