"""Village ledgers (台账): one workbook sheet per village, residents with their year's payments.

``ledger_rows`` is the single source of the ledger's content and yields plain Python values;
``write_ledger`` only renders them. Both walk a region in chunks so that a county of a million
residents is written with the memory of one chunk: residents come from one streamed query, and
each chunk's special groups and payments are read with one query each.
"""

from __future__ import annotations

import datetime
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import IO, NamedTuple

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from collection.models import Payment
from enrollment.models import Resident, SpecialGroupMembership
from pension.exporters import safe_text, sheet_title
from pension.models import Region
from pension.money import ZERO

CHUNK_SIZE = 5000

LEDGER_HEADER = (
    "序号",
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "村民小组",
    "户号",
    "参保状态",
    "特殊群体",
    "个人缴费(元)",
    "缴费档次",
    "缴费渠道",
    "缴费日期",
    "政府代缴(元)",
    "补缴(元)",
    "备注",
)
COLUMN_WIDTHS = (6, 10, 21, 5, 11, 9, 10, 12, 18, 12, 9, 14, 11, 12, 10, 24)
MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"


class LedgerRow(NamedTuple):
    """One resident's line in a village ledger, in the order of ``LEDGER_HEADER``.

    Money is ``None`` when the resident has no payment of that kind for the year, so an empty
    cell means "nothing recorded" and 0.00 means "paid and reversed".
    """

    number: int
    name: str
    id_number: str
    sex: str
    birth_date: datetime.date
    group: str
    household_no: str
    status: str
    special_groups: str
    personal: Decimal | None
    tier: Decimal | None
    channel: str
    paid_on: datetime.date | None
    proxy: Decimal | None
    back: Decimal | None
    note: str


MONEY_COLUMNS = frozenset(
    LedgerRow._fields.index(name) for name in ("personal", "tier", "proxy", "back")
)
DATE_COLUMNS = frozenset(LedgerRow._fields.index(name) for name in ("birth_date", "paid_on"))


# --- rows ------------------------------------------------------------------------------------


def ledger_rows(
    *, region_code: str, year: int, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[str, str, str, LedgerRow]]:
    """(village code, village name, township name, row) for every resident of the region.

    Ordered by village, villager group, household and ID number; ``number`` restarts at 1 in
    each village. The query count is 2 plus 2 per chunk, whatever the number of residents.
    """
    villages = {
        code: (name, township or "")
        for code, name, township in Region.objects.filter(
            code__startswith=region_code, level=Region.Level.VILLAGE
        ).values_list("code", "name", "parent__name")
    }
    residents = (
        Resident.objects.in_region(region_code)
        .order_by("village_id", F("group_id").asc(nulls_last=True), "household_no", "id_number")
        .values_list(
            "id",
            "village_id",
            "group__name",
            "household_no",
            "id_number",
            "name",
            "sex",
            "birth_date",
            "status",
            "status_reason",
        )
        .iterator(chunk_size=chunk_size)
    )
    sexes = {value: str(label) for value, label in Resident.Sex.choices}
    statuses = {value: str(label) for value, label in Resident.Status.choices}
    current_village, number = None, 0
    for chunk in _batched(residents, chunk_size):
        ids = [resident[0] for resident in chunk]
        groups = _special_groups(ids)
        payments = _payments(ids, year)
        for pk, village_code, group, household, id_number, name, sex, born, status, reason in chunk:
            if village_code != current_village:
                current_village, number = village_code, 0
            number += 1
            paid = payments.get(pk) or _Payments()
            notes = [reason] if reason else []
            notes.extend(paid.notes())
            village_name, township_name = villages.get(village_code, (village_code, ""))
            yield (
                village_code,
                village_name,
                township_name,
                LedgerRow(
                    number=number,
                    name=name,
                    id_number=id_number,
                    sex=sexes.get(sex, sex),
                    birth_date=born,
                    group=group or "",
                    household_no=household,
                    status=statuses.get(status, status),
                    special_groups=groups.get(pk, ""),
                    personal=paid.net(Payment.Kind.PERSONAL),
                    tier=paid.tier.amount if paid.tier else None,
                    channel=paid.tier.channel if paid.tier else "",
                    paid_on=paid.tier.paid_on if paid.tier else None,
                    proxy=paid.net(Payment.Kind.PROXY),
                    back=paid.net(Payment.Kind.BACK),
                    note=pgettext("list separator", "；").join(notes),
                ),
            )


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _special_groups(resident_ids: list[int]) -> dict[int, str]:
    """Current listings (no end date) of each resident, labels in the order of the categories."""
    order = {value: position for position, value in enumerate(SpecialGroupMembership.Category)}
    labels = {value: str(label) for value, label in SpecialGroupMembership.Category.choices}
    categories: dict[int, set[str]] = defaultdict(set)
    for resident_id, category in SpecialGroupMembership.objects.filter(
        resident_id__in=resident_ids, valid_to__isnull=True
    ).values_list("resident_id", "category"):
        categories[resident_id].add(category)
    return {
        resident_id: pgettext("list separator", "、").join(
            labels.get(c, c) for c in sorted(found, key=lambda c: order.get(c, len(order)))
        )
        for resident_id, found in categories.items()
    }


