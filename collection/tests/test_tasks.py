from django_celery_beat.models import PeriodicTask


def test_the_schedule_ships_the_campaign_entries_with_their_rhythm(db):
    entries = {
        task.task: (task.crontab.day_of_month, task.crontab.hour, task.enabled)
        for task in PeriodicTask.objects.filter(task__startswith="collection.tasks.")
    }
    assert entries == {
        "collection.tasks.generate_proxy_batches": ("1", "1", True),  # monthly: 动态清零
        "collection.tasks.snapshot_progress": ("*", "23", True),  # nightly, after the day's work
        "collection.tasks.check_cash_limits": ("*", "6", True),  # daily 双限
        "collection.tasks.schedule_notices": ("*", "6", True),  # daily notice due dates
        "collection.tasks.publish_weekly_bulletins": ("*", "7", True),  # Mondays (day of week 1)
    }


def test_every_scheduled_campaign_task_exists_under_its_name():
    from celery import current_app

    import collection.tasks  # noqa: F401  (registers the tasks)

    names = set(current_app.tasks)
    for task in (
        "collection.tasks.generate_proxy_batches",
        "collection.tasks.snapshot_progress",
        "collection.tasks.check_cash_limits",
        "collection.tasks.schedule_notices",
        "collection.tasks.publish_weekly_bulletins",
    ):
        assert task in names, task
