"""Running an import end to end: read the file, compare, record the job.

The upload page, the commands and the Celery task all come through here, so a file imported
from the command line and one uploaded in the browser are treated alike.
"""

from __future__ import annotations

import datetime
import hashlib

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.importers import read_department_list, read_registry
from enrollment.services.departments import ALL_CATEGORIES, CATEGORY_LABELS, department_compare
from enrollment.services.imports import (
    ImportOutcome,
    job_claim,
    job_fail,
    job_finish,
    job_progress,
)
from enrollment.services.registry import registry_compare
from pension.jobs import is_transient, lease
from pension.models import ImportJob, Region, User
from pension.spreadsheets import SpreadsheetError


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why in Chinese."""


def _check_region(region: Region, actor: User | None) -> Region:
    """Comparisons run for a whole county, or for one township by its own staff."""
    if region.level not in (Region.Level.COUNTY, Region.Level.TOWNSHIP):
        raise ImportRefused(
            _("%(region)s 不是县或乡镇，比对以县或乡镇为单位进行") % {"region": region.name}
        )
    if actor is not None and not actor.can_manage_residents:
        raise ImportRefused(_("您的岗位无权导入名单"))
    if actor is not None and not actor.can_see_region(region.code):
        raise ImportRefused(_("%(region)s 不在您的辖区内") % {"region": region.name})
    return region


def registry_import(
    *,
    source,
    region: Region,
    as_of: datetime.date,
    filename: str | None = None,
    actor: User | None = None,
    dry_run: bool = False,
    strict: bool = False,
    job: ImportJob | None = None,
) -> ImportOutcome:
    """Read and compare one police registry export (DESIGN §6 rule 12)."""
    _check_region(region, actor)
    if as_of > timezone.localdate():
        raise ImportRefused(_("比对日期 %(date)s 晚于今天") % {"date": f"{as_of:%Y-%m-%d}"})
    try:
        outcome, rows = read_registry(source, region=region, as_of=as_of, filename=filename)
        return registry_compare(
            region=region, as_of=as_of, rows=rows, outcome=outcome, actor=actor,
            dry_run=dry_run, strict=strict, job=job,
        )  # fmt: skip
    except SpreadsheetError as exc:
        raise ImportRefused(exc.message) from None


def department_import(
    *,
    source,
    region: Region,
    category: str,
    list_date: datetime.date,
    filename: str | None = None,
    actor: User | None = None,
    dry_run: bool = False,
    strict: bool = False,
    job: ImportJob | None = None,
) -> ImportOutcome:
    """Read and compare one department list (DESIGN §6 rules 3 and 12)."""
    _check_region(region, actor)
    if category not in ALL_CATEGORIES:
        raise ImportRefused(_("未知的名单类别：%(category)s") % {"category": category})
    if list_date > timezone.localdate():
        raise ImportRefused(_("名单日期 %(date)s 晚于今天") % {"date": f"{list_date:%Y-%m-%d}"})
    job_progress(job, progress=5, stage=_("读取文件"))
    try:
        rows, outcome = read_department_list(
            source, region=region, category=category, list_date=list_date, filename=filename
        )
    except SpreadsheetError as exc:
        raise ImportRefused(exc.message) from None
    return department_compare(
        region=region, category=category, list_date=list_date, rows=rows, outcome=outcome,
        actor=actor, dry_run=dry_run, strict=strict, job=job,
    )  # fmt: skip


def import_job_create(
    *,
    kind: str,
    region: Region,
    upload: UploadedFile,
    params: dict,
    actor: User | None,
    dry_run: bool = False,
) -> ImportJob:
    """Keep an uploaded file and queue its import; the task runs it after the commit."""
    from enrollment.tasks import run_import_job

    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            region=region,
            filename=upload.name[:255],
            file=upload,
            sha256=digest.hexdigest(),
            params=params,
            dry_run=dry_run,
            created_by=actor,
        )
        transaction.on_commit(lambda: run_import_job.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued job once. A delivery of a job another worker is running, or of a finished
    one, does nothing; a job left half-done by a worker that died is run again."""
    with lease("import", job_id) as held:
        if not held:
            return ImportJob.objects.get(pk=job_id)
        job, claimed = job_claim(job_id=job_id)
        if not claimed:
            return job
        try:
            with job.file.open("rb") as handle:
                outcome = _run(job, handle)
        except ImportRefused as exc:
            job_fail(job=job, message=str(exc))
        except Exception as exc:
            if not is_transient(exc):  # a transient error leaves the job to the task's retry
                job_fail(
                    job=job,
                    message=_("导入时发生系统错误：%(error)s") % {"error": type(exc).__name__},
                )
            raise
        else:
            job_finish(job=job, outcome=outcome)
    job.refresh_from_db()
    return job


def _run(job: ImportJob, handle) -> ImportOutcome:
    params = job.params or {}
    common = {
        "source": handle,
        "region": job.region,
        "filename": job.filename,
        "actor": job.created_by,
        "dry_run": job.dry_run,
        "strict": bool(params.get("strict")),
        "job": job,
    }
    if job.kind == ImportJob.Kind.REGISTRY:
        return registry_import(as_of=datetime.date.fromisoformat(params["as_of"]), **common)
    if job.kind == ImportJob.Kind.DEPARTMENT:
        return department_import(
            category=params["category"],
            list_date=datetime.date.fromisoformat(params["list_date"]),
            **common,
        )
    raise ImportRefused(_("不支持的导入类型：%(kind)s") % {"kind": job.kind})


__all__ = ["CATEGORY_LABELS", "ImportRefused", "department_import", "registry_import"]
