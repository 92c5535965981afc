"""The attachments of the county's campaign notice: 参保任务数 (each township's target) and
征缴情况表 (each township's paid residents against the milestone in force).

``target_sheet_rows`` and ``progress_sheet_rows`` yield plain Python values and are the single
source of each sheet's content; the writers only render them, streamed with openpyxl's
write-only mode. For a township the same sheets list its villages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from collection.services.progress import ProgressReport, ProgressUnit, target_lines
from pension.exporters import safe_cell
from pension.models import Region

TOTAL = "合计"
PROGRESS_COLUMNS = ("任务数", "已缴人数", "完成率(%)", "当前节点目标", "差额")
# The headings of the first column and of the 参保任务数 column: a target sheet is read back by
# collection.services.progress.targets_import, so they are data, not text.
TOWNSHIP_HEADING = "乡镇"
VILLAGE_HEADING = "村(社区)"
COUNT_HEADING = "任务数"


def unit_label(region: Region) -> str:
    """The first column's heading: a county's sheet lists townships, a township's villages."""
    return TOWNSHIP_HEADING if region.level == Region.Level.COUNTY else VILLAGE_HEADING


def target_sheet_rows(*, region: Region, year: int) -> Iterator[tuple[str, int | None]]:
    """(unit name, 任务数) for every township of a county (or village of a township), then the
    total; a unit without a target of its own lists its villages' targets added up, or nothing."""
    total = 0
    for line in target_lines(region=region, year=year):
        total += line.count or 0
        yield line.name, line.count
    yield TOTAL, total


def write_target_sheet(*, region: Region, year: int, out: str | os.PathLike | IO[bytes]) -> int:
    """Write the 参保任务数 sheet to ``out``; returns the number of units listed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("参保任务数"))
    title = _("%(region)s%(year)s年度城乡居民基本养老保险参保任务数") % {
        "region": region.name,
        "year": year,
    }
    sheet.append([_bold(sheet, title)])
    sheet.append([_bold(sheet, label) for label in (unit_label(region), COUNT_HEADING)])
    units = _append_with_total(sheet, target_sheet_rows(region=region, year=year))
    workbook.save(out)
    return units


def _progress_values(
    name: str, unit: ProgressUnit
) -> tuple[str, int, int, Decimal | None, str, int]:
    return name, unit.expected, unit.paid, unit.rate, unit.goal_text, unit.gap


def progress_sheet_rows(
    *, report: ProgressReport
) -> Iterator[tuple[str, int, int, Decimal | None, str, int]]:
    """(unit, 任务数, 已缴人数, 完成率, 当前节点目标, 差额) per unit, in the report's order (a
    county's townships ranked best first), then the total."""
    for unit in report.units:
        yield _progress_values(unit.name, unit)
    yield _progress_values(TOTAL, report.total)


def progress_sheet_title(report: ProgressReport) -> str:
    day = report.snapshot_day or report.day
    return _(
        "%(region)s%(year)s年度城乡居民基本养老保险征缴情况表（截至%(y)s年%(m)s月%(d)s日）"
    ) % {
        "region": report.region.name,
        "year": report.year,
        "y": day.year,
        "m": day.month,
        "d": day.day,
    }


def write_progress_sheet(*, report: ProgressReport, out: str | os.PathLike | IO[bytes]) -> int:
    """Write the 征缴情况表 to ``out``; returns the number of units listed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("征缴情况表"))
    sheet.append([_bold(sheet, progress_sheet_title(report))])
    sheet.append([_bold(sheet, label) for label in (unit_label(report.region), *PROGRESS_COLUMNS)])
    units = _append_with_total(sheet, progress_sheet_rows(report=report))
    workbook.save(out)
    return units


def _append_with_total(sheet, rows: Iterator[tuple]) -> int:
    """Append the rows, the last one (the total) in bold; returns the rows before the total."""
    count, previous = 0, None
    for row in rows:
        if previous is not None:
            sheet.append([safe_cell(value) for value in previous])
            count += 1
        previous = row
    if previous is not None:
        sheet.append([_bold(sheet, value) for value in previous])
    return count


def _bold(sheet, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, safe_cell(value))
    cell.font = Font(bold=True)
    return cell
