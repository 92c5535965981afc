"""Generated tax collection details and bank flows, good rows mixed with bad ones, in every shape
a county receives them: whatever the file, the import stores exactly its valid new lines or
refuses it whole with Chinese reasons naming row and column, and a refused file stores nothing.

Each generated cell knows what it must read as (a voucher, an amount, a day of the month) or that
it is bad, so the expected lines are known by construction. A July statement is on file before
each example (its lines may come again, the same or changed); every example runs inside a
savepoint that is rolled back.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pension import idnumber
from pension.models import AuditEntry
from pension.tests import fuzzing
from pension.tests.fuzzing import (
    BAD,
    FORMATS,
    FULL_WIDTH_DIGITS,
    FUZZ,
    SAME,
    assert_chinese,
    id_for,
    is_formula,
    mangled,
    rolled_back,
    write,
)
from reconciliation.models import BankLine, Statement, TaxLine
from reconciliation.services.statements import StatementRefused, statement_import

MONTH = datetime.date(2023, 7, 1)
COUNTY = "530927"


PERSON = id_for(datetime.date(1970, 5, 17), 11)
# The first line of each July statement on file before every example, as it reads.
OLD_TAX = {"voucher": "OLD1", "id_number": PERSON, "name": "岩块", "year": 2023}
OLD_TAX |= {"tier": Decimal("300.00"), "amount": Decimal("300.00")}
OLD_TAX |= {"paid_on": datetime.date(2023, 7, 5)}
OLD_BANK = {"serial": "BOLD1", "voucher": "OLD1", "id_number": PERSON}
OLD_BANK |= {"amount": Decimal("300.00"), "traded_on": datetime.date(2023, 7, 6)}


@pytest.fixture
def july_on_file(county):
    tax = (
        "电子税票号码,证件号码,姓名,缴费年度,缴费档次,实缴金额,入库日期\n"
        f"OLD1,{PERSON},岩块,2023,300,300.00,2023-07-05\n"
        f"OLD2,{PERSON},岩块,2023,,500.00,2023-07-09\n"
    )
    bank = (
        "银行流水号,电子税票号码,证件号码,交易金额,交易日期\n"
        f"BOLD1,OLD1,{PERSON},300.00,2023-07-06\n"
        f"BOLD2,,{PERSON},500.00,2023-07-10\n"
    )
    for source, text in (("tax", tax), ("bank", bank)):
        result = statement_import(
            source=source, county=county, month=MONTH, source_file=text.encode(),
            filename=f"{source}.csv",
        )  # fmt: skip
        assert result.created == 2


TAX_FIELDS = ("voucher_no", "id_number", "name", "contribution_year", "tier", "amount", "paid_on")
BANK_FIELDS = ("serial_no", "voucher_no", "id_number", "amount", "traded_on")


def tables() -> tuple:
    """Everything a statement import may write, in a comparable form."""
    return (
        sorted(
            Statement.objects.values_list("source", "month", "sha256", "rows", "created", "total")
        ),
        sorted(TaxLine.objects.values_list(*TAX_FIELDS, "statement_id", "region_code")),
        sorted(BankLine.objects.values_list(*BANK_FIELDS, "statement_id", "region_code")),
        sorted(AuditEntry.objects.values_list("action", "target_id")),
    )


# --- cells ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell(fuzzing.Cell):
    """A statement's cell: an empty one (a formula in a workbook reads as one) is bad unless
    the column says otherwise."""

    blank: object = BAD


# Free text: no comma or tab (they decide a CSV's delimiter), no control character (a workbook
# cannot hold one), no "#" (a workbook reads "#N/A" as an error value).
JUNK = "岩块嘎门艾倒那叶 abcXYZ019!@$%^&*()[]{}<>?/\\|'\";:+-=~`éü€￥ＡＢ　\u200b😀①٣"
LETTERS = "岩块嘎门艾倒那叶abcXYZéü"
NAME_CHARS = "岩块嘎门艾倒那叶肖春张王李赵陈刘杨黄周吴"
wordy_junk = st.text(alphabet=JUNK, min_size=1, max_size=30).filter(
    lambda text: any(c in LETTERS for c in text)
)


def words(choices: dict[str, object], blank: object = BAD) -> st.SearchStrategy[Cell]:
    return st.sampled_from([Cell(text, reads, blank) for text, reads in choices.items()])


@st.composite
def key_cells(draw, base: int, prefix: str, good: bool) -> Cell:
    """A voucher or bank serial: unique per `base`, in a usual spelling, or spoiled."""
    key = f"{prefix}{base}"
    if good:
        kind = draw(st.sampled_from(["plain"] * 4 + ["padded", "apostrophe", "chinese", "number"]))
        if kind == "padded":
            return Cell(f"  {key} ", key)
        if kind == "apostrophe":
            return Cell(f"'{key}", key)
        if kind == "chinese":
            return Cell(f"票{key}", f"票{key}")
        if kind == "number":  # digits only, in a number cell
            return Cell(str(base + 10), str(base + 10), typed=base + 10)
        return Cell(key, key)
    kind = draw(st.sampled_from(["blank", "space", "long", "quoted", "rounded", "fraction"]))
    if kind == "blank":
        return Cell(draw(st.sampled_from(["", " "])), BAD)
    if kind == "space":
        return Cell(f"{prefix} {base}", BAD)
    if kind == "long":
        return Cell(key + "9" * 40, BAD)
    if kind == "quoted":  # ="…" keeps a voucher as text in a CSV; a formula in a workbook
        return Cell(f'="{key}"', key)
    if kind == "rounded":  # 18 digits in a number cell: Excel has lost the last ones
        digits = f"{base:018d}"[-18:].replace("0", "7", 1)
        return Cell(digits, digits, typed=int(digits), typed_reads=BAD)
    return Cell(f"{base}.5", f"{base}.5", typed=base + 0.5, typed_reads=BAD)


GOOD_IDS = ["plain"] * 4 + ["padded", "full_width", "lower_x", "apostrophe", "fifteen"]
BAD_IDS = ["wrong_check", "blank", "junk", "short", "future", "scientific", "number"]


@st.composite
def id_cells(draw, number: str, good: bool) -> Cell:
    kind = draw(st.sampled_from(GOOD_IDS if good else BAD_IDS))
    if kind == "padded":
        return Cell(f" {number}\u3000", number)
    if kind == "full_width":
        return Cell(number.translate(FULL_WIDTH_DIGITS), number)
    if kind == "lower_x":
        return Cell(number.lower(), number)
    if kind == "apostrophe":
        return Cell(f"'{number}", number)
    if kind == "fifteen" and number[6:8] == "19":
        old = number[:6] + number[8:17]
        return Cell(old, number, typed=int(old))
    if kind == "wrong_check":
        wrong = draw(st.sampled_from([c for c in "0123456789X" if c != number[-1]]))
        return Cell(number[:17] + wrong, BAD)
    if kind == "blank":
        return Cell("", BAD)
    if kind == "junk":
        return Cell(draw(wordy_junk), BAD)
    if kind == "short":
        return Cell(number[:17], BAD)
    if kind == "future":
        return Cell(id_for(datetime.date(2099, 1, 1), draw(st.integers(0, 999))), BAD)
    if kind == "scientific":
        return Cell(f"{number[0]}.{number[1:6]}E+17", BAD)
    if kind == "number" and number[-1] != "X":
        return Cell(number, number, typed=int(number), typed_reads=BAD)
    return Cell(number, number)


@st.composite
def name_cells(draw, good: bool) -> Cell:
    """A payer's name: at most 50 characters; blank or longer is bad."""
    if not good:
        kind = draw(st.sampled_from(["blank", "long", "formula"]))
        if kind == "long":
            return Cell(draw(st.text(alphabet=NAME_CHARS, min_size=51, max_size=60)), BAD)
        if kind == "formula":
            return Cell("=1+1", "=1+1")
        return Cell(draw(st.sampled_from(["", "  ", "\u3000"])), BAD)
    text = draw(
        st.one_of(
            st.text(alphabet=NAME_CHARS, min_size=1, max_size=4),
            st.text(alphabet=NAME_CHARS, min_size=50, max_size=50),
            wordy_junk.filter(lambda t: not is_formula(t)),
        )
    )
    padded = draw(st.sampled_from([text, f" {text}\u3000"]))
    return Cell(padded, padded.replace("\u3000", " ").strip())


