"""Reading the monthly statements: the tax bureau's collection detail and a bank's flow.

Phase one of a statement import (STYLE 19): the file goes through the project's one spreadsheet
reader, every row is checked as it is read, and the accepted rows are yielded as text tuples
for the staging table, so that a county's million-row statement streams into COPY without a
copy of it in memory. A rejected row names its row number as the spreadsheet shows it, the
column and the reason, in Chinese. What only the database knows (a voucher already stored
with other content, the resident of an ID number) is the service's to find.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from pension import idnumber
from pension.dates import first_of_next_month
from pension.imports import FILE_MAX_BYTES, Rejection
from pension.spreadsheets import (
    CellError,
    Column,
    Table,
    parse_date,
    parse_decimal,
    parse_id_number,
    read_table,
    text,
)

VOUCHER_ALIASES = ("电子税票号", "税票号码", "税票号", "电子税票号码(凭证号)", "凭证号")
ID_ALIASES = ("身份证号码", "身份证号", "公民身份号码", "缴费人证件号码", "证件号")

VOUCHER_COLUMN = Column("voucher_no", "电子税票号码", VOUCHER_ALIASES)
ID_COLUMN = Column("id_number", "证件号码", ID_ALIASES)
NAME_COLUMN = Column("name", "姓名", ("缴费人姓名", "缴费人", "纳税人名称"))
YEAR_COLUMN = Column("contribution_year", "缴费年度", ("所属年度", "费款所属年度", "年度"))
TIER_COLUMN = Column("tier", "缴费档次", ("档次", "缴费标准"), required=False)
AMOUNT_COLUMN = Column("amount", "实缴金额", ("缴费金额", "实缴金额(元)", "金额"))
PAID_ON_COLUMN = Column("paid_on", "入库日期", ("缴款日期", "缴费日期"))

SERIAL_COLUMN = Column("serial_no", "银行流水号", ("流水号", "交易流水号"))
BANK_VOUCHER_COLUMN = Column("voucher_no", "电子税票号码", VOUCHER_ALIASES, required=False)
BANK_AMOUNT_COLUMN = Column("amount", "交易金额", ("金额", "入账金额", "发生额", "交易金额(元)"))
TRADED_ON_COLUMN = Column("traded_on", "交易日期", ("记账日期", "入账日期"))

TAX_COLUMNS = (
    VOUCHER_COLUMN, ID_COLUMN, NAME_COLUMN, YEAR_COLUMN, TIER_COLUMN, AMOUNT_COLUMN,
    PAID_ON_COLUMN,
)  # fmt: skip
BANK_COLUMNS = (
    SERIAL_COLUMN, BANK_VOUCHER_COLUMN, ID_COLUMN, BANK_AMOUNT_COLUMN, TRADED_ON_COLUMN
)  # fmt: skip

# The staged rows, in the order the importers yield them.
TAX_STAGE_COLUMNS = [
    ("row_no", "integer"),
    ("voucher_no", "varchar(40)"),
    ("id_number", "varchar(18)"),
    ("name", "varchar(50)"),
    ("contribution_year", "smallint"),
    ("tier", "varchar(13)"),  # blank when the file gives none; the INSERT makes it NULL
    ("amount", "numeric(12,2)"),
    ("paid_on", "date"),
]
BANK_STAGE_COLUMNS = [
    ("row_no", "integer"),
    ("serial_no", "varchar(40)"),
    ("voucher_no", "varchar(40)"),
    ("id_number", "varchar(18)"),
    ("amount", "numeric(12,2)"),
    ("traded_on", "date"),
]

# What a year cell may end with ("2023年度", "2023年"), stripped before the year is read.
YEAR_SUFFIXES = ("年度", "年")
KEY_MAX = 40
NAME_MAX = 50
# The scheme began in 2009 (新农保); a payment for next year may be taken in December.
FIRST_YEAR = 2009


@dataclass
class StatementRead:
    """What reading found: rows, rejected rows, and the rows whose voucher (or bank serial)
    an earlier row of the file already had, as (row number, key, the earlier row's number).
    Final once the row iterator is exhausted."""

    rows: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    repeated: list[tuple[int, str, int]] = field(default_factory=list)


# --- cell checks ------------------------------------------------------------------------------

_PLAIN_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?").fullmatch
_FORMULA_TEXT = re.compile(r'="(.*)"').fullmatch
AMOUNT_LIMIT = Decimal("1e10")  # numeric(12,2)
EARLIEST_BIRTH = datetime.date(1900, 1, 1)
# The ID check digit's weighted sum, in two parts that both come from small caches: the first
# 14 characters (see _Checks.heads) and the three after them (a thousand combinations).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_TAILS = {
    f"{n:03d}": sum(w * int(d) for w, d in zip(_WEIGHTS[14:], f"{n:03d}", strict=True))
    for n in range(1000)
}


def _is_blank(cell: object) -> bool:
    """An optional cell left empty, or holding only spaces: both mean "not given"."""
    return cell is None or (cell.__class__ is str and not cell.strip())


def _key(value: object, label: str) -> str:
    """A voucher or serial number: text of at most 40 characters, never a rounded number."""
    if isinstance(value, float):
        # Excel keeps 15 significant digits: a longer number typed into a number cell has
        # already lost its tail, and guessing it would match the wrong payment.
        if value >= 1e15:
            raise CellError(
                _("%(label)s被Excel转换为数字，后几位已丢失，请将该列设置为文本后重新导出")
                % {"label": label}
            )
        if not value.is_integer():
            raise CellError(_("%(label)s格式错误：%(value)s") % {"label": label, "value": value})
        value = int(value)
    raw = text(value)
    wrapped = _FORMULA_TEXT(raw)
    if wrapped:
        raw = wrapped[1].strip()
    raw = raw.removeprefix("'").strip()
    if not raw:
        raise CellError(_("%(label)s不能为空") % {"label": label})
    if len(raw) > KEY_MAX:
        raise CellError(
            _("%(label)s超过%(max)s个字符：%(value)s…")
            % {"label": label, "max": KEY_MAX, "value": raw[:KEY_MAX]}
        )
    if any(c.isspace() for c in raw):
        raise CellError(_("%(label)s中不能有空格：%(value)s") % {"label": label, "value": raw})
    return raw


class _Checks:
    """The checks of one file, with what they learn on the way.

    A statement repeats a few values endlessly: the tiers, the days of the month, the years,
    the birthplace-and-birth-date heads of a county's ID numbers. Each is checked in full once
    and then recognised, so the usual row costs a handful of look-ups; a value seen for the
    first time, and every bad one, goes through the full rules, which also word the reason.
    What the quick path accepts is exactly what the full rules accept.
    """

    def __init__(self, month: datetime.date, date_label: str) -> None:
        self.today = timezone.localdate()
        self.first = month.replace(day=1)
        end = first_of_next_month(self.first)
        self.days = {
            (self.first + datetime.timedelta(days=n)).isoformat()
            for n in range((end - self.first).days)
        }
        self.date_label = date_label
        self.years = frozenset(str(y) for y in range(FIRST_YEAR, month.year + 2))
        self.amounts: dict[str, str] = {}  # cell text -> amount as staged
        # ID number: the weighted sum of its first 14 characters (birthplace and birth date),
        # or -1 when they are not digits with a real birth date from 1900 to today.
        self.heads: dict[str, int] = {}

    def day(self, value: object) -> str:
        if value.__class__ is str and value in self.days:
            return value  # type: ignore[return-value]
        day = parse_date(value).isoformat()
        if day not in self.days:
            raise CellError(
                _("%(label)s %(day)s 不在 %(month)s 月内")
                % {"label": self.date_label, "day": day, "month": f"{self.first:%Y-%m}"}
            )
        return day

    def year(self, value: object) -> str:
        if value.__class__ is str and value in self.years:
            return value  # type: ignore[return-value]
        raw = text(value)
        for suffix in YEAR_SUFFIXES:
            raw = raw.removesuffix(suffix)
        raw = raw.strip()
        raw = raw.removesuffix(".0")
        if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
            raise CellError(_("缴费年度应为四位年份：%(value)s") % {"value": text(value)})
        if raw not in self.years:
            last = max(self.years)
            raise CellError(
                _("缴费年度 %(year)s 不合理（应在 %(first)s 至 %(last)s 年之间）")
                % {"year": raw, "first": FIRST_YEAR, "last": last}
            )
        return raw

    def amount(self, value: object, label: str) -> str:
        """A positive sum of yuan with at most two decimals, as text for COPY."""
        known = self.amounts.get(value) if value.__class__ is str else None  # type: ignore[arg-type]
        if known is not None:
            return known
        if value.__class__ is str and _PLAIN_AMOUNT(value):
            if value.strip("0.") == "":  # type: ignore[attr-defined]
                raise CellError(
                    _("%(label)s必须大于零：%(value)s") % {"label": label, "value": value}
                )
            staged = value
        else:
            amount = parse_decimal(value)
            if amount <= 0:
                raise CellError(
                    _("%(label)s必须大于零：%(value)s") % {"label": label, "value": amount}
                )
            if amount >= AMOUNT_LIMIT:
                raise CellError(_("%(label)s过大：%(value)s") % {"label": label, "value": amount})
            staged = str(amount)
        if value.__class__ is str:
            self.amounts[value] = staged  # type: ignore[index]
        return staged  # type: ignore[return-value]

    def head(self, first14: str) -> int:
        total = -1
        if first14.isascii() and first14.isdigit():
            try:
                born = datetime.date(int(first14[6:10]), int(first14[10:12]), int(first14[12:]))
            except ValueError:
                born = None
            if born is not None and EARLIEST_BIRTH <= born <= self.today:
                total = sum(w * int(d) for w, d in zip(_WEIGHTS, first14, strict=False))
        self.heads[first14] = total
        return total

    def id_number(self, value: object) -> str:
        if value.__class__ is str and len(value) == 18:  # type: ignore[arg-type]
            number: str = value  # type: ignore[assignment]
            head = self.heads.get(number[:14])
            if head is None:
                head = self.head(number[:14])
            tail = _TAILS.get(number[14:17])
            if head >= 0 and tail is not None and _CHECK[(head + tail) % 11] == number[17]:
                return number
        return idnumber.parse(parse_id_number(value), today=self.today).number


def _open(source, columns, filename: str | None) -> Table:
    return read_table(source, columns=columns, filename=filename, max_bytes=FILE_MAX_BYTES)


# --- the two statements -----------------------------------------------------------------------


def read_tax_statement(
    source, *, month: datetime.date, filename: str | None = None
) -> tuple[StatementRead, Iterator[tuple]]:
    """Open a tax collection detail (税务征收明细): what was read, and the rows to stage.

    A structural fault (not a spreadsheet, no header, a required column missing) raises
    SpreadsheetError here, before anything is staged; one found while reading raises it from
    the iterator. Accepted rows come out as TAX_STAGE_COLUMNS tuples of text.
    """
    table = _open(source, TAX_COLUMNS, filename)
    read = StatementRead()
    return read, _tax_rows(table, month, read)


def _tax_rows(table: Table, month: datetime.date, read: StatementRead) -> Iterator[tuple]:
    checks = _Checks(month, PAID_ON_COLUMN.label)
    heads, amounts, days, years = checks.heads, checks.amounts, checks.days, checks.years
    tails, check_chars, key_max, name_max = _TAILS, _CHECK, KEY_MAX, NAME_MAX
    seen: dict[str, int] = {}  # key -> the row that first had it
    reject, repeat = read.rejected.append, read.repeated.append
    rows = 0
    for row_number, cells in table.rows():
        rows += 1
        voucher, number, name, year, tier, amount, paid_on = cells
        name = text(name)
        # The usual row, as a CSV export spells it: every value recognised at once.
        if not (
            voucher.__class__ is str
            and voucher.isalnum()
            and voucher.isascii()
            and len(voucher) <= key_max
            and number.__class__ is str
            and len(number) == 18
            and (head := heads.get(number[:14], -1)) >= 0
            and (tail := tails.get(number[14:17])) is not None
            and check_chars[(head + tail) % 11] == number[17]
            and 0 < len(name) <= name_max
            and year in years
            and amount in amounts
            and (tier is None or tier == "" or tier in amounts)
            and paid_on in days
        ):
            column, cell = VOUCHER_COLUMN.label, voucher
            try:
                voucher = _key(voucher, column)
                column, cell = ID_COLUMN.label, number
                number = checks.id_number(number)
                column, cell = NAME_COLUMN.label, name
                if not name:
                    raise CellError(_("%(label)s不能为空") % {"label": column})
                if len(name) > name_max:
                    raise CellError(
                        _("%(label)s超过%(max)s个字符") % {"label": column, "max": name_max}
                    )
                column, cell = YEAR_COLUMN.label, year
                year = checks.year(year)
                column, cell = TIER_COLUMN.label, tier
                tier = "" if _is_blank(tier) else checks.amount(tier, column)
                column, cell = AMOUNT_COLUMN.label, amount
                amount = checks.amount(amount, column)
                column, cell = PAID_ON_COLUMN.label, paid_on
                paid_on = checks.day(paid_on)
            except (CellError, idnumber.InvalidIDNumber) as exc:
                reject(Rejection(row_number, column, exc.message, _shown(cell)))
                continue
        else:
            amount = amounts[amount]
            tier = "" if tier is None or tier == "" else amounts[tier]
        if voucher in seen:
            repeat((row_number, voucher, seen[voucher]))
            continue
        seen[voucher] = row_number
        yield (str(row_number), voucher, number, name, year, tier, amount, paid_on)
    read.rows = rows


def read_bank_statement(
    source, *, month: datetime.date, filename: str | None = None
) -> tuple[StatementRead, Iterator[tuple]]:
    """Open a bank collection flow (银行流水); as read_tax_statement, rows as
    BANK_STAGE_COLUMNS. The voucher may be blank: not every bank passes it on."""
    table = _open(source, BANK_COLUMNS, filename)
    read = StatementRead()
    return read, _bank_rows(table, month, read)


def _bank_rows(table: Table, month: datetime.date, read: StatementRead) -> Iterator[tuple]:
    checks = _Checks(month, TRADED_ON_COLUMN.label)
    heads, amounts, days = checks.heads, checks.amounts, checks.days
    tails, check_chars, key_max = _TAILS, _CHECK, KEY_MAX
    seen: dict[str, int] = {}  # key -> the row that first had it
    reject, repeat = read.rejected.append, read.repeated.append
    rows = 0
    for row_number, cells in table.rows():
        rows += 1
        serial, voucher, number, amount, traded_on = cells
        if voucher is None:
            voucher = ""
        if not (
            serial.__class__ is str
            and serial.isalnum()
            and serial.isascii()
            and len(serial) <= key_max
            and voucher.__class__ is str
            and (voucher == "" or (voucher.isalnum() and voucher.isascii()))
            and len(voucher) <= key_max
            and number.__class__ is str
            and len(number) == 18
            and (head := heads.get(number[:14], -1)) >= 0
            and (tail := tails.get(number[14:17])) is not None
            and check_chars[(head + tail) % 11] == number[17]
            and amount in amounts
            and traded_on in days
        ):
            column, cell = SERIAL_COLUMN.label, serial
            try:
                serial = _key(serial, column)
                column, cell = BANK_VOUCHER_COLUMN.label, voucher
                voucher = "" if _is_blank(voucher) else _key(voucher, column)
                column, cell = ID_COLUMN.label, number
                number = checks.id_number(number)
                column, cell = BANK_AMOUNT_COLUMN.label, amount
                amount = checks.amount(amount, column)
                column, cell = TRADED_ON_COLUMN.label, traded_on
                traded_on = checks.day(traded_on)
            except (CellError, idnumber.InvalidIDNumber) as exc:
                reject(Rejection(row_number, column, exc.message, _shown(cell)))
                continue
        else:
            amount = amounts[amount]
        if serial in seen:
            repeat((row_number, serial, seen[serial]))
            continue
        seen[serial] = row_number
        yield (str(row_number), serial, voucher, number, amount, traded_on)
    read.rows = rows


def _shown(value: object) -> str:
    return "" if value is None else text(value)[:100]


__all__ = [
    "BANK_COLUMNS",
    "BANK_STAGE_COLUMNS",
    "TAX_COLUMNS",
    "TAX_STAGE_COLUMNS",
    "StatementRead",
    "read_bank_statement",
    "read_tax_statement",
]
