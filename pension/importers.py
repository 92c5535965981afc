"""Reading a county's list of villages and villager groups: every row checked, every error located.

Phase one of the regions import (STYLE 19). Each row is checked on its own and against the rest
of the file (a code given twice); whether a parent exists is a question for the database, which
``pension.services.regions_import`` asks in one query. Nothing here touches the database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pension.imports import FILE_MAX_BYTES, Rejection
from pension.models import Region
from pension.spreadsheets import CellError, Column, parse_code, read_table, text

__all__ = [
    "CODE_COLUMN",
    "NAME_COLUMN",
    "PARENT_COLUMN",
    "REGION_COLUMNS",
    "RegionRow",
    "RegionSheet",
    "Rejection",
    "read_regions",
]

CODE_COLUMN = Column("code", "区划代码", ("行政区划代码",))
NAME_COLUMN = Column("name", "名称", ("区划名称", "单位名称"))
PARENT_COLUMN = Column("parent", "上级代码", ("上级区划代码",), required=False)
REGION_COLUMNS = (CODE_COLUMN, NAME_COLUMN, PARENT_COLUMN)

NAME_MAX_LENGTH = Region._meta.get_field("name").max_length

# Lengths of each level's code and of its parent's; 2 (province) has no parent.
PARENT_LENGTH = {4: 2, 6: 4, 9: 6, 12: 9, 15: 12}
# The statistics bureau's 统计用区划代码 pads every level to 12 digits (township 530927203000,
# county 530927000000) and no real village or group number is 000, so a padded code is read as
# the unit it stands for rather than as a new village.
_PADDING = {15: 3, 12: 3, 9: 3, 6: 2, 4: 2}


@dataclass(frozen=True)
class RegionRow:
    """One accepted row: a code whose level and parent follow from its length and prefix."""

    row: int
    code: str
    name: str

    @property
    def level(self) -> str:
        return Region.level_for_code(self.code) or ""

    @property
    def parent_code(self) -> str | None:
        length = PARENT_LENGTH.get(len(self.code))
        return self.code[:length] if length else None


@dataclass
class RegionSheet:
    """What a file holds: how many data rows, which were accepted, which rejected and why."""

    rows: int = 0
    accepted: list[RegionRow] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def unpad(code: str) -> str:
    """530927203000 -> 530927203, 530927000000 -> 530927; other codes unchanged."""
    while (width := _PADDING.get(len(code))) and code.endswith("0" * width):
        code = code[:-width]
    return code


def _code(value: object) -> str:
    try:
        return unpad(parse_code(value, lengths=(12, 15)))
    except CellError as exc:
        error = exc
    try:
        # Townships and above pass, to be checked against the database; any other length keeps
        # the message that names the lengths a file should use.
        return unpad(parse_code(value, lengths=(2, 4, 6, 9)))
    except CellError:
        raise error from None


def _name(value: object) -> str:
    name = text(value)
    if not name:
        raise CellError(_("名称不能为空"))
    if len(name) > NAME_MAX_LENGTH:
        raise CellError(
            _("名称过长：%(length)s个字，最多%(limit)s个字")
            % {"length": len(name), "limit": NAME_MAX_LENGTH}
        )
    return name


def _check_parent(value: object, code: str) -> None:
    expected = code[: PARENT_LENGTH[len(code)]] if len(code) in PARENT_LENGTH else ""
    try:
        given = unpad(parse_code(value, lengths=(6, 9, 12)))
    except CellError as exc:
        # Translators: a message about the parent code column, e.g. "上级代码为空".
        raise CellError(_("上级%(message)s") % {"message": exc.message}) from None
    if given != expected:
        raise CellError(
            _(
                "上级代码 %(given)s 与区划代码 %(code)s 不符："
                "应为区划代码的前%(length)s位 %(expected)s"
            )
            % {"given": given, "code": code, "length": len(expected), "expected": expected}
            if expected
            else _("区划代码 %(code)s 没有上级代码") % {"code": code}
        )


def read_regions(source, *, filename: str | None = None) -> RegionSheet:
    """Every row of a regions sheet checked; raises SpreadsheetError for a structural fault."""
    table = read_table(source, columns=REGION_COLUMNS, filename=filename, max_bytes=FILE_MAX_BYTES)
    sheet = RegionSheet()
    accepted: dict[int, RegionRow] = {}
    seen: dict[str, list[int]] = defaultdict(list)
    for row_number, (raw_code, raw_name, raw_parent) in table.rows():
        sheet.rows += 1
        column = CODE_COLUMN.label
        try:
            code = _code(raw_code)
            seen[code].append(row_number)
            column = NAME_COLUMN.label
            name = _name(raw_name)
            column = PARENT_COLUMN.label
            if raw_parent not in (None, ""):
                _check_parent(raw_parent, code)
        except CellError as exc:
            sheet.rejected.append(Rejection(row_number, column, exc.message, text(raw_code)[:30]))
            continue
        accepted[row_number] = RegionRow(row_number, code, name)
    for code, row_numbers in seen.items():
        if len(row_numbers) < 2:
            continue
        # Which of two names is right cannot be told from the file, so neither is applied.
        listed = pgettext("list separator", "、").join(str(n) for n in row_numbers[:10])
        for row_number in row_numbers:
            if accepted.pop(row_number, None) is not None:
                sheet.rejected.append(
                    Rejection(
                        row_number,
                        CODE_COLUMN.label,
                        _("区划代码 %(code)s 在文件中重复出现（第%(rows)s行）")
                        % {"code": code, "rows": listed},
                        code,
                    )
                )
    sheet.accepted = list(accepted.values())
    sheet.rejected.sort(key=lambda r: r.row)
    return sheet