GOOD_YEARS = st.one_of(
    words({"2023": 2023, "2023年": 2023, "2023年度": 2023, " 2022 ": 2022, "2024": 2024}),
    words({"2009": 2009, "2023.0": 2023}),
    st.just(Cell("2023", 2023, typed=2023)),
)
BAD_YEARS = words({"23": BAD, "2008": BAD, "2025": BAD, "二〇二三": BAD, "2023.5": BAD, "": BAD})


@st.composite
def amount_cells(draw, good: bool, blank: object = BAD) -> Cell:
    """Yuan with at most two decimals, in the usual spellings; bad ones are not positive, not
    numbers, too precise or too large."""
    if good:
        cents = draw(st.integers(1, 999_999_999_999))
        amount = Decimal(cents) / 100
        kind = draw(st.sampled_from(["plain", "plain", "comma", "yuan", "currency", "number"]))
        if kind == "comma":
            return Cell(f"{amount:,.2f}", amount, blank)
        if kind == "yuan":
            return Cell(f"{amount}元", amount, blank)
        if kind == "currency":
            return Cell(f"￥{amount}", amount, blank)
        if kind == "number" and cents < 10**12:
            return Cell(str(amount), amount, blank, typed=float(amount))
        return Cell(str(amount), amount, blank)
    return draw(
        st.one_of(
            words({"0": BAD, "0.00": BAD, "-300": BAD, "abc": BAD, "1e3": BAD}, blank),
            words({"300.001": BAD, "10000000000": BAD, "nan": BAD, "Infinity": BAD}, blank),
            st.just(Cell("300.005", BAD, blank, typed=300.005)),
        )
    )


