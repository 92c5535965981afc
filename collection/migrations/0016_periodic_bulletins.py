"""Puts the Monday bulletin into the scheduler's tables, once (see 0005_periodic_tasks)."""

from django.db import migrations

from pension.periodic import install_periodic_tasks, remove_periodic_tasks

ENTRIES = [
    {
        "name": "每周一生成征缴进展通报",
        "task": "collection.tasks.publish_weekly_bulletins",
        "cron": {"minute": "0", "hour": "7", "day_of_month": "*", "day_of_week": "1"},
        "description": "各县截至上周日的征缴进展通报：进度、排名、表扬与批评、应代尽代、双限、"
        "逾期公示和进度预测，存档备查。",
    },
]


def forward(apps, schema_editor):
    install_periodic_tasks(apps, ENTRIES)


def backward(apps, schema_editor):
    remove_periodic_tasks(apps, ENTRIES)


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0015_bulletin"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
