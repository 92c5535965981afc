"""Background jobs survive a dead worker and a database that was away for a moment: a job is
done once by whoever holds its lease, taken over when its worker died, and tried again (a
bounded number of times) after a transient error instead of being marked as failed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg2
import pytest
from celery import current_app
from django.conf import settings
from django.db import OperationalError, connection

from pension.celery import JobTask
from pension.jobs import lease
from reconciliation.models import ReconciliationRun
from reconciliation.services.reconcile import reconcile_run_queued
from reconciliation.tasks import run_reconciliation
from reconciliation.tests.factories_work import MAY

PROJECT_APPS = ("pension.", "enrollment.", "collection.", "reconciliation.")


@contextlib.contextmanager
def another_worker_holds(kind: str, pk: int) -> Iterator[None]:
    """The lease of a job taken by another worker: a second connection of its own."""
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    other.autocommit = True
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [kind, pk])
        yield
    finally:
        other.close()  # as when that worker dies: its connection, and the lease, are gone
        gone_within_seconds(2, kind, pk)


def gone_within_seconds(seconds: float, kind: str, pk: int) -> None:
    """The server ends a closed connection's session, and frees its locks, a moment later."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = hashtext(%s)::oid AND objid = %s",
                [kind, pk],
            )
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the lease outlived the connection that held it")


@pytest.fixture
def worker_retries():
    """Tasks retry as a worker would (the suite otherwise raises the first error at once)."""
    app = current_app
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


def queued_run(county, status=ReconciliationRun.Status.PENDING) -> ReconciliationRun:
    return ReconciliationRun.objects.create(county=county, month=MAY, status=status)


def project_tasks() -> dict:
    import collection.tasks  # noqa: F401  (registers the tasks)
    import enrollment.tasks  # noqa: F401
    import pension.tasks  # noqa: F401
    import reconciliation.tasks  # noqa: F401

    return {name: task for name, task in current_app.tasks.items() if name.startswith(PROJECT_APPS)}


def test_a_lease_is_refused_while_another_worker_holds_it_and_granted_once_that_one_is_gone(db):
    with another_worker_holds("reconciliation", 41), lease("reconciliation", 41) as held:
        assert not held
    with lease("reconciliation", 41) as held:
        assert held


def test_a_run_another_worker_is_doing_is_left_to_it(county):
    run = queued_run(county, status=ReconciliationRun.Status.RUNNING)

    with another_worker_holds("reconciliation", run.pk):
        assert reconcile_run_queued(run_id=run.pk) == "skipped"

    run.refresh_from_db()
    assert (run.status, run.is_current, run.summary) == ("running", False, {})


def test_a_run_left_running_by_a_worker_that_died_is_taken_over_and_done(county):
    run = queued_run(county, status=ReconciliationRun.Status.RUNNING)

    assert reconcile_run_queued(run_id=run.pk) == "done"

    run.refresh_from_db()
    assert (run.status, run.is_current) == ("done", True)


def test_a_finished_run_delivered_again_is_not_done_twice(county):
    run = queued_run(county)
    assert reconcile_run_queued(run_id=run.pk) == "done"
    finished_at = ReconciliationRun.objects.get(pk=run.pk).finished_at

    assert reconcile_run_queued(run_id=run.pk) == "skipped"
    assert ReconciliationRun.objects.get(pk=run.pk).finished_at == finished_at


def test_a_database_that_drops_once_is_retried_and_the_run_is_not_marked_failed(
    county, monkeypatch, worker_retries
):
    from reconciliation.services import reconcile

    real, calls = reconcile._reconcile, []

    def dropping_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(reconcile, "_reconcile", dropping_once)
    run = queued_run(county)

    assert run_reconciliation.delay(run.pk).get() == "done"

    run.refresh_from_db()
    assert (len(calls), run.status, run.is_current) == (2, "done", True)


def test_a_database_that_stays_away_ends_the_retries_and_leaves_the_run_to_be_taken_over(
    county, monkeypatch, worker_retries
):
    from reconciliation.services import reconcile

    calls = []

    def always_away(**kwargs):
        calls.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(reconcile, "_reconcile", always_away)
    run = queued_run(county)

    with pytest.raises(OperationalError):
        run_reconciliation.delay(run.pk).get()

    run.refresh_from_db()
    assert len(calls) == 1 + JobTask.max_retries
    assert (run.status, run.is_current) == ("running", False)


def test_an_error_that_is_not_transient_fails_the_run_at_once(county, monkeypatch, worker_retries):
    from reconciliation.services import reconcile

    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise ValueError("对账单格式错误")

    monkeypatch.setattr(reconcile, "_reconcile", broken)
    run = queued_run(county)

    with pytest.raises(ValueError):
        run_reconciliation.delay(run.pk).get()

    run.refresh_from_db()
    assert (len(calls), run.status) == (1, "failed")
    assert run.summary == {"error": "ValueError: 对账单格式错误"}


def test_every_task_is_acknowledged_late_and_retries_transient_errors_a_bounded_number_of_times():
    tasks = project_tasks()
    assert len(tasks) >= 14
    for name, task in tasks.items():
        assert isinstance(task, JobTask), name
        assert task.acks_late and task.reject_on_worker_lost, name
        assert OperationalError in task.autoretry_for, name
        assert 0 < task.max_retries <= 5, name


def test_every_task_goes_to_a_named_queue_a_worker_can_be_started_for():
    routes = settings.CELERY_TASK_ROUTES
    assert set(project_tasks()) == set(routes)
    assert {route["queue"] for route in routes.values()} == set(settings.TASK_QUEUES)


def test_the_monthly_reconciliation_closes_a_run_its_dead_worker_left_running(county):
    from reconciliation.services.reconcile import reconcile_month

    abandoned = queued_run(county, status=ReconciliationRun.Status.RUNNING)

    run = reconcile_month(county=county, month=MAY)

    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.is_current) == ("failed", False)
    assert "意外中止" in abandoned.summary["error"]
    assert (run.status, run.is_current) == ("done", True)


def test_the_monthly_reconciliation_leaves_a_run_another_worker_is_doing(county):
    from reconciliation.services.reconcile import reconcile_month

    busy = queued_run(county, status=ReconciliationRun.Status.RUNNING)

    with another_worker_holds("reconciliation", busy.pk):
        reconcile_month(county=county, month=MAY)

    busy.refresh_from_db()
    assert busy.status == "running"
