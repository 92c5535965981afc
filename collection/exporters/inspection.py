"""检查工作底稿: the inspection worksheet of a township or a village (attachment 3 of the
Cangyuan notice), one sheet per check after a summary sheet.

Every sheet opens with the title (unit, campaign year, day), the line the inspector and the
inspected unit's head sign, and ends each line with the inspector's blank columns (检查情况,
存在问题, 整改意见). The ``*_rows`` functions yield plain Python values and are the single
source of each sheet's content; ``write_inspection_workbook`` only renders them, streamed with
openpyxl's write-only mode. Nothing here names a resident: the checks are about groups, agents
and villages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import IO

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from collection.services.inspection import BREACH_WINDOW_DAYS, InspectionWorksheet, NoticeVerdict
from collection.services.notices import MONTHLY_DUE_DAY
from collection.services.progress import ProgressUnit
from pension.exporters import safe_cell, sheet_title


def _yes_no(value: bool) -> str:
    return _("是") if value else _("否")


def remark_headings() -> tuple[str, str, str]:
    """The inspector's columns, left blank on every line."""
    return _("检查情况"), _("存在问题"), _("整改意见")


REMARKS = (None, None, None)  # one blank cell under each of remark_headings()


def worksheet_title(worksheet: InspectionWorksheet) -> str:
    return _("%(unit)s%(year)s年度城乡居民基本养老保险征缴检查工作底稿") % {
        "unit": worksheet.unit_name,
        "year": worksheet.year,
    }


def worksheet_subtitle(worksheet: InspectionWorksheet) -> str:
    day = worksheet.day
    if worksheet.snapshot_day:
        progress = _("征缴进度数据截至%(y)s年%(m)s月%(d)s日") % {
            "y": worksheet.snapshot_day.year,
            "m": worksheet.snapshot_day.month,
            "d": worksheet.snapshot_day.day,
        }
    else:
        progress = _("截至当日尚无征缴进度统计数据")
    return _(
        "被检查单位：%(unit)s　缴费年度：%(year)s年　"
        "检查数据截至：%(y)s年%(m)s月%(d)s日（%(progress)s）"
    ) % {
        "unit": worksheet.unit_name,
        "year": worksheet.year,
        "y": day.year,
        "m": day.month,
        "d": day.day,
        "progress": progress,
    }


def signature_line() -> str:
    return _("检查人：　　　　　　检查日期：　　　　年　　月　　日　　被检查单位负责人（签字）：")


# --- summary ---------------------------------------------------------------------------------


def _percent(value) -> str:
    return "—" if value is None else f"{value}%"


def summary_rows(*, worksheet: InspectionWorksheet) -> Iterator[tuple]:
    """(序号, 检查事项, 检查要求, 系统数据, remarks...) per check, then the on-site items the
    system holds no data for."""
    w = worksheet
    notices = _(
        "应公示%(all)s份：按时%(on_time)s份，逾期公示%(late)s份，逾期未公示%(overdue)s份"
    ) % {
        "all": len(w.notices),
        "on_time": w.notices_counted(NoticeVerdict.ON_TIME),
        "late": w.notices_counted(NoticeVerdict.LATE),
        "overdue": w.notices_counted(NoticeVerdict.OVERDUE),
    }
    due_today = w.notices_counted(NoticeVerdict.DUE_TODAY)
    if due_today:
        notices += _("，当日到期尚未公示%(count)s份") % {"count": due_today}
    yield (
        1,
        _("公示告知书按时张贴"),
        _(
            "每月结束至次月%(day)s日前在各村民小组公告栏公示上月征缴信息；"
            "已缴费、未缴费人员名单于次年2月底前公示"
        )
        % {"day": MONTHLY_DUE_DAY},
        notices,
        *REMARKS,
    )
    yield (
        2,
        _("承诺书签订"),
        _("征缴期前代收（协办）人员签订《城乡居民社会保险费费款安全承诺书》并在村民小组公告栏张贴"),
        _("协办员%(all)s人：已签订%(signed)s人，未签订%(unsigned)s人")
        % {
            "all": len(w.agents),
            "signed": len(w.agents) - w.agents_unsigned,
            "unsigned": w.agents_unsigned,
        },
        *REMARKS,
    )
    yield (
        3,
        _("“双限”执行"),
        _("代收现金留存最长不超过%(days)s天、额度最高不超过%(amount)s元，按期结报缴销")
        % {"days": w.limits.days, "amount": w.limits.amount},
        _("协办员%(all)s人：当前超限%(now)s人，近%(window)s天曾超限%(lately)s人")
        % {
            "all": len(w.agents),
            "now": w.agents_in_breach,
            "window": BREACH_WINDOW_DAYS,
            "lately": w.agents_breached_lately,
        },
        *REMARKS,
    )
    unit = w.unit
    yield (
        4,
        _("征缴进度与计划"),
        _("按时完成征缴进度计划（当前节点：%(goal)s）")
        % {"goal": unit.goal_text if unit and unit.goal_text else _("未设置")},
        _progress_summary(w, unit),
        *REMARKS,
    )
    yield (
        5,
        _("现金征收占比"),
        _("最大限度减少现金缴纳；现金征收占比较高的乡镇、行政村开展重点联合核查"),
        _("个人缴费%(amount)s元，其中现金%(cash)s元，现金征收占比%(share)s")
        % {
            "amount": unit.amount if unit else 0,
            "cash": unit.cash_amount if unit else 0,
            "share": _percent(unit.cash_share if unit else None),
        },
        *REMARKS,
    )
    yield (
        6,
        _("征缴信息公开"),
        _("公开税务、人社部门服务和监督电话，村委至村组公开承诺书"),
        _("（实地查看）"),
        *REMARKS,
    )