@st.composite
def day_cells(draw, good: bool) -> Cell:
    """A day of July 2023 in a usual spelling, or outside the month, impossible or unreadable."""
    day = draw(st.dates(MONTH, datetime.date(2023, 7, 31)))
    if good:
        kind = draw(st.sampled_from(["iso", "slash", "dots", "digits", "chinese", "date", "time"]))
        spelled = {
            "iso": day.isoformat(),
            "slash": f"{day.year}/{day.month}/{day.day}",
            "dots": f"{day.year}.{day.month}.{day.day}",
            "digits": f"{day:%Y%m%d}",
            "chinese": f"{day.year}年{day.month}月{day.day}日",
        }
        if kind == "date":
            return Cell(day.isoformat(), day, typed=day)
        if kind == "time":
            moment = datetime.datetime.combine(day, datetime.time(9, 30))
            return Cell(f"{day} 09:30:00", day, typed=moment)
        return Cell(spelled[kind], day)
    outside = draw(st.sampled_from([datetime.date(2023, 6, 30), datetime.date(2023, 8, 1)]))
    return draw(
        st.one_of(
            st.just(Cell(outside.isoformat(), BAD, typed=outside)),
            words({"2023-07-32": BAD, f"{day:%d/%m/%Y}": BAD, "": BAD}),
            wordy_junk.map(lambda text: Cell(text, BAD)),
        )
    )


# --- files ----------------------------------------------------------------------------------

TITLE = "沧源佤族自治县2023年7月城乡居民养老保险费征收明细"