@dataclass(frozen=True)
class _Tier:
    amount: Decimal
    channel: str
    paid_on: datetime.date


@dataclass
class _Payments:
    """One resident's payments of the year, reversals included, as the ledger sums them."""

    totals: dict[str, Decimal] = field(default_factory=dict)
    tier: _Tier | None = None
    effective_personal: int = 0
    reversals: int = 0

    def net(self, kind: str) -> Decimal | None:
        return self.totals.get(kind)

    def notes(self) -> list[str]:
        notes = []
        if self.effective_personal > 1:
            notes.append(
                ngettext(
                    "个人缴费%(count)s笔，疑似重复缴费",
                    "个人缴费%(count)s笔，疑似重复缴费",
                    self.effective_personal,
                )
                % {"count": self.effective_personal}
            )
        if self.reversals:
            notes.append(
                ngettext("冲正%(count)s笔", "冲正%(count)s笔", self.reversals)
                % {"count": self.reversals}
            )
        return notes


def _payments(resident_ids: list[int], year: int) -> dict[int, _Payments]:
    rows = list(
        Payment.objects.filter(resident_id__in=resident_ids, contribution_year=year)
        .order_by("paid_at", "id")
        .values_list("id", "resident_id", "kind", "amount", "channel", "paid_at", "reverses_id")
    )
    reversed_ids = {reverses for *_, reverses in rows if reverses is not None}
    channels = {value: str(label) for value, label in Payment.Channel.choices}
    found: dict[int, _Payments] = defaultdict(_Payments)
    for pk, resident_id, kind, amount, channel, paid_at, reverses in rows:
        paid = found[resident_id]
        paid.totals[kind] = paid.totals.get(kind, ZERO) + amount
        if reverses is not None:
            paid.reversals += 1
        elif kind == Payment.Kind.PERSONAL and pk not in reversed_ids:
            # The latest payment that still stands is the tier the resident chose this year.
            paid.effective_personal += 1
            paid.tier = _Tier(
                amount=amount,
                channel=channels.get(channel, channel),
                paid_on=timezone.localtime(paid_at).date(),
            )
    return found


def ledger_village_count(*, region_code: str) -> int:
    """Villages of the region that have residents, i.e. the sheets ``write_ledger`` writes."""
    return (
        Resident.objects.in_region(region_code).values("village_id").distinct().order_by().count()
    )


# --- workbook --------------------------------------------------------------------------------