def _progress_summary(worksheet: InspectionWorksheet, unit: ProgressUnit | None) -> str:
    if unit is None:
        return _("无征缴进度数据")
    text = _("任务数%(expected)s人，已缴%(paid)s人，完成率%(rate)s，差额%(gap)s人") % {
        "expected": unit.expected,
        "paid": unit.paid,
        "rate": _percent(unit.rate),
        "gap": unit.gap,
    }
    if worksheet.is_village:
        if unit.flagged:
            text += _("；未达进度")
        if unit.rank is not None:
            text += _("；完成率在本乡镇%(ranked)s个村中排第%(rank)s位") % {
                "ranked": worksheet.ranked,
                "rank": unit.rank,
            }
        return text
    return text + _("；未达进度的村(社区)%(flagged)s个") % {"flagged": worksheet.flagged_units}


# --- the checks, one sheet each --------------------------------------------------------------


def notice_headings() -> tuple[str, ...]:
    return (
        _("序号"),
        _("村(社区)"),
        _("村民小组"),
        _("公示类型"),
        _("期间"),
        _("公示时限"),
        _("张贴(生成)日期"),
        _("是否按时"),
        *remark_headings(),
    )


def notice_rows(*, worksheet: InspectionWorksheet) -> Iterator[tuple]:
    for number, line in enumerate(worksheet.notices, 1):
        yield (
            number,
            line.village,
            line.group,
            line.kind_label,
            line.period,
            line.due_on,
            line.posted_on,
            line.verdict_label,
            *REMARKS,
        )


def commitment_headings() -> tuple[str, ...]:
    return (
        _("序号"),
        _("协办员"),
        _("账号"),
        _("负责的村"),
        _("承诺书签订日期"),
        _("是否已签订"),
        *remark_headings(),
    )


def commitment_rows(*, worksheet: InspectionWorksheet) -> Iterator[tuple]:
    for number, line in enumerate(worksheet.agents, 1):
        yield (
            number,
            line.name,
            line.username,
            pgettext("list separator", "、").join(line.villages),
            line.commitment_signed_on,
            _yes_no(line.commitment_signed),
            *REMARKS,
        )


def cash_limit_headings() -> tuple[str, ...]:
    return (
        _("序号"),
        _("协办员"),
        _("负责的村"),
        _("未缴销现金(元)"),
        _("最早未缴销收款日期"),
        _("留存天数"),
        _("限额天数"),
        _("限额金额(元)"),
        _("当前是否超限"),
        _("近%(days)s天超限天数") % {"days": BREACH_WINDOW_DAYS},
        _("最近超限日期"),
        _("近%(days)s天超限类型") % {"days": BREACH_WINDOW_DAYS},
        *remark_headings(),
    )


def cash_limit_rows(*, worksheet: InspectionWorksheet) -> Iterator[tuple]:
    separator = pgettext("list separator", "、")
    for number, line in enumerate(worksheet.agents, 1):
        position = line.position
        now = _yes_no(line.in_breach)
        if line.in_breach:
            now = _("是（%(kinds)s）") % {"kinds": separator.join(position.breach_labels)}
        yield (
            number,
            line.name,
            separator.join(line.villages),
            position.on_hand,
            position.oldest_on,
            position.days_held,
            position.limits.days,
            position.limits.amount,
            now,
            line.breach_days,
            line.last_breach_on,
            separator.join(line.breach_kinds),
            *REMARKS,
        )


def progress_headings() -> tuple[str, ...]:
    return (
        _("村(社区)"),
        _("任务数"),
        _("已缴人数"),
        _("完成率(%)"),
        _("当前节点目标"),
        _("差额"),
        _("是否达到进度"),
        # The rank among the township's villages only: the county-wide ranking, whose bottom
        # three are criticised, is the weekly bulletin's.
        _("乡镇内排名"),
        *remark_headings(),
    )


def _progress_values(
    worksheet: InspectionWorksheet, name: str, unit: ProgressUnit, *, ranked: bool = True
) -> tuple:
    rank = None
    if ranked and unit.rank is not None:
        rank = _("%(rank)s/%(ranked)s") % {"rank": unit.rank, "ranked": worksheet.ranked}
    return (
        name,
        unit.expected,
        unit.paid,
        unit.rate,
        unit.goal_text,
        unit.gap,
        _progress_verdict(unit),
        rank,
        *REMARKS,
    )