@dataclass
class Sheet:
    """A generated statement before it is written: header labels by column key, rows of cells."""

    labels: dict[str, str]
    order: list[str]
    rows: list[dict[str, Cell]]
    title: bool = True

    @property
    def header_row(self) -> int:
        return 2 if self.title else 1

    def numbered(self) -> Iterator[tuple[int, dict[str, Cell]]]:
        yield from enumerate(self.rows, self.header_row + 1)

    def grid(self, workbook: bool) -> list[list[object]]:
        lines: list[list[object]] = [[TITLE]] if self.title else []
        lines.append([self.labels[key] for key in self.order])
        for row in self.rows:
            cells = [row.get(key, Cell("", None)) for key in self.order]
            lines.append([c.workbook_value() if workbook else c.text for c in cells])
        return lines


@st.composite
def spoiled(draw, fields: tuple[str, ...]) -> set[str]:
    """Which cells of a row are bad: none in 8 rows of 12, one in 3, two in 1."""
    how_many = draw(st.sampled_from([0] * 8 + [1] * 3 + [2]))
    return set(draw(st.lists(st.sampled_from(fields), min_size=how_many, max_size=how_many)))


@st.composite
def people(draw, count: int) -> list[str]:
    """Payers' ID numbers; the same person may well pay twice in a month."""
    births = st.dates(datetime.date(1930, 1, 1), datetime.date(2007, 12, 31))
    numbers = st.builds(id_for, births, st.integers(0, 999))
    return draw(st.lists(numbers, min_size=count, max_size=count))


@st.composite
def sheets(draw, labels: dict[str, list[str]], required: list[str], row) -> tuple[Sheet, str]:
    """A statement of 1 to 10 lines, sometimes one line twice, in any column order and format."""
    optional = [key for key in labels if key not in required and not key.startswith("extra")]
    keys = required + [key for key in optional if draw(st.integers(0, 3))]
    keys += draw(st.lists(st.sampled_from(["extra_serial", "extra_note"]), unique=True))
    order = list(draw(st.permutations(keys)))
    chosen = {key: draw(st.sampled_from(labels[key])) for key in order}
    count = draw(st.integers(1, 10))
    bases = draw(st.lists(st.integers(1, 10**9), min_size=count, max_size=count, unique=True))
    numbers = draw(people(count))
    rows = [draw(row(base, number)) for base, number in zip(bases, numbers, strict=True)]
    if draw(st.integers(0, 3)) == 0:  # a line twice, its key perhaps padded the second time
        again = dict(draw(st.sampled_from(rows)))
        key = "voucher" if "voucher" in required else "serial"
        if again and draw(st.booleans()):
            again[key] = dataclasses.replace(again[key], text=f" {again[key].text} ", typed=SAME)
        rows.insert(draw(st.integers(0, len(rows))), again)
    fmt = draw(st.sampled_from(FORMATS))
    # GB18030 files start with a title: one whose header comes first is a test of its own.
    title = draw(st.booleans()) or fmt == "csv_gb18030"
    return Sheet(chosen, order, rows, title), fmt


# Any extension, right or wrong: formats are told by content.
file_names = st.sampled_from(["对账单.csv", "对账单.xlsx", "对账单.xls", "对账单.txt", "对账单"])
EXTRAS = {"extra_serial": ["序号"], "extra_note": ["备注", "摘要"]}


def extras(draw) -> dict[str, Cell]:
    return {
        "extra_serial": Cell(str(draw(st.integers(1, 99))), None),
        "extra_note": Cell(draw(st.text(alphabet=JUNK, max_size=8)), None),
    }


# --- tax collection detail ------------------------------------------------------------------

TAX_LABELS = {
    "voucher": ["电子税票号码", "税票号码", "电子税票号", "凭证号"],
    "id_number": ["证件号码", "身份证号码", "公民身份号码", "缴费人证件号码"],
    "name": ["姓名", "缴费人姓名", "纳税人名称"],
    "year": ["缴费年度", "所属年度", "费款所属年度"],
    "tier": ["缴费档次", "档次", "缴费标准"],
    "amount": ["实缴金额", "缴费金额", "金额"],
    "paid_on": ["入库日期", "缴款日期"],
    **EXTRAS,
}
TAX_COLUMNS = {
    "voucher": "电子税票号码", "id_number": "证件号码", "name": "姓名", "year": "缴费年度",
    "tier": "缴费档次", "amount": "实缴金额", "paid_on": "入库日期",
}  # fmt: skip
TAX_REQUIRED = ["voucher", "id_number", "name", "year", "amount", "paid_on"]


