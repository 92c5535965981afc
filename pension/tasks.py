"""The kernel's tasks: thin wrappers that call a service with ids, safe to retry."""

from __future__ import annotations

from celery import shared_task


@shared_task
def run_export_job(job_id: int) -> int:
    from pension.exports import export_job_run

    return export_job_run(job_id=job_id).rows


@shared_task
def expire_export_files() -> int:
    from pension.exports import export_files_expire

    return export_files_expire()