def _progress_verdict(unit: ProgressUnit) -> str:
    if unit.flagged:
        return _("否（未达进度）")
    if unit.milestone is None or unit.expected <= 0:
        return _("首个进度节点未到") if unit.expected > 0 else _("无任务数")
    return _("是")


def progress_rows(*, worksheet: InspectionWorksheet) -> Iterator[tuple]:
    """The township's villages (a village's worksheet: the village), then the township's total."""
    for unit in worksheet.units:
        yield _progress_values(worksheet, unit.name, unit)
    if worksheet.total is not None:
        yield _progress_values(worksheet, _("合计"), worksheet.total, ranked=False)


def cash_share_headings() -> tuple[str, ...]:
    return (
        _("村(社区)"),
        _("个人缴费金额(元)"),
        _("现金征收金额(元)"),
        _("现金缴费人数"),
        _("现金征收占比(%)"),
        _("占比排名"),
        *remark_headings(),
    )


def cash_share_rows(*, worksheet: InspectionWorksheet) -> Iterator[tuple]:
    """Each village's cash share with its place in the township, highest first; the total."""
    for unit in worksheet.units:
        place = worksheet.cash_ranks.get(unit.code)
        yield (
            unit.name,
            unit.amount,
            unit.cash_amount,
            unit.cash_paid,
            unit.cash_share,
            place,
            *REMARKS,
        )
    total = worksheet.total
    if total is not None:
        yield (
            _("合计"),
            total.amount,
            total.cash_amount,
            total.cash_paid,
            total.cash_share,
            None,
            *REMARKS,
        )


def summary_headings() -> tuple[str, ...]:
    return (_("序号"), _("检查事项"), _("检查要求"), _("系统数据"), *remark_headings())


# --- rendering -------------------------------------------------------------------------------


def inspection_sheets(
    worksheet: InspectionWorksheet,
) -> list[tuple[str, Sequence[str], Iterator[tuple], str]]:
    """(sheet name, headings, rows, what an empty sheet says) in the workbook's order."""
    return [
        (_("检查汇总"), summary_headings(), summary_rows(worksheet=worksheet), ""),
        (
            _("公示告知书"),
            notice_headings(),
            notice_rows(worksheet=worksheet),
            _("截至当日没有到期的公示。"),
        ),
        (
            _("承诺书"),
            commitment_headings(),
            commitment_rows(worksheet=worksheet),
            _("没有村级代收协办员。"),
        ),
        (
            _("双限"),
            cash_limit_headings(),
            cash_limit_rows(worksheet=worksheet),
            _("没有村级代收协办员。"),
        ),
        (
            _("征缴进度"),
            progress_headings(),
            progress_rows(worksheet=worksheet),
            _("没有村(社区)。"),
        ),
        (
            _("现金征收占比"),
            cash_share_headings(),
            cash_share_rows(worksheet=worksheet),
            _("没有村(社区)。"),
        ),
    ]


def write_inspection_workbook(
    *, worksheet: InspectionWorksheet, out: str | os.PathLike | IO[bytes]
) -> int:
    """Write the worksheet to ``out``; returns the number of lines written below the headings."""
    workbook = Workbook(write_only=True)
    title, subtitle, signature = (
        worksheet_title(worksheet),
        worksheet_subtitle(worksheet),
        signature_line(),
    )
    taken: set[str] = set()
    written = 0
    for name, headings, rows, empty in inspection_sheets(worksheet):
        sheet = workbook.create_sheet(sheet_title(name, taken))
        _set_widths(sheet, headings)
        sheet.append([_cell(sheet, title, bold=True, size=13)])
        sheet.append([safe_cell(subtitle)])
        sheet.append([safe_cell(signature)])
        sheet.append([])
        sheet.append([_cell(sheet, heading, bold=True) for heading in headings])
        count = 0
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
            count += 1
        if not count and empty:
            sheet.append([safe_cell(empty)])
        written += count
    workbook.save(out)
    return written


# Column widths in characters: the inspector writes by hand in the remarks columns of a
# printed sheet, and the summary's requirement and data columns hold a sentence each.
REMARK_WIDTH = 24
SENTENCE_WIDTH = 40


def _set_widths(sheet, headings: Sequence[str]) -> None:
    """Widths must be set before the first row in write-only mode."""
    wide = {_("检查要求"), _("系统数据")}
    remarks = set(remark_headings())
    for number, heading in enumerate(headings, 1):
        if heading in remarks:
            width = REMARK_WIDTH
        elif heading in wide:
            width = SENTENCE_WIDTH
        else:
            width = max(8, 2 * len(heading) + 2)
        sheet.column_dimensions[get_column_letter(number)].width = width


def _cell(sheet, value: object, *, bold: bool = False, size: int | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, safe_cell(value))
    cell.font = Font(bold=bold, size=size) if size else Font(bold=bold)
    return cell
