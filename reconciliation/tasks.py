"""Celery tasks of reconciliation: thin, idempotent wrappers around the services, safe to run
twice. Their periodic entries are in the admin (django-celery-beat)."""

from __future__ import annotations

import logging

from celery import shared_task

from pension.jobs import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)


@shared_task
def run_statement_job(job_id: int) -> str:
    """An uploaded statement's import; a retry of a finished or running job does nothing."""
    from reconciliation.services.statements import statement_job_run

    return statement_job_run(job_id=job_id).status


@shared_task
def reconcile_last_month() -> int:
    """Monthly: reconcile last month for every county that has a statement of it; returns the
    runs finished. Running it twice adds a run per county with the same result (the month's
    current result is replaced and its cases are not duplicated)."""
    from django.utils import timezone

    from pension.models import Region
    from reconciliation.models import Statement
    from reconciliation.services.reconcile import reconcile_month

    month = (timezone.localdate().replace(day=1) - timezone.timedelta(days=1)).replace(day=1)
    counties = Region.objects.filter(
        level=Region.Level.COUNTY,
        code__in=Statement.objects.filter(month=month).values("county_id"),
    ).order_by("code")
    done = 0
    for county in counties:
        try:
            reconcile_month(county=county, month=month)
        except TRANSIENT_ERRORS:
            raise  # the whole task is tried again: the database or broker is away
        except Exception:
            # One county's failure (kept on its failed run) must not hold up the others.
            logger.exception("reconciliation of %s %s failed", county.code, f"{month:%Y-%m}")
            continue
        done += 1
    return done


@shared_task
def run_reconciliation(run_id: int) -> str:
    """A reconciliation asked for from the page: done once, again if its worker died."""
    from reconciliation.services.reconcile import reconcile_run_queued

    return reconcile_run_queued(run_id=run_id)