@st.composite
def tax_rows(draw, base: int, number: str) -> dict[str, Cell]:
    if draw(st.integers(0, 19)) == 0:
        return {}
    if draw(st.integers(0, 9)) == 0:
        return draw(replayed_tax_rows())
    bad = draw(spoiled(tuple(TAX_COLUMNS)))
    if "tier" in bad:
        tier = draw(amount_cells(False, blank=None))
    else:  # the tier may be left blank
        tier = draw(st.one_of(st.just(Cell("", None, None)), amount_cells(True, blank=None)))
    return {
        "voucher": draw(key_cells(base, "T", "voucher" not in bad)),
        "id_number": draw(id_cells(number, "id_number" not in bad)),
        "name": draw(name_cells("name" not in bad)),
        "year": draw(BAD_YEARS if "year" in bad else GOOD_YEARS),
        "tier": tier,
        "amount": draw(amount_cells("amount" not in bad)),
        "paid_on": draw(day_cells("paid_on" not in bad)),
        **extras(draw),
    }


@st.composite
def replayed_tax_rows(draw) -> dict[str, Cell]:
    """A line of the statement on file, sent again as it was or with one value changed."""
    voucher = draw(st.sampled_from(["OLD1", " OLD1", "'OLD1"]))
    row = {
        "voucher": Cell(voucher, "OLD1"),
        "id_number": Cell(PERSON, PERSON),
        "name": Cell("岩块", "岩块"),
        "year": Cell("2023年", 2023),
        "tier": Cell("300", Decimal("300.00"), None),
        "amount": Cell("300", Decimal("300.00")),
        "paid_on": Cell("2023/7/5", datetime.date(2023, 7, 5)),
        **extras(draw),
    }
    changed = draw(st.sampled_from([None, "name", "amount", "tier", "paid_on"]))
    if changed == "name":
        row["name"] = Cell("岩嘎", "岩嘎")
    elif changed == "amount":
        row["amount"] = Cell("400", Decimal("400.00"))
    elif changed == "tier":
        row["tier"] = Cell("", None, None)
    elif changed == "paid_on":
        row["paid_on"] = Cell("2023-07-06", datetime.date(2023, 7, 6))
    return row


@dataclass
class Expected:
    rows: int = 0
    bad: dict[int, set[str]] = field(default_factory=dict)  # row -> columns it may name
    created: dict[str, tuple] = field(default_factory=dict)  # key -> stored line
    unchanged: list[Decimal] = field(default_factory=list)  # their amounts


def expected_lines(
    sheet: Sheet, workbook: bool, columns: dict[str, str], key: str, old: dict, line
) -> Expected:
    """What a statement must store: `line(values)` is a new row's stored line, `old` the line
    on file that a row with its key is compared with."""
    expected = Expected()
    present = set(sheet.order)
    first: dict[str, int] = {}
    for row_no, row in sheet.numbered():
        cells = {k: row[k] for k in present if k in row}
        if not cells or all(cell.is_blank_in(workbook) for cell in cells.values()):
            continue
        expected.rows += 1
        values = {k: cells[k].read_in(workbook) for k in cells if k in columns}
        bad = {columns[k] for k, value in values.items() if value is BAD}
        if bad:
            expected.bad[row_no] = bad
            continue
        stored = line(values)
        if values[key] in first:
            expected.bad[row_no] = {columns[key]}
            continue
        first[values[key]] = row_no
        if values[key] == old[key]:
            if stored == line(old):
                expected.unchanged.append(values["amount"])
            else:
                expected.bad[row_no] = {columns[key]}
            continue
        expected.created[values[key]] = stored
    return expected


def tax_line(values: dict) -> tuple:
    return (
        values["voucher"], values["id_number"], values["name"], values["year"],
        values.get("tier"), values["amount"], values["paid_on"],
    )  # fmt: skip


