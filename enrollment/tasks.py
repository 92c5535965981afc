"""Celery entry points of enrollment: thin, idempotent, safe to retry."""

from celery import shared_task


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    from enrollment.services.jobs import import_job_run

    return import_job_run(job_id=job_id).status
