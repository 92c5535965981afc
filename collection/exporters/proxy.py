"""The proxy receipt sheet (政府代缴佐证材料): one workbook sheet per village of a batch.

``proxy_receipt_rows`` yields plain Python values and is the single source of the content;
``write_proxy_receipts`` only renders them. ID numbers are masked: the sheet is filed and shown
to villagers as evidence of who the government paid for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, NamedTuple

from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from collection.models import ProxyBatch
from enrollment.models import SpecialGroupMembership
from pension.exporters import safe_text, sheet_title
from pension.idnumber import mask
from pension.money import ZERO

HEADER = (
    "序号",
    "村(社区)",
    "村民小组",
    "姓名",
    "公民身份号码",
    "代缴类别",
    "代缴金额(元)",
    "凭证号",
)
CHUNK_SIZE = 5000


class ReceiptRow(NamedTuple):
    number: int
    village: str
    group: str
    name: str
    masked_id: str
    category: str
    amount: Decimal
    voucher: str


def proxy_receipt_rows(*, batch: ProxyBatch) -> Iterator[tuple[str, str, ReceiptRow]]:
    """(village code, sheet name, row) for every item of the batch, village by village."""
    labels = {value: str(label) for value, label in SpecialGroupMembership.Category.choices}
    items = (
        batch.items.order_by(
            "resident__village_id", F("resident__group_id").asc(nulls_last=True),
            "resident__id_number",
        )
        .values_list(
            "resident__village_id", "resident__village__name", "resident__village__parent__name",
            "resident__group__name", "resident__name", "resident__id_number", "category",
            "amount", "payment__voucher_no",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )  # fmt: skip
    current, number = None, 0
    for code, village, township, group, name, id_number, category, amount, voucher in items:
        if code != current:
            current, number = code, 0
        number += 1
        yield (
            code,
            f"{township}-{village}" if township else village,
            ReceiptRow(
                number, village, group or "", name, mask(id_number),
                labels.get(category, category), amount, voucher or "",
            ),
        )  # fmt: skip


def write_proxy_receipts(*, batch: ProxyBatch, out: str | os.PathLike | IO[bytes]) -> int:
    """Write the batch's receipt sheets to ``out``; returns the number of residents."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    sheet, current, count, total, written = None, None, 0, ZERO, 0

    def close() -> None:
        if sheet is not None:
            people = ngettext("%(count)s人", "%(count)s人", count) % {"count": count}
            sheet.append([_bold(sheet, _("合计")), people, None, None, None, None, total])

    for code, title, row in proxy_receipt_rows(batch=batch):
        if code != current:
            close()
            current, count, total = code, 0, ZERO
            sheet = workbook.create_sheet(sheet_title(title, taken))
            heading = _("%(place)s %(year)s年度城乡居民基本养老保险政府代缴明细") % {
                "place": title,
                "year": batch.year,
            }
            sheet.append([_bold(sheet, safe_text(heading))])
            sheet.append([_bold(sheet, label) for label in HEADER])
        sheet.append([safe_text(v) if isinstance(v, str) else v for v in row])
        count, total, written = count + 1, total + row.amount, written + 1
    close()
    if sheet is None:
        empty = workbook.create_sheet(_("代缴明细"))
        empty.append([_("本批次没有代缴人员")])
    workbook.save(out)
    return written


def _bold(sheet, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.font = Font(bold=True)
    return cell