def bank_line(values: dict) -> tuple:
    return (
        values["serial"], values.get("voucher") or "", values["id_number"], values["amount"],
        values["traded_on"],
    )  # fmt: skip


def check_outcome(result, expected: Expected, strict: bool, columns: set[str]) -> bool:
    """Rows, rejections and refusal as the file demands; True when lines were written."""
    assert result.rows == expected.rows
    rows = [r.row for r in result.rejected]
    assert len(rows) == len(set(rows)), f"a row rejected twice: {rows}"
    assert set(rows) == set(expected.bad), (sorted(rows), sorted(expected.bad))
    for rejection in result.rejected:
        assert rejection.column in expected.bad[rejection.row] & columns, rejection
        assert_chinese(rejection.reason)
        assert str(rejection).startswith(f"第{rejection.row}行 〈{rejection.column}〉")
    bad = len(expected.bad)
    refused = expected.rows == 0 or (strict and bad > 0) or bad * 2 > expected.rows
    assert bool(result.refused_reason) == refused
    assert result.applied == (not refused)
    if refused:
        assert_chinese(result.refused_reason)
        return False
    assert result.created == len(expected.created)
    assert result.unchanged == len(expected.unchanged)
    return bool(expected.created)


@given(
    drawn=sheets(TAX_LABELS, TAX_REQUIRED, tax_rows),
    strict=st.sampled_from([False, False, False, True]),
    data=st.data(),
)
@FUZZ
def test_a_tax_statement_stores_exactly_its_valid_new_lines_or_nothing(
    county, july_on_file, drawn, strict, data
):
    sheet, fmt = drawn
    expected = expected_lines(sheet, fmt == "xlsx", TAX_COLUMNS, "voucher", OLD_TAX, tax_line)
    with rolled_back():
        before = tables()
        result = statement_import(
            source="tax", county=county, month=MONTH, source_file=io.BytesIO(write(sheet, fmt)),
            filename=data.draw(file_names), strict=strict,
        )  # fmt: skip
        after = tables()
        stored = TaxLine.objects.exclude(voucher_no__in=["OLD1", "OLD2"])
        lines = {line[0]: line for line in stored.values_list(*TAX_FIELDS)}
        places = set(stored.values_list("region_code", "month"))
        statements = Statement.objects.count()

    if not check_outcome(result, expected, strict, set(TAX_COLUMNS.values())):
        assert after == before and result.statement is None
        return
    assert lines == expected.created
    assert places == {(COUNTY, MONTH)}
    total = sum(line[5] for line in expected.created.values()) + sum(expected.unchanged)
    assert result.total == total and result.statement.total == total
    assert (result.statement.rows, result.statement.created) == (expected.rows, len(lines))
    assert statements == 3


# --- bank flow ------------------------------------------------------------------------------

BANK_LABELS = {
    "serial": ["银行流水号", "流水号", "交易流水号"],
    "voucher": ["电子税票号码", "电子税票号"],
    "id_number": ["证件号码", "身份证号码", "证件号"],
    "amount": ["交易金额", "金额", "入账金额", "发生额"],
    "traded_on": ["交易日期", "记账日期", "入账日期"],
    **EXTRAS,
}
BANK_COLUMNS = {
    "serial": "银行流水号", "voucher": "电子税票号码", "id_number": "证件号码",
    "amount": "交易金额", "traded_on": "交易日期",
}  # fmt: skip
BANK_REQUIRED = ["serial", "id_number", "amount", "traded_on"]


