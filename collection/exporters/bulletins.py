"""The weekly bulletin as a workbook: the same figures as its printable page, one sheet per part
(概况, townships, villages, commendation and criticism, 应代尽代, 双限, notices overdue).

``bulletin_sheets`` yields each sheet's title, header and rows as plain Python values from a
kept bulletin's figures (`collection.services.bulletins.bulletin_figures`); the writer only
renders them, in openpyxl's write-only mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from collection.services.bulletins import COMMEND_RATE
from pension.exporters import safe_cell

Sheet = tuple[str, list[str], list[list[Any]]]


def bulletin_title(figures: dict[str, Any]) -> str:
    return _("%(county)s%(year)s年度城乡居民基本养老保险征缴工作进展通报（第%(number)s期）") % {
        "county": figures["county"]["name"],
        "year": figures["year"],
        "number": figures["number"],
    }


def _unit_values(unit: dict[str, Any]) -> list[Any]:
    return [
        unit["expected"],
        unit["paid"],
        unit["rate"],
        unit["previous_rate"],
        unit["rate_change"],
        unit["paid_change"],
        unit["goal"],
        unit["gap"],
        unit["cash_share"],
    ]


def _unit_header() -> list[str]:
    return [
        _("任务数"), _("已缴人数"), _("完成率(%)"), _("上周完成率(%)"), _("较上周(百分点)"),
        _("本周新增(人)"), _("当前节点目标"), _("差额(人)"), _("现金缴费占比(%)"),
    ]  # fmt: skip


def _mark(unit: dict[str, Any]) -> str:
    if unit["bottom"]:
        return _("后三名")
    if unit["rate"] is not None and unit["rate"] >= COMMEND_RATE:
        return _("表扬")
    return ""


def bulletin_sheets(figures: dict[str, Any]) -> Iterator[Sheet]:
    """(sheet name, header, rows) for each part of the bulletin."""
    total = figures["total"]
    forecast = figures["forecast"]["total"]
    summary = [
        [_("统计截止日期"), figures["day"]],
        [_("进度统计日期"), figures["snapshot_day"]],
        [_("当前节点目标"), figures["goal"]],
        [_("任务数"), total["expected"]],
        [_("已缴人数"), total["paid"]],
        [_("完成率(%)"), total["rate"]],
        [_("上周完成率(%)"), total["previous_rate"]],
        [_("较上周(百分点)"), total["rate_change"]],
        [_("本周新增(人)"), total["paid_change"]],
        [_("距节点目标差额(人)"), total["gap"]],
        [_("应代缴人数"), figures["proxy"]["qualifying"]],
        [_("已代缴人数"), figures["proxy"]["done"]],
        [_("应代未代人数"), figures["proxy"]["missing"]],
        [_("双限超限协办员(人)"), len(figures["agents"]["rows"])],
        [_("逾期未公示(份)"), figures["notices"]["overdue"]],
        [_("现金缴费占比(%)"), total["cash_share"]],
        [_("预计下一节点完成率(%)"), forecast["projected_rate"]],
        [_("每日需缴人数"), forecast["needed_per_day"]],
        [_("预计不能按期完成的乡镇(个)"), len(figures["forecast"]["missing"])],
        [_("预计不能按期完成的村(个)"), len(figures["forecast"].get("missing_villages", []))],
        [
            _("预测方法"),
            _("按最近%(days)s天的日均新增缴费人数线性推算") % {"days": figures["forecast"]["days"]},
        ],
    ]
    yield _("概况"), [_("项目"), _("数值")], summary

    header = [_("排名"), _("乡镇"), *_unit_header(),
              _("预计节点完成率(%)"), _("每日需缴人数"), _("备注")]  # fmt: skip
    rows = []
    for unit in figures["townships"]:
        projection = unit["forecast"] or {}
        rows.append([
            unit["rank"], unit["name"], *_unit_values(unit),
            projection.get("projected_rate"), projection.get("needed_per_day"),
            _mark(unit),
        ])  # fmt: skip
    rows.append(["", _("合计"), *_unit_values(total), forecast["projected_rate"],
                 forecast["needed_per_day"], ""])  # fmt: skip
    yield _("乡镇进度"), header, rows

    header = [_("排名"), _("乡镇"), _("村(社区)"), *_unit_header(),
              _("预计节点完成率(%)"), _("每日需缴人数"), _("备注")]  # fmt: skip
    rows = []
    for unit in figures["villages"]:
        projection = unit.get("forecast") or {}
        rows.append([
            unit["rank"], unit["township"], unit["name"], *_unit_values(unit),
            projection.get("projected_rate"), projection.get("needed_per_day"), _mark(unit),
        ])  # fmt: skip
    yield _("村进度"), header, rows

    rows = [
        [_("通报表扬"), _("乡镇") if u["level"] == "township" else _("村(社区)"),
         u["township"], u["name"], u["rate"]]
        for u in figures["commended"]
    ]  # fmt: skip
    rows += [[_("通报批评"), _("乡镇"), "", u["name"], u["rate"]]
             for u in figures["bottom_townships"]]  # fmt: skip
    rows += [[_("通报批评"), _("村(社区)"), u["township"], u["name"], u["rate"]]
             for u in figures["bottom_villages"]]  # fmt: skip
    yield (
        _("表扬与批评"),
        [_("类别"), _("层级"), _("所属乡镇"), _("单位"), _("完成率(%)")],
        rows,
    )

    rows = [[u["name"], u["missing"]] for u in figures["proxy"]["townships"]]
    yield _("应代尽代"), [_("乡镇"), _("应代未代人数")], rows

    rows = [
        [a["name"], _("、").join(a["villages"]), _("、").join(a["kinds"]), a["unremitted"]]
        for a in figures["agents"]["rows"]
    ]
    yield (
        _("双限超限"),
        [_("协办员"), _("负责村"), _("超限类型"), _("未缴销金额(元)")],
        rows,
    )

    rows = [[u["name"], u["overdue"]] for u in figures["notices"]["townships"]]
    yield _("公示逾期"), [_("乡镇"), _("逾期未公示(份)")], rows


def write_bulletin_workbook(*, figures: dict[str, Any], out: str | os.PathLike | IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    title = bulletin_title(figures)
    for name, header, rows in bulletin_sheets(figures):
        sheet = workbook.create_sheet(name[:31])
        sheet.append([_bold(sheet, title)])
        sheet.append([_bold(sheet, label) for label in header])
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
    workbook.save(out)


def _bold(sheet, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, safe_cell(value))
    cell.font = Font(bold=True)
    return cell
