"""The scheduled reconciliation and the statement job task."""

import datetime

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from reconciliation.models import ReconciliationRun, Statement
from reconciliation.tasks import reconcile_last_month


def last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def statement(county, month):
    return Statement.objects.create(
        source="tax", county=county, month=month, filename="t.csv", sha256=f"{month}{county.pk}"
    )


def test_the_monthly_task_reconciles_last_month_of_each_county_with_a_statement(
    county, other_county
):
    month = last_month()
    statement(county, month)
    statement(other_county, month.replace(year=month.year - 1))  # not last month
    assert reconcile_last_month.delay().get() == 1
    run = ReconciliationRun.objects.get()
    assert (run.county, run.month, run.status, run.run_by) == (county, month, "done", None)
    # Twice is harmless: the month's result is replaced, history kept.
    assert reconcile_last_month.delay().get() == 1
    assert ReconciliationRun.objects.filter(is_current=True).count() == 1


def test_one_county_failing_does_not_stop_the_others(county, other_county, monkeypatch):
    from reconciliation.services import reconcile

    month = last_month()
    statement(county, month)
    statement(other_county, month)
    real = reconcile._reconcile

    def failing_for_cangyuan(*, run, county, month):
        if county.code == "530927":
            raise RuntimeError("连接中断")
        return real(run=run, county=county, month=month)

    monkeypatch.setattr(reconcile, "_reconcile", failing_for_cangyuan)
    assert reconcile_last_month.delay().get() == 1
    statuses = dict(ReconciliationRun.objects.values_list("county_id", "status"))
    assert statuses == {"530927": "failed", "622901": "done"}


def test_the_schedule_ships_the_monthly_reconciliation(db):
    task = PeriodicTask.objects.get(task="reconciliation.tasks.reconcile_last_month")
    assert (task.crontab.day_of_month, task.crontab.hour, task.enabled) == ("10", "2", True)
    assert str(task.crontab.timezone) == "Asia/Shanghai"


def test_every_scheduled_reconciliation_task_exists_under_its_name():
    from celery import current_app

    import reconciliation.tasks  # noqa: F401  (registers the tasks)

    assert {"reconciliation.tasks.reconcile_last_month",
            "reconciliation.tasks.run_statement_job"} <= set(current_app.tasks)  # fmt: skip
