"""Workbooks of reconciliation: the month table and the discrepancy worklist.

Each sheet's content comes from one row generator yielding plain Python values (the page and
the tests read the same rows); `write_workbook` streams them in write-only mode.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from pension.exporters import write_workbook
from reconciliation.models import Discrepancy
from reconciliation.selectors import MonthRow, MonthTable

MONTH_HEADER = [
    "乡镇", "税务笔数", "税务金额(元)", "银行笔数", "银行金额(元)", "系统笔数", "系统金额(元)",
    "三方一致笔数", "差异笔数", "银行与税务差额(元)", "系统与税务差额(元)", "是否一致",
]  # fmt: skip

DISCREPANCY_HEADER = [
    "所属月份", "差异类型", "乡镇", "村(社区)", "电子税票号码", "姓名", "证件号码", "缴费年度",
    "税务金额(元)", "银行金额(元)", "系统金额(元)", "说明", "状态", "处理方式", "处理说明",
    "处理人", "处理时间", "记录标识",
]  # fmt: skip


def _month_values(row: MonthRow) -> list[object]:
    return [
        row.name, row.tax_count, row.tax_sum, row.bank_count, row.bank_sum, row.system_count,
        row.system_sum, row.matched, row.discrepancies, row.bank_gap, row.system_gap,
        "一致" if row.agrees else "不一致",
    ]  # fmt: skip


def month_sheet_rows(*, table: MonthTable) -> Iterator[list[object]]:
    """One line per township the user sees, then their total."""
    for row in table.rows:
        yield _month_values(row)
    yield _month_values(table.total)


def month_sheet_title(table: MonthTable) -> str:
    run = table.run
    when = (
        f"（第 {run.pk} 次对账，{timezone.localtime(run.started_at):%Y-%m-%d %H:%M}）"
        if run
        else ""
    )
    return f"{table.county.name}{table.month:%Y年%m月}城乡居民养老保险征缴对账表{when}"


def month_workbook(*, table: MonthTable) -> bytes:
    return write_workbook(
        title=month_sheet_title(table),
        header=MONTH_HEADER,
        rows=month_sheet_rows(table=table),
        sheet=f"{table.month:%Y-%m}对账",
    )


def discrepancy_rows(discrepancies: QuerySet[Discrepancy]) -> Iterator[list[object]]:
    """The worklist's rows; `discrepancies` comes from `selectors.discrepancy_list`, which
    carries the region names, so the whole export is one query read in chunks."""
    local = timezone.localtime
    for d in discrepancies.iterator(chunk_size=2000):
        village = d.region_name if len(d.region_code) >= 12 else ""
        yield [
            f"{d.month:%Y-%m}", d.get_category_display(), d.township_name or "", village,
            d.voucher_no, d.name, d.id_number, d.contribution_year, d.tax_amount, d.bank_amount,
            d.system_amount, d.detail, d.get_status_display(), d.get_resolution_display(),
            d.resolution_note, d.resolved_by.display_name if d.resolved_by else "",
            local(d.resolved_at).strftime("%Y-%m-%d %H:%M") if d.resolved_at else "",
            d.record_key,
        ]  # fmt: skip


def discrepancies_workbook(*, discrepancies: QuerySet[Discrepancy]) -> bytes:
    return write_workbook(
        title=f"对账差异清单（{timezone.localdate():%Y-%m-%d} 导出）",
        header=DISCREPANCY_HEADER,
        rows=discrepancy_rows(discrepancies),
        sheet="对账差异",
    )