@st.composite
def bank_rows(draw, base: int, number: str) -> dict[str, Cell]:
    if draw(st.integers(0, 19)) == 0:
        return {}
    if draw(st.integers(0, 9)) == 0:
        changed = draw(st.sampled_from([None, "voucher", "amount"]))
        amount = "301" if changed == "amount" else "300.0"
        return {
            "serial": Cell(draw(st.sampled_from(["BOLD1", "'BOLD1"])), "BOLD1"),
            "voucher": Cell("", "") if changed == "voucher" else Cell("OLD1", "OLD1"),
            "id_number": Cell(PERSON, PERSON),
            "amount": Cell(amount, Decimal(amount)),
            "traded_on": Cell("2023年7月6日", datetime.date(2023, 7, 6)),
            **extras(draw),
        }
    bad = draw(spoiled(tuple(BANK_COLUMNS)))
    # The voucher may be left out by a bank: blank is good here, and so is a formula (which a
    # workbook reads as blank). A cell of spaces is the subject of its own test below.
    if "voucher" in bad:
        voucher = draw(key_cells(base, "T", False).filter(lambda c: c.text.strip() != ""))
    else:
        voucher = draw(st.one_of(st.just(Cell("", "")), key_cells(base, "T", True)))
    voucher = dataclasses.replace(voucher, blank="")
    return {
        "serial": draw(key_cells(base, "B", "serial" not in bad)),
        "voucher": voucher,
        "id_number": draw(id_cells(number, "id_number" not in bad)),
        "amount": draw(amount_cells("amount" not in bad)),
        "traded_on": draw(day_cells("traded_on" not in bad)),
        **extras(draw),
    }


@given(
    drawn=sheets(BANK_LABELS, BANK_REQUIRED, bank_rows),
    strict=st.sampled_from([False, False, False, True]),
    data=st.data(),
)
@FUZZ
def test_a_bank_statement_stores_exactly_its_valid_new_lines_or_nothing(
    county, july_on_file, drawn, strict, data
):
    sheet, fmt = drawn
    expected = expected_lines(sheet, fmt == "xlsx", BANK_COLUMNS, "serial", OLD_BANK, bank_line)
    with rolled_back():
        before = tables()
        result = statement_import(
            source="bank", county=county, month=MONTH, source_file=io.BytesIO(write(sheet, fmt)),
            filename=data.draw(file_names), strict=strict,
        )  # fmt: skip
        after = tables()
        lines = {
            line[0]: line
            for line in BankLine.objects.exclude(serial_no__in=["BOLD1", "BOLD2"]).values_list(
                *BANK_FIELDS
            )
        }

    if not check_outcome(result, expected, strict, set(BANK_COLUMNS.values())):
        assert after == before and result.statement is None
        return
    assert lines == expected.created
    total = sum(line[3] for line in expected.created.values()) + sum(expected.unchanged)
    assert result.total == total == result.statement.total


# --- structural faults and damaged bytes -----------------------------------------------------


@st.composite
def broken_headers(draw) -> tuple[str, Sheet, str, str]:
    """A well-formed statement whose header is spoiled, and words its refusal must contain."""
    source = draw(st.sampled_from(["tax", "bank"]))
    labels, required, row = (
        (TAX_LABELS, TAX_REQUIRED, tax_rows) if source == "tax" else
        (BANK_LABELS, BANK_REQUIRED, bank_rows)
    )  # fmt: skip
    sheet, fmt = draw(sheets(labels, required, row))
    fault = draw(st.sampled_from(["missing", "twice", "no_header", "other_statement"]))
    order, chosen = list(sheet.order), dict(sheet.labels)
    if fault == "missing":
        order.remove(draw(st.sampled_from(required)))
        return source, Sheet(chosen, order, sheet.rows), fmt, "缺少必需的列"
    if fault == "twice":
        key = draw(st.sampled_from(["id_number", "amount"]))
        chosen["again"] = draw(st.sampled_from([n for n in labels[key] if n != chosen[key]]))
        order.insert(draw(st.integers(0, len(order))), "again")
        return source, Sheet(chosen, order, sheet.rows), fmt, "出现了多次"
    if fault == "no_header":
        return source, Sheet(dict.fromkeys(order, ""), order, sheet.rows), fmt, "表头"
    # The other kind of statement: a bank flow sent as the tax detail, or the reverse.
    return ("bank" if source == "tax" else "tax"), sheet, fmt, "缺少必需的列"


