"""A real worker and beat, on Redis and PostgreSQL: what the pages queue is done by the worker,
what beat schedules is sent on time, and a worker killed in the middle of a reconciliation
leaves nothing behind: the next worker does the run again with the same result as a run that
was never disturbed, nothing duplicated and nothing lost."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from collection.models import ProxyBatch, ProxyGeneration
from collection.services.proxy import proxy_generation_queue
from conftest import make_user
from enrollment.models import Resident
from enrollment.services.jobs import import_job_create
from enrollment.tests.test_services_registry import new_number, registry_file
from pension.models import ExportJob, ImportJob, Region, User
from pension.tests.worker.conftest import wait_for
from reconciliation.models import Discrepancy, ReconciliationRun
from reconciliation.services.reconcile import reconcile_month_queue

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

COUNTY = "530927"


def seeded_county(residents: int) -> tuple[Region, User, ReconciliationRun]:
    """The demo's county, with a month of statements reconciled in this process: the result
    of a run nobody disturbed."""
    call_command("seed_demo", residents=residents, stdout=io.StringIO())
    county = Region.objects.get(code=COUNTY)
    user = make_user("worker_county", User.Role.COUNTY, county)
    return county, user, ReconciliationRun.objects.get(county=county, is_current=True)


def finished(model, pk: int, *, seconds: float = 60):
    def done():
        row = model.objects.get(pk=pk)
        return row if row.status in ("done", "failed") else None

    return wait_for(done, seconds=seconds, what=f"{model.__name__} {pk} finished")


def the_result(run: ReconciliationRun) -> dict:
    """What a run found, without its own number."""
    return {key: value for key, value in run.summary.items() if key != "run"}


def reconciling_mid_transaction() -> bool:
    """A worker's reconciliation is under way: its transaction holds the county and has
    written, uncommitted, to its working tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def test_an_import_a_proxy_batch_and_a_reconciliation_are_done_by_the_worker(start_worker):
    county, user, undisturbed = seeded_county(6_000)
    village = Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE).first()
    start_worker()

    newcomer = new_number("19800101")
    upload = registry_file([[newcomer, "叶嘎", "男", village.code, "0007", "正常"]])
    job = import_job_create(
        kind=ImportJob.Kind.REGISTRY, region=village.parent, actor=user,
        upload=SimpleUploadedFile("registry.csv", upload.getvalue()),
        params={"as_of": "2023-03-31"},
    )  # fmt: skip
    generation = proxy_generation_queue(county=county, year=2023, actor=user)
    run = reconcile_month_queue(county=county, month=undisturbed.month, actor=user)

    job = finished(ImportJob, job.pk)
    assert (job.status, job.summary["new"]) == ("done", 1)
    assert Resident.objects.get(id_number=newcomer).village == village
    generation = finished(ProxyGeneration, generation.pk)
    batch = ProxyBatch.objects.get(county=county, year=2023)
    assert generation.status == "done" and generation.batch == batch
    assert generation.summary["added"] == batch.resident_count > 0
    run = finished(ReconciliationRun, run.pk)
    assert (run.status, run.is_current, the_result(run)) == ("done", True, the_result(undisturbed))


def test_a_worker_killed_in_the_middle_of_a_reconciliation_is_replaced_with_no_harm_done(
    start_worker,
):
    county, user, undisturbed = seeded_county(30_000)
    cases = Discrepancy.objects.count()
    first = start_worker()

    run = reconcile_month_queue(county=county, month=undisturbed.month, actor=user)
    wait_for(reconciling_mid_transaction, seconds=60, what="the reconciliation under way")
    first.kill()

    run.refresh_from_db()
    assert (run.status, run.is_current) == ("running", False)  # nothing of it was kept
    assert ReconciliationRun.objects.get(county=county, is_current=True) == undisturbed
    assert Discrepancy.objects.count() == cases

    start_worker()  # the broker hands the unfinished task to the new worker

    run = finished(ReconciliationRun, run.pk)
    assert (run.status, run.is_current, the_result(run)) == ("done", True, the_result(undisturbed))
    assert ReconciliationRun.objects.filter(county=county).count() == 2  # no run added
    assert Discrepancy.objects.count() == cases  # open cases carried over, none duplicated


def test_the_health_check_answers_200_once_a_worker_serves_every_queue(start_worker, client):
    start_worker()

    response = client.get("/health/?format=json")

    assert response.status_code == 200, response.content
    assert set(response.json().values()) == {"OK"}
    assert len(response.json()) == 4  # database, cache, broker, workers


def test_beat_sends_the_schedule_to_the_worker(start_worker, start_beat, township_user):
    PeriodicTask.objects.update(enabled=False)  # the shipped entries are not this test's
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="测试：删除过期导出文件", task="pension.tasks.expire_export_files",
        interval=every_second,
    )  # fmt: skip
    old = ExportJob.objects.create(
        kind="residents", title="参保人名单", created_by=township_user,
        status=ExportJob.Status.DONE, rows=2, filename="参保人名单.xlsx",
        finished_at=timezone.now() - datetime.timedelta(days=30),
    )  # fmt: skip
    old.file.save("参保人名单.xlsx", ContentFile(b"workbook"))
    start_worker()
    start_beat()

    wait_for(
        lambda: ExportJob.objects.get(pk=old.pk).file == "",
        seconds=60,
        what="the scheduled expiry done by the worker",
    )
