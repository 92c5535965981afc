"""Workbooks the kernel writes: an import's rejected rows, and any list streamed to a file."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from pension.models import ImportJob

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, unique ignoring case."""
    base = _SHEET_NAME_FORBIDDEN.sub("_", ILLEGAL_CHARACTERS_RE.sub("", name)).strip("' ")
    base = base[:_SHEET_NAME_MAX] or "Sheet"
    title, n = base, 1
    while title.casefold() in taken:
        n += 1
        suffix = f"({n})"
        title = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(title.casefold())
    return title


def safe_text(value: str) -> str:
    """Text as a cell shows it: never a formula, no characters the file format forbids.

    Names and notes come from imported lists; one starting with "=" would otherwise run as a
    formula on the officer's computer.
    """
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_cell(value: object) -> object:
    return safe_text(value) if isinstance(value, str) else value


def write_workbook(
    *, title: str, header: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "Sheet1"
) -> bytes:
    """One sheet, streamed in write-only mode: a title row, a bold header, the rows."""
    buffer = io.BytesIO()
    write_workbook_to(buffer, title=title, header=header, rows=rows, sheet=sheet)
    return buffer.getvalue()


def write_workbook_to(
    out,
    *,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    sheet: str = "Sheet1",
) -> None:
    """As write_workbook, into `out` (a path or a binary file): a million rows never sit in
    memory as cells, only as openpyxl's compressed stream."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    bold = Font(bold=True)
    title_cell = WriteOnlyCell(ws, value=title)
    title_cell.font = Font(bold=True, size=13)
    ws.append([title_cell])
    header_cells = []
    for label in header:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([safe_cell(value) for value in row])
    book.save(out)


def rejections_workbook(*, job: ImportJob) -> bytes:
    rows = job.rejections.order_by("row", "id").values_list("row", "column", "reason", "value")
    return write_workbook(
        title=_("%(kind)s导入错误行：%(filename)s")
        % {"kind": job.get_kind_display(), "filename": job.filename},
        header=[_("行号"), _("列"), _("原因"), _("原值")],
        rows=rows.iterator(chunk_size=5000),
        sheet=_("错误行"),
    )
