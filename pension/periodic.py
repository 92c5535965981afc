"""The periodic work each app ships, put into django-celery-beat's tables by its migrations.

The entries are rows, so a county can change their times or switch them off in the admin; an
entry that already exists (by name) is never overwritten. Times are Beijing time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypedDict


class Entry(TypedDict):
    name: str
    task: str
    cron: dict[str, str]  # minute, hour, day_of_month, and day_of_week when not every day
    description: str


def install_periodic_tasks(apps, entries: Sequence[Entry]) -> None:
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for entry in entries:
        if PeriodicTask.objects.filter(name=entry["name"]).exists():
            continue
        crontab, _ = Crontab.objects.get_or_create(
            minute=entry["cron"]["minute"],
            hour=entry["cron"]["hour"],
            day_of_month=entry["cron"]["day_of_month"],
            month_of_year="*",
            day_of_week=entry["cron"].get("day_of_week", "*"),
            timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.create(
            name=entry["name"],
            task=entry["task"],
            crontab=crontab,
            args=json.dumps([]),
            description=entry["description"],
        )


def remove_periodic_tasks(apps, entries: Sequence[Entry]) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[entry["name"] for entry in entries]).delete()
