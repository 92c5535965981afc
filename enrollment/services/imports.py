"""What every import shares: rejected rows, the half-the-rows rule, the job record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from pension.models import ImportJob, ImportRejection


@dataclass(frozen=True)
class Rejection:
    """One rejected row: its number as the spreadsheet shows it, the column and the reason."""

    row: int
    column: str
    reason: str
    value: str = ""

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        return f"第{self.row}行 〈{self.column}〉: {self.reason}"


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
        }


def refusal_reason(*, rows: int, rejected: int, strict: bool) -> str:
    """Why nothing may be written, or "" when the valid rows may be applied (DESIGN §4)."""
    if rows == 0:
        return "文件中没有数据行，未写入任何数据"
    if strict and rejected:
        return f"已选择“全部正确才导入”，共有 {rejected} 行错误，未写入任何数据"
    if rejected * 2 > rows:
        return f"错误行超过一半（{rejected}/{rows} 行），可能选错了文件或列，未写入任何数据"
    return ""


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
    """Progress is written outside the import's transaction so a page can poll it."""
    if job is None:
        return
    ImportJob.objects.filter(pk=job.pk).update(progress=progress, stage=stage)


def job_finish(*, job: ImportJob, outcome: ImportOutcome) -> None:
    with transaction.atomic():
        job_record_rejections(job=job, rejections=outcome.rejected)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE,
            progress=100,
            stage="完成",
            summary=outcome.as_dict(rejected_limit=200),
            finished_at=timezone.now(),
        )


def job_fail(*, job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, stage="失败", error=message, finished_at=timezone.now()
    )
