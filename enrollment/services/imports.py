"""What every import shares: rejected rows, the half-the-rows rule, the job record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pension.imports import Rejection, progress_note, refusal_reason
from pension.models import ImportJob, ImportRejection

__all__ = ["ImportOutcome", "Rejection", "refusal_reason"]

COUNT_LABELS = {
    "new": gettext_lazy("新增人员"),
    "turned_16": gettext_lazy("年满16周岁"),
    "deceased": gettext_lazy("死亡"),
    "moved_out": gettext_lazy("迁出"),
    "absent": gettext_lazy("在册无户籍"),
    "name_mismatch": gettext_lazy("姓名不符"),
    "moved_village": gettext_lazy("村间迁移"),
    "transfer_in": gettext_lazy("迁入（参保在外县）"),
    "conflicting_columns": gettext_lazy("性别/出生日期列不符"),
    "added": gettext_lazy("新增"),
    "removed": gettext_lazy("移出"),
    "unknown_person": gettext_lazy("名单人员未在册"),
    "now_qualifying": gettext_lazy("新符合代缴"),
    "no_longer_qualifying": gettext_lazy("不再符合代缴"),
    "skipped_grade": gettext_lazy("非一二级残疾（不计入）"),
}


@dataclass
class ImportOutcome:
    """The summary an import reports on a page, in `--json` and in its job record."""

    rows: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    applied: bool = True
    dry_run: bool = False
    refused_reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def refused(self, *, strict: bool) -> bool:
        """Apply the half-the-rows and strict rules; True when nothing may be written."""
        self.refused_reason = refusal_reason(
            rows=self.rows, rejected=len(self.rejected), strict=strict
        )
        self.applied = not self.refused_reason
        return not self.applied

    def as_dict(self, *, rejected_limit: int | None = None) -> dict:
        rejected = self.rejected if rejected_limit is None else self.rejected[:rejected_limit]
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": [r.as_dict() for r in rejected],
            "rejected_count": len(self.rejected),
            "applied": self.applied,
            "dry_run": self.dry_run,
            "refused_reason": self.refused_reason,
            **self.counts,
            # Text, not lazy strings: the summary is stored as JSON in the job record.
            "count_labels": {key: str(COUNT_LABELS.get(key, key)) for key in self.counts},
        }


def job_claim(*, job_id: int) -> tuple[ImportJob, bool]:
    """Take a job for running, holding its lease (`pension.jobs.lease`): (the job, True) when it
    is queued or was left running by a worker that died, (the job, False) when it is finished,
    and the delivery must then do nothing."""
    Status = ImportJob.Status
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[Status.PENDING, Status.RUNNING]
    ).update(status=Status.RUNNING, stage=_("开始处理"), progress=0)
    job = ImportJob.objects.select_related("region", "created_by").get(pk=job_id)
    return job, bool(claimed)


def job_record_rejections(*, job: ImportJob, rejections: Iterable[Rejection]) -> None:
    ImportRejection.objects.bulk_create(
        (
            ImportRejection(
                job=job, row=r.row, column=r.column[:40], reason=r.reason[:300], value=r.value[:100]
            )
            for r in rejections
        ),
        batch_size=5000,
    )


def job_progress(job: ImportJob | None, *, progress: int, stage: str) -> None:
    """Note how far an import has got, where the job page can see it at once.

    Inside the import's transaction the job row would only change at commit, so progress goes
    to the cache always and to the row only when no transaction is open.
    """
    if job is None:
        return
    progress_note(job.pk, progress=progress, stage=stage)
    if not transaction.get_connection().in_atomic_block:
        ImportJob.objects.filter(pk=job.pk).update(progress=progress, stage=stage)


def job_finish(*, job: ImportJob, outcome: ImportOutcome) -> None:
    with transaction.atomic():
        job_record_rejections(job=job, rejections=outcome.rejected)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE,
            progress=100,
            stage=_("完成"),
            summary=outcome.as_dict(rejected_limit=200),
            finished_at=timezone.now(),
        )


def job_fail(*, job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, stage=_("失败"), error=message, finished_at=timezone.now()
    )