@given(drawn=broken_headers())
@settings(FUZZ, max_examples=40)
def test_a_statement_with_a_broken_header_is_refused_whole_in_chinese(county, july_on_file, drawn):
    source, sheet, fmt, words = drawn
    with rolled_back():
        before = tables()
        with pytest.raises(StatementRefused) as refusal:
            statement_import(
                source=source, county=county, month=MONTH,
                source_file=io.BytesIO(write(sheet, fmt)), filename="对账单.csv",
            )  # fmt: skip
        assert tables() == before
    assert_chinese(str(refusal.value))
    assert words in str(refusal.value)


any_statement = st.one_of(
    st.tuples(st.just("tax"), sheets(TAX_LABELS, TAX_REQUIRED, tax_rows)),
    st.tuples(st.just("bank"), sheets(BANK_LABELS, BANK_REQUIRED, bank_rows)),
)


@given(drawn=any_statement, data=st.data())
@settings(FUZZ, max_examples=50)
def test_any_bytes_sent_as_a_statement_are_refused_in_chinese_or_stored_soundly(
    county, july_on_file, drawn, data
):
    source, (sheet, fmt) = drawn
    payload = data.draw(mangled(write(sheet, fmt)))
    columns = set((TAX_COLUMNS if source == "tax" else BANK_COLUMNS).values())
    with rolled_back():
        before = tables()
        try:
            result = statement_import(
                source=source, county=county, month=MONTH, source_file=io.BytesIO(payload),
                filename="对账单.xlsx",
            )  # fmt: skip
        except StatementRefused as exc:
            assert_chinese(str(exc))
            assert tables() == before
            return
        changed = tables() != before
        lines = list(
            TaxLine.objects.filter(statement=result.statement).values_list("id_number", "amount")
            if source == "tax"
            else BankLine.objects.filter(statement=result.statement).values_list(
                "id_number", "amount"
            )
        )
    for rejection in result.rejected:
        assert rejection.row >= 1 and rejection.column in columns, rejection
        assert_chinese(rejection.reason)
    if result.refused_reason:
        assert_chinese(result.refused_reason)
    if not result.applied or result.statement is None:
        assert not changed
    for number, amount in lines:
        assert idnumber.is_valid(number) and amount > 0


# --- what the properties found ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "header", "line"),
    [
        ("bank", "证件号码,银行流水号,交易金额,交易日期", f"{PERSON},B9,300,2023-07-06"),
        (
            "tax",
            "税票号码,证件号码,姓名,缴费年度,实缴金额,入库日期",
            f"T9,{PERSON},岩块,2023,300,2023-07-05",
        ),
        (
            "tax",
            "实缴金额,电子税票号码,证件号码,姓名,缴费年度,入库日期",
            f"300,T9,{PERSON},岩块,2023,2023-07-05",
        ),
    ],
)
def test_a_gb18030_statement_is_read_whatever_its_first_column(county, source, header, line):
    payload = f"{header}\n{line}\n".encode("gb18030")
    with rolled_back():
        result = statement_import(
            source=source, county=county, month=MONTH, source_file=payload, filename="x.csv"
        )
    assert result.applied and result.created == 1


@pytest.mark.parametrize(
    ("source", "header", "line"),
    [
        (
            "bank",
            "银行流水号,电子税票号码,证件号码,交易金额,交易日期",
            f"B9, ,{PERSON},300,2023-07-06",
        ),
        (
            "tax",
            "电子税票号码,证件号码,姓名,缴费年度,缴费档次,实缴金额,入库日期",
            f"T9,{PERSON},岩块,2023, ,300,2023-07-05",
        ),
    ],
)
def test_an_optional_cell_holding_a_space_reads_as_empty(county, source, header, line):
    with rolled_back():
        result = statement_import(
            source=source, county=county, month=MONTH, source_file=f"{header}\n{line}\n".encode(),
            filename="x.csv",
        )  # fmt: skip
    assert result.rejected == [] and result.created == 1
