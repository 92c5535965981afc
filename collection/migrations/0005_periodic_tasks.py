"""Puts the periodic campaign work into the scheduler's tables, once.

The entries are rows of django-celery-beat, so the county can change their times or switch
them off in the admin; this migration never overwrites an entry that already exists. Every task
is safe to run twice: a second run finds nothing new to do.
"""

from django.db import migrations

from pension.periodic import install_periodic_tasks, remove_periodic_tasks

ENTRIES = [
    {
        "name": "每月生成政府代缴批次（动态清零）",
        "task": "collection.tasks.generate_proxy_batches",
        "cron": {"minute": "0", "hour": "1", "day_of_month": "1"},
        "description": "各县新符合代缴条件、尚未代缴的人员列入待审批的代缴批次。",
    },
    {
        "name": "每日记录各村征缴进度",
        "task": "collection.tasks.snapshot_progress",
        "cron": {"minute": "45", "hour": "23", "day_of_month": "*"},
        "description": "按村统计当日已缴人数与应缴人数，供进度排名、预警与走势图使用。",
    },
    {
        "name": "每日检查协办员现金双限",
        "task": "collection.tasks.check_cash_limits",
        "cron": {"minute": "0", "hour": "6", "day_of_month": "*"},
        "description": "未缴销现金超过留存天数或金额上限的代收协办员记为超限。",
    },
    {
        "name": "每日登记到期公示",
        "task": "collection.tasks.schedule_notices",
        "cron": {"minute": "30", "hour": "6", "day_of_month": "*"},
        "description": "各村民小组的月度缴费公示与年度已缴、未缴名单公示按时限登记，逾期可查。",
    },
]


def forward(apps, schema_editor):
    install_periodic_tasks(apps, ENTRIES)


def backward(apps, schema_editor):
    remove_periodic_tasks(apps, ENTRIES)


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0004_campaign"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
