"""Celery entry points of enrollment: thin, idempotent, safe to retry."""

from celery import shared_task


@shared_task
def run_import_job(job_id: int) -> str:
    from enrollment.services.jobs import import_job_run

    return import_job_run(job_id=job_id).status


@shared_task
def scan_benefits_due() -> int:
    """Monthly: every county's residents who reached the pension and are not paid it."""
    from enrollment.services.benefits import benefits_due_scan
    from pension.models import Region

    return sum(
        benefits_due_scan(region=county)
        for county in Region.objects.filter(level=Region.Level.COUNTY)
    )


@shared_task
def collect_inbox() -> int:
    """Daily: compare every registry export and department list delivered to the inbox."""
    from enrollment.services.inbox import inbox_collect

    return len(inbox_collect())
