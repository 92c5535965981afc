"""Public notices as workbooks: one sheet per villager group, ready to print and post.

The rows come from ``collection.services.notices`` (``notice_rows``, ``notices_by_group``) and
already carry masked ID numbers only; nothing here reads a resident, so no full ID, phone or
category can slip in. The printable page renders the same ``GroupNotice.values()``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from collection.models import Notice
from collection.services.notices import NoticeRow, notice_due_on
from pension.exporters import safe_text, sheet_title

MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"

PAID_HEADER = ("序号", "村", "村民小组", "姓名", "公民身份号码", "缴费金额(元)", "缴费日期")
UNPAID_HEADER = ("序号", "村", "村民小组", "姓名", "公民身份号码")
COLUMN_WIDTHS = (6, 12, 10, 10, 21, 13, 12)


@dataclass(frozen=True)
class GroupNotice:
    """One group's notice as printed: where, what, when due, and its rows."""

    village: str
    group: str
    kind: str
    period: str
    due_on: datetime.date
    rows: list[NoticeRow]

    @property
    def kind_label(self) -> str:
        return str(Notice.Kind(self.kind).label)

    @property
    def title(self) -> str:
        return _("%(village)s%(group)s %(period)s%(kind)s") % {
            "village": self.village,
            "group": self.group,
            "period": self.period_label,
            "kind": self.kind_label,
        }

    @property
    def period_label(self) -> str:
        if self.kind == Notice.Kind.MONTHLY:
            year, month = self.period.split("-")
            return _("%(year)s年%(month)s月") % {"year": year, "month": int(month)}
        return _("%(year)s年度") % {"year": self.period}

    @property
    def header(self) -> tuple[str, ...]:
        return UNPAID_HEADER if self.kind == Notice.Kind.UNPAID else PAID_HEADER

    def values(self) -> Iterable[tuple]:
        for number, row in enumerate(self.rows, 1):
            line = (number, row.village, row.group, row.name, row.masked_id)
            if self.kind == Notice.Kind.UNPAID:
                yield line
            else:
                yield (*line, row.amount, row.paid_on)


def write_notices(*, notices: list[GroupNotice], out: str | os.PathLike | IO[bytes]) -> int:
    """Write the notices to ``out`` (a path or a binary file), one sheet each; returns rows."""
    if isinstance(out, (str, os.PathLike)):
        with open(out, "wb") as stream:
            return write_notices(notices=notices, out=stream)
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    written = 0
    for notice in notices:
        written += _write_sheet(workbook, notice, sheet_title(notice.group, taken))
    if not notices:
        workbook.create_sheet(_("公示"))
    workbook.save(out)
    return written


def _write_sheet(workbook: Workbook, notice: GroupNotice, title: str) -> int:
    sheet = workbook.create_sheet(title)
    width = len(notice.header)
    for position, column_width in enumerate(COLUMN_WIDTHS[:width], 1):
        sheet.column_dimensions[get_column_letter(position)].width = column_width
    sheet.print_title_rows = "1:3"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.merged_cells.add(f"A1:{get_column_letter(width)}1")
    sheet.merged_cells.add(f"A2:{get_column_letter(width)}2")
    heading = WriteOnlyCell(sheet, safe_text(notice.title))
    heading.font = Font(bold=True, size=14)
    heading.alignment = Alignment(horizontal="center")
    sheet.append([heading])
    due_on = notice.due_on
    sheet.append(
        [
            ngettext(
                "公示时限：%(year)s年%(month)s月%(day)s日前　共 %(count)s 人次",
                "公示时限：%(year)s年%(month)s月%(day)s日前　共 %(count)s 人次",
                len(notice.rows),
            )
            % {
                "year": f"{due_on:%Y}",
                "month": f"{due_on:%m}",
                "day": f"{due_on:%d}",
                "count": len(notice.rows),
            }
        ]
    )
    bold = []
    for label in notice.header:
        cell = WriteOnlyCell(sheet, label)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for line in notice.values():
        sheet.append([_cell(sheet, value) for value in line])
    return len(notice.rows)


def _cell(sheet, value: object) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = DATE_FORMAT
        return cell
    if not isinstance(value, int):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = MONEY_FORMAT
        return cell
    return value


def group_notice(*, group, kind: str, period: str, rows: list[NoticeRow]) -> GroupNotice:
    """The printable form of one group's rows; ``group`` is a Region with its parent loaded."""
    return GroupNotice(
        village=group.parent.name if group.parent_id else "",
        group=group.name,
        kind=kind,
        period=period,
        due_on=notice_due_on(kind=kind, period=period),
        rows=rows,
    )
