"""The revisit sheet (回访表) of a sample as a workbook, to print and take on the visit.

The content is ``collection.services.revisits.revisit_sheet_rows``, the same rows the sample's
page shows; this module only renders them, streamed with openpyxl's write-only mode. ID numbers
are masked: the sheet leaves the office.

The four visit columns (回访结果, 回访说明/备注, 回访人, 回访日期) are filled from what is on
file and left blank for a payer not yet visited. A sheet downloaded before the visit is thus a
blank form to write on, and one downloaded afterwards is the record of the sample to file with
it, with no second export to keep in step. 回访人 and 回访日期 are who entered the outcome and
on which day: only the county bureau and the tax bureau, the people who make the visits, may
enter one (``revisit_refusal``).
"""

from __future__ import annotations

import os
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from collection.models import RevisitSample
from collection.services.revisits import RevisitSheetRow, revisit_sheet_rows
from pension.exporters import safe_cell

MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
COLUMN_WIDTHS = (6, 12, 14, 10, 10, 21, 16, 10, 16, 11, 10, 12, 28, 10, 11)


def revisit_sheet_header() -> list[str]:
    return [
        _("序号"),
        _("乡镇"),
        _("村(社区)"),
        _("村民小组"),
        _("姓名"),
        _("公民身份号码"),
        _("缴费档次"),
        _("金额(元)"),
        _("缴费渠道"),
        _("缴费日期"),
        _("代收协办员"),
        _("回访结果"),
        _("回访说明/备注"),
        _("回访人"),
        _("回访日期"),
    ]


def revisit_sheet_title(sample: RevisitSample) -> str:
    return _(
        "%(county)s城乡居民基本养老保险缴费回访表（抽样 #%(pk)s，缴费期间 %(start)s 至 %(end)s）"
    ) % {
        "county": sample.county.name,
        "pk": sample.pk,
        "start": f"{sample.period_start:%Y-%m-%d}",
        "end": f"{sample.period_end:%Y-%m-%d}",
    }


def _visit_cells(sheet, row: RevisitSheetRow) -> list[object]:
    """回访结果, 回访说明/备注, 回访人, 回访日期: blank until an outcome is on file."""
    if row.pending:
        return [None, None, None, None]
    recorded_on = timezone.localdate(row.recorded_at) if row.recorded_at else None
    return [
        safe_cell(row.outcome_label),
        safe_cell(row.note),
        safe_cell(row.recorded_by),
        _formatted(sheet, recorded_on, DATE_FORMAT),
    ]


def write_revisit_sheet(*, sample: RevisitSample, out: str | os.PathLike | IO[bytes]) -> int:
    """Write the sample's sheet to ``out``; returns the number of payers listed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("回访表"))
    for position, width in enumerate(COLUMN_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.append([_bold(sheet, revisit_sheet_title(sample))])
    sheet.append([_bold(sheet, label) for label in revisit_sheet_header()])
    rows = revisit_sheet_rows(sample=sample)
    for number, row in enumerate(rows, start=1):
        sheet.append(
            [
                number,
                *(safe_cell(value) for value in (row.township, row.village, row.group, row.name)),
                row.masked_id,
                safe_cell(row.tier),
                _formatted(sheet, row.amount, MONEY_FORMAT),
                safe_cell(row.channel),
                _formatted(sheet, row.paid_on, DATE_FORMAT),
                safe_cell(row.agent),
                *_visit_cells(sheet, row),
            ]
        )
    workbook.save(out)
    return len(rows)


def _formatted(sheet, value: object, number_format: str) -> WriteOnlyCell | None:
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def _bold(sheet, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, safe_cell(value))
    cell.font = Font(bold=True)
    return cell
