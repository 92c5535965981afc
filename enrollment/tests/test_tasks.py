"""The scheduled enrollment work: inbox comparisons, overdue checks, the schedule itself."""

import datetime

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from enrollment.models import Resident
from enrollment.selectors import overdue_comparisons
from enrollment.tasks import collect_inbox
from enrollment.tests.factories import make_id_number
from pension.models import ImportJob


def drop(inbox, region, kind, name, rows):
    folder = inbox / region / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_files_in_the_inbox_are_compared_once_even_when_the_task_runs_twice(
    settings, tmp_path, village
):
    settings.IMPORT_INBOX = tmp_path / "inbox"
    person = make_id_number("530927", datetime.date(1980, 1, 1))
    drop(settings.IMPORT_INBOX, "530927", "registry", "2023-03-31 户籍.csv",
         ["公民身份号码,姓名,区划代码", f"{person},叶嘎,{village.code}"])  # fmt: skip
    drop(settings.IMPORT_INBOX, "530927", "dibao", "2023年4月15日 低保.csv",
         ["公民身份号码,姓名", f"{person},叶嘎"])  # fmt: skip
    drop(settings.IMPORT_INBOX, "530927", "registry", "说明.txt", ["no date"])
    assert collect_inbox.delay().get() == 2
    assert collect_inbox.delay().get() == 0
    jobs = ImportJob.objects.order_by("params__as_of")
    assert [job.status for job in jobs] == ["done", "done"]
    registry = ImportJob.objects.get(kind="registry")
    assert registry.params == {"as_of": "2023-03-31"} and registry.summary["new"] == 1
    assert Resident.objects.get(id_number=person).memberships.get().category == "dibao"


def test_comparisons_are_overdue_after_a_quarter_or_a_month(township, county):
    today = datetime.date(2023, 6, 30)
    assert {o["key"] for o in overdue_comparisons(region=township, on=today)} >= {
        "registry", "dibao"
    }  # fmt: skip
    finished = timezone.make_aware(datetime.datetime(2023, 4, 1, 10))
    ImportJob.objects.create(
        kind="registry", region=county, filename="r.csv", status="done", finished_at=finished
    )
    ImportJob.objects.create(
        kind="department", region=township, filename="d.csv", status="done",
        params={"category": "dibao"}, finished_at=finished,
    )  # fmt: skip
    keys = {o["key"] for o in overdue_comparisons(region=township, on=today)}
    assert "registry" not in keys  # 90 days: within the quarter
    assert "dibao" in keys  # 90 days: a month overdue
    assert "registry" in {
        o["key"] for o in overdue_comparisons(region=township, on=datetime.date(2023, 7, 3))
    }


def test_the_schedule_ships_the_daily_inbox_and_monthly_benefit_entries(db):
    tasks = dict(PeriodicTask.objects.values_list("task", "crontab__day_of_month"))
    assert tasks["enrollment.tasks.collect_inbox"] == "*"
    assert tasks["enrollment.tasks.scan_benefits_due"] == "1"
