"""Puts the periodic enrollment work into the scheduler's tables, once.

The entries are rows of django-celery-beat, so the county can change their times or switch
them off in the admin; this migration never overwrites an entry that already exists.
"""

from django.db import migrations

from pension.periodic import install_periodic_tasks, remove_periodic_tasks

ENTRIES = [
    {
        "name": "每日收取户籍与部门名单文件并比对",
        "task": "enrollment.tasks.collect_inbox",
        "cron": {"minute": "0", "hour": "2", "day_of_month": "*"},
        "description": "导入交换目录中新到的公安户籍（每季度）与部门名单（每月）文件，已导入的文件跳过。",
    },
    {
        "name": "每月检查达到领取条件人员（应发尽发）",
        "task": "enrollment.tasks.scan_benefits_due",
        "cron": {"minute": "0", "hour": "3", "day_of_month": "1"},
        "description": "年满60周岁且符合领取条件、尚未领取待遇的人员生成疑点。",
    },
]


def forward(apps, schema_editor):
    install_periodic_tasks(apps, ENTRIES)


def backward(apps, schema_editor):
    remove_periodic_tasks(apps, ENTRIES)


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0003_benefit_eligibility_fields"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
