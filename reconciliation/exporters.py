"""Workbooks of reconciliation: the month table and the discrepancy worklist.

Each sheet's content comes from one row generator yielding plain Python values (the page and
the tests read the same rows); `write_workbook` streams them in write-only mode.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from pension.exporters import write_workbook
from reconciliation.models import Discrepancy
from reconciliation.selectors import MonthRow, MonthTable

# The headers of the workbooks this module writes (no importer reads them back): text, in the
# language of the person who exports.
MONTH_HEADER = [
    _("乡镇"), _("税务笔数"), _("税务金额(元)"), _("银行笔数"), _("银行金额(元)"), _("系统笔数"),
    _("系统金额(元)"), _("三方一致笔数"), _("差异笔数"), _("银行与税务差额(元)"),
    _("系统与税务差额(元)"), _("是否一致"),
]  # fmt: skip

DISCREPANCY_HEADER = [
    _("所属月份"), _("差异类型"), _("乡镇"), _("村(社区)"), _("电子税票号码"), _("姓名"),
    _("证件号码"), _("缴费年度"), _("税务金额(元)"), _("银行金额(元)"), _("系统金额(元)"),
    _("说明"), _("状态"), _("处理方式"), _("处理说明"), _("处理人"), _("处理时间"), _("记录标识"),
]  # fmt: skip


def _month_values(row: MonthRow) -> list[object]:
    return [
        row.name, row.tax_count, row.tax_sum, row.bank_count, row.bank_sum, row.system_count,
        row.system_sum, row.matched, row.discrepancies, row.bank_gap, row.system_gap,
        gettext("一致") if row.agrees else gettext("不一致"),
    ]  # fmt: skip


def month_sheet_rows(*, table: MonthTable) -> Iterator[list[object]]:
    """One line per township the user sees, then their total."""
    for row in table.rows:
        yield _month_values(row)
    yield _month_values(table.total)


def month_sheet_title(table: MonthTable) -> str:
    run = table.run
    values = {
        "county": table.county.name,
        "year": f"{table.month:%Y}",
        "month": f"{table.month:%m}",
    }
    if run is None:
        return gettext("%(county)s%(year)s年%(month)s月城乡居民养老保险征缴对账表") % values
    return gettext(
        "%(county)s%(year)s年%(month)s月城乡居民养老保险征缴对账表（第 %(run)s 次对账，%(time)s）"
    ) % {**values, "run": run.pk, "time": f"{timezone.localtime(run.started_at):%Y-%m-%d %H:%M}"}


def month_workbook(*, table: MonthTable) -> bytes:
    return write_workbook(
        title=month_sheet_title(table),
        header=[str(label) for label in MONTH_HEADER],
        rows=month_sheet_rows(table=table),
        sheet=gettext("%(month)s对账") % {"month": f"{table.month:%Y-%m}"},
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
        title=gettext("对账差异清单（%(date)s 导出）")
        % {"date": f"{timezone.localdate():%Y-%m-%d}"},
        header=[str(label) for label in DISCREPANCY_HEADER],
        rows=discrepancy_rows(discrepancies),
        sheet=pgettext("plural", "对账差异"),
    )
