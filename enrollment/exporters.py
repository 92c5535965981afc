"""Workbooks of enrollment lists, written from one row generator in write-only mode."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from enrollment.models import Finding
from pension.exporters import write_workbook

FINDING_HEADER = [
    "疑点类型", "状态", "姓名", "公民身份号码", "乡镇", "村(社区)", "情况说明", "来源",
    "发现时间", "处理意见", "处理人", "处理时间",
]  # fmt: skip


def finding_rows(findings: QuerySet[Finding]) -> Iterator[list]:
    local = timezone.localtime
    for f in findings.select_related("region__parent", "resolved_by").iterator(chunk_size=2000):
        township = f.region.parent.name if f.region.level == "village" else ""
        yield [
            f.get_kind_display(), f.get_status_display(), f.name, f.id_number, township,
            f.region.name, f.detail, f.source, local(f.created_at).strftime("%Y-%m-%d %H:%M"),
            f.resolution_note, f.resolved_by.display_name if f.resolved_by else "",
            local(f.resolved_at).strftime("%Y-%m-%d %H:%M") if f.resolved_at else "",
        ]  # fmt: skip


def findings_workbook(*, findings: QuerySet[Finding]) -> bytes:
    return write_workbook(
        title=f"疑点清单（{timezone.localdate():%Y-%m-%d} 导出）",
        header=FINDING_HEADER,
        rows=finding_rows(findings),
        sheet="疑点清单",
    )
