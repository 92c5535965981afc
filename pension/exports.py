"""Long lists exported by a worker: the page asks, a task writes the workbook while the job
page shows how far it got, and the requester fetches the file when it is ready.

Each app registers the lists it exports (its AppConfig.ready), naming for each the filter
definition its page uses, so that the file holds exactly the rows the page showed, within the
requester's region: the rows are chosen again when the task runs, from the requester's scope.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pension.exporters import write_workbook_to
from pension.jobs import is_transient, lease
from pension.models import ExportJob, User

logger = logging.getLogger(__name__)

PROGRESS_STEPS = 20  # the job row is updated every 5% of the rows


class ExportRefused(ValueError):
    """An export that cannot be queued; the message says why in Chinese."""


@dataclass(frozen=True)
class ExportKind:
    """A list that can be exported: its rows for a user and the page's query parameters."""

    key: str
    label: str
    header: Sequence[str]
    # (rows to come, the rows) for a requester and the filters of the page they were on.
    rows: Callable[[User, dict[str, str]], tuple[int, Iterator[Sequence[Any]]]]
    sheet: str = "Sheet1"


_kinds: dict[str, ExportKind] = {}


def register_export(kind: ExportKind) -> None:
    _kinds[kind.key] = kind


def export_kind(key: str) -> ExportKind:
    try:
        return _kinds[key]
    except KeyError:
        raise ExportRefused(_("未知的导出类型：%(kind)s") % {"kind": key}) from None


def export_job_create(*, kind: str, user: User, params: dict[str, str]) -> ExportJob:
    """Queue an export of the list `kind` as filtered by `params`; the task runs after the
    commit. Page and sort parameters are dropped: the file holds every row, in the page's
    order."""
    spec = export_kind(kind)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise ExportRefused(_("请先登录"))
    kept = {k: v for k, v in params.items() if k != "page" and isinstance(v, str)}
    from pension.tasks import run_export_job

    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=spec.key,
            # Translators: an export's title and file name: the list and when it was asked for.
            title=_("%(list)s（%(time)s）")
            % {"list": spec.label, "time": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
            params=kept,
            created_by=user,
        )
        transaction.on_commit(lambda: run_export_job.delay(job.pk))
    return job


def export_job_run(*, job_id: int) -> ExportJob:
    """Write the job's workbook once. A delivery of a job another worker is writing, or of a
    finished one, does nothing; a job left half-written by a worker that died is written again."""
    Status = ExportJob.Status
    with lease("export", job_id) as held:
        claimed = held and ExportJob.objects.filter(
            pk=job_id, status__in=[Status.PENDING, Status.RUNNING]
        ).update(status=Status.RUNNING, progress=0)
        job = ExportJob.objects.select_related("created_by").get(pk=job_id)
        if claimed:
            _export_write(job)
    job.refresh_from_db()
    return job


def _export_write(job: ExportJob) -> None:
    try:
        spec = export_kind(job.kind)
        total, rows = spec.rows(job.created_by, dict(job.params))
        written = 0
        step = max(total // PROGRESS_STEPS, 1000)

        def counted() -> Iterator[Sequence[Any]]:
            nonlocal written
            for row in rows:
                written += 1
                if written % step == 0 and total:
                    ExportJob.objects.filter(pk=job.pk).update(
                        progress=min(99, written * 100 // total)
                    )
                yield row

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.xlsx"
            write_workbook_to(
                path, title=job.title, header=spec.header, rows=counted(), sheet=spec.sheet
            )
            filename = f"{job.title}.xlsx"
            with path.open("rb") as handle:
                job.file.save(filename, File(handle), save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE,
            progress=100,
            rows=written,
            file=job.file.name,
            filename=filename,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        if is_transient(exc):  # left to the task's retry
            raise
        logger.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=_("导出时发生错误：%(error)s") % {"error": type(exc).__name__},
            finished_at=timezone.now(),
        )
        raise


def export_files_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the workbooks written more than EXPORT_RETENTION_DAYS ago; their jobs stay, with
    no file, as the record of who exported what and when. Safe to run again: a job whose file
    is gone is not looked at twice. Returns how many files were deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    expired = ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file="")
    names = list(expired.values_list("pk", "file"))
    storage = ExportJob._meta.get_field("file").storage
    for _pk, name in names:
        storage.delete(name)  # a file already gone is no error
    ExportJob.objects.filter(pk__in=[pk for pk, _name in names]).update(file="")
    if names:
        logger.info("deleted %s exported files older than %s", len(names), cutoff.date())
    return len(names)


__all__ = [
    "ExportKind",
    "ExportRefused",
    "export_files_expire",
    "export_job_create",
    "export_job_run",
    "export_kind",
    "register_export",
]