def write_ledger(*, region_code: str, year: int, out: str | os.PathLike | IO[bytes]) -> int:
    """Write the ledger of a region to ``out`` (a path or a binary file); returns residents.

    A region without residents still gets one sheet, so the officer sees an empty ledger rather
    than a file Excel refuses to open.
    """
    if isinstance(out, (str, os.PathLike)):
        # Opened before any row is read, so a wrong path fails at once, not after the county.
        with open(out, "wb") as stream:
            return write_ledger(region_code=region_code, year=year, out=stream)
    workbook = Workbook(write_only=True)
    writer = _LedgerWriter(workbook, year)
    for village_code, village_name, township_name, row in ledger_rows(
        region_code=region_code, year=year
    ):
        if village_code != writer.village_code:
            writer.start(village_code, village_name, township_name)
        writer.add(row)
    if writer.village_code is None:
        region = Region.objects.filter(code=region_code).first()
        writer.start(region_code, region.name if region else region_code, "")
    writer.finish()
    workbook.save(out)
    return writer.residents


class _LedgerWriter:
    def __init__(self, workbook: Workbook, year: int) -> None:
        self.workbook = workbook
        self.year = year
        self.taken: set[str] = set()
        self.village_code: str | None = None
        self.sheet = None
        self.residents = 0
        self._reset()

    def _reset(self) -> None:
        self.count = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.sums: dict[str, Decimal] = defaultdict(lambda: ZERO)

    def start(self, village_code: str, village_name: str, township_name: str) -> None:
        self.finish()
        self.village_code = village_code
        name = f"{township_name}-{village_name}" if township_name else village_name
        self.sheet = sheet = self.workbook.create_sheet(sheet_title(name, self.taken))
        for position, width in enumerate(COLUMN_WIDTHS, 1):
            sheet.column_dimensions[get_column_letter(position)].width = width
        sheet.freeze_panes = "A3"
        sheet.print_title_rows = "1:2"
        sheet.page_setup.orientation = "landscape"
        sheet.merged_cells.add(f"A1:{get_column_letter(len(LEDGER_HEADER))}1")
        title = WriteOnlyCell(
            sheet,
            safe_text(
                _("%(township)s%(village)s %(year)s年度城乡居民基本养老保险台账")
                % {"township": township_name, "village": village_name, "year": self.year}
            ),
        )
        title.font = Font(bold=True, size=14)
        title.alignment = Alignment(horizontal="center")
        sheet.append([title])
        sheet.append([self._bold(label) for label in LEDGER_HEADER])

    def add(self, row: LedgerRow) -> None:
        self.count += 1
        self.residents += 1
        for kind in ("personal", "proxy", "back"):
            amount = getattr(row, kind)
            if amount is not None:
                self.sums[kind] += amount
                if amount > 0:
                    self.counts[kind] += 1
        self.sheet.append([self._cell(position, value) for position, value in enumerate(row)])

    def finish(self) -> None:
        if self.sheet is None:
            return
        summary: list[object] = [None] * len(LEDGER_HEADER)
        summary[0] = _("合计")
        summary[1] = ngettext("%(count)s人", "%(count)s人", self.count) % {"count": self.count}
        for kind in ("personal", "proxy", "back"):
            summary[LedgerRow._fields.index(kind)] = self.sums[kind]
        summary[-1] = _("个人缴费%(personal)s人，政府代缴%(proxy)s人，补缴%(back)s人") % {
            "personal": self.counts["personal"],
            "proxy": self.counts["proxy"],
            "back": self.counts["back"],
        }
        self.sheet.append(
            [self._bold(self._cell(position, value)) for position, value in enumerate(summary)]
        )
        self.sheet = None
        self._reset()

    def _cell(self, position: int, value: object) -> object:
        if value is None or value == "":
            # No cell at all: openpyxl spends most of a county's export on cells.
            return None
        if isinstance(value, str):
            return safe_text(value)
        if position in MONEY_COLUMNS and isinstance(value, Decimal):
            cell = WriteOnlyCell(self.sheet, value)
            cell.number_format = MONEY_FORMAT
            return cell
        if position in DATE_COLUMNS:
            cell = WriteOnlyCell(self.sheet, value)
            cell.number_format = DATE_FORMAT
            return cell
        return value

    def _bold(self, value: object) -> object:
        if value is None:
            return None
        cell = value if isinstance(value, Cell) else WriteOnlyCell(self.sheet, value)
        cell.font = Font(bold=True)
        return cell
