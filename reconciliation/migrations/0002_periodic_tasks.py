"""Puts the monthly reconciliation into the scheduler's tables, once.

The entry is a row of django-celery-beat, so the county can change its time or switch it off in
the admin; this migration never overwrites an entry that already exists. The task is safe to run
twice: a second run replaces the month's result with the same one.
"""

from django.db import migrations

from pension.periodic import install_periodic_tasks, remove_periodic_tasks

ENTRIES = [
    {
        "name": "每月对账（上月）",
        "task": "reconciliation.tasks.reconcile_last_month",
        # Statements of a month arrive in the first days of the next one.
        "cron": {"minute": "30", "hour": "2", "day_of_month": "10"},
        "description": (
            "对已导入上月税务征收明细或银行流水的县，核对税务、银行与系统缴费记录并登记差异。"
        ),
    },
]


def forward(apps, schema_editor):
    install_periodic_tasks(apps, ENTRIES)


def backward(apps, schema_editor):
    remove_periodic_tasks(apps, ENTRIES)


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_statements_runs_discrepancies_and_api_keys"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
