"""Generated target sheets (参保任务数表), good rows mixed with bad ones, in every shape a county
office sends them: whatever the file, the import sets exactly the targets it lists or, when any
row is bad, refuses it whole with Chinese reasons naming row and column and sets nothing.

Each generated row knows which township or village it names and what its count reads as, so the
expected targets are known by construction. Every example runs inside a savepoint that is rolled
back, so the one target on file (糯良村, 250) is there at the start of each.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collection.models import Target
from collection.services.progress import TargetRefused, targets_import
from conftest import make_user, make_village
from pension.models import AuditEntry, User
from pension.spreadsheets import SpreadsheetError
from pension.tests.fuzzing import (
    BAD,
    FORMATS,
    FUZZ,
    assert_chinese,
    mangled,
    rolled_back,
    write,
)

FUZZ = settings(FUZZ, max_examples=200)
YEAR = 2023
NUOLIANG, MENGLAI = "530927203", "530927204"  # 糯良乡, 勐来乡
TOWNSHIP_OF = {
    "糯良乡": NUOLIANG, "糯良": NUOLIANG, " 糯良乡 ": NUOLIANG, "勐来乡": MENGLAI, "勐来": MENGLAI,
    "勐董镇": "530927101", "勐董": "530927101", "勐省镇": "530927103", "勐省农场": "530927401",
    "勐角傣族彝族拉祜族乡": "530927205", "班老乡": "530927207",
}  # fmt: skip
# Not a township of the county: unknown, ambiguous (勐省镇 or 勐省农场), blank, or a total
# line's word with a village beside it.
BAD_TOWNSHIPS = ["勐省", "芒回乡", "糯良镇镇", "", "小计"]
VILLAGE_OF = {
    (NUOLIANG, "糯良村"): "530927203200", (NUOLIANG, "糯良"): "530927203200",
    (NUOLIANG, "糯良村委会"): "530927203200", (NUOLIANG, "班考村"): "530927203201",
    (NUOLIANG, "芒回村"): "530927203202", (NUOLIANG, "芒回社区"): "530927203203",
    (MENGLAI, "民良村"): "530927204200", (MENGLAI, "民良"): "530927204200",
}  # fmt: skip
# Not a village of the township named: unknown, ambiguous (芒回村 or 芒回社区), or elsewhere.
BAD_VILLAGES = ["芒回", "不存在村", "民良村", "糯良村"]
TOTAL_WORDS = ("合计", "总计", "全县合计", "小计")
ON_FILE = {"530927203200": 250}


@pytest.fixture
def units(township, other_township):
    """The county's villages by the targets' names (two of them both "芒回"), and a target on
    file for 糯良村."""
    make_village(township, 200, "糯良村")
    make_village(township, 201, "班考村")
    make_village(township, 202, "芒回村")
    make_village(township, 203, "芒回社区")
    make_village(other_township, 200, "民良村")
    for code, count in ON_FILE.items():
        Target.objects.create(region_id=code, year=YEAR, count=count)


@pytest.fixture
def actors(county, township):
    return {
        "system": None,
        "county": make_user("cangyuan", User.Role.COUNTY, county),
        "township": make_user("nuoliang", User.Role.TOWNSHIP, township),
    }


def tables() -> tuple:
    return (
        sorted(Target.objects.values_list("region_id", "year", "count", "set_by_id")),
        sorted(AuditEntry.objects.values_list("action", "target_id", "region_code")),
    )


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a target sheet: the texts (or a workbook's typed count) and what the count
    reads as; the unit is resolved from the texts against the tables above."""

    township: str
    village: str
    count_text: str
    count: object  # int, or BAD
    typed: object = None  # what a workbook holds instead of the count text

    def cells(self, workbook: bool) -> dict[str, object]:
        count = self.typed if workbook and self.typed is not None else self.count_text
        if workbook:
            return {"township": self.township or None, "village": self.village or None,
                    "count": count if count != "" else None}  # fmt: skip
        return {"township": self.township, "village": self.village, "count": count}


GOOD_COUNTS = {
    "1200": 1200, "1,200": 1200, "1，200": 1200, "300人": 300, " 300 ": 300, "12.0": 12,
    "0": 0, "-0": 0, "+5": 5, "٣٠٠": 300, "１２": 12,
}  # fmt: skip
BAD_COUNTS = {"12.5": BAD, "-5": BAD, "很多": BAD, "": BAD, "1e3": BAD, "3.2万": BAD}


@st.composite
def counts(draw, good: bool) -> tuple[str, object, object]:
    """(text, what it reads as, a workbook's typed value or None)."""
    if good:
        kind = draw(st.sampled_from(["spelled", "plain", "plain", "typed"]))
        if kind == "spelled":
            text = draw(st.sampled_from(sorted(GOOD_COUNTS)))
            return text, GOOD_COUNTS[text], None
        number = draw(st.integers(0, 999_999))
        return str(number), number, number if kind == "typed" else None
    if draw(st.booleans()):
        return "12.5", BAD, 12.5
    text = draw(st.sampled_from(sorted(BAD_COUNTS)))
    return text, BAD, None


# Every township and village the sheets may name, each in the spellings that name it.
TOWNSHIP_UNITS = [(name, "", code) for name, code in TOWNSHIP_OF.items()]
VILLAGE_UNITS = [
    (name, village, VILLAGE_OF[(code, village)])
    for name, code in TOWNSHIP_OF.items()
    for (township, village) in VILLAGE_OF
    if township == code
]


@st.composite
def good_rows(draw, units: list[tuple[str, str, str]], count: int) -> list[Row]:
    """`count` lines (or fewer) for distinct units, each with a count it may set."""
    chosen = draw(st.lists(st.sampled_from(units), unique_by=lambda u: u[2], max_size=count))
    lines = []
    for township, village, code in chosen:
        if code in ON_FILE and draw(st.booleans()):
            text, number, typed = str(ON_FILE[code]), ON_FILE[code], None  # the same again
        else:
            text, number, typed = draw(counts(True))
        lines.append(Row(township, village, text, number, typed))
    return lines


@st.composite
def bad_rows(draw, lines: list[Row]) -> Row:
    """A line that spoils the sheet: an unknown township or village, a bad count, a unit twice."""
    kind = draw(st.sampled_from(["township", "village", "count", "twice"]))
    if kind == "twice" and lines:
        again = draw(st.sampled_from(lines))
        return Row(again.township, again.village, "7", 7)
    if kind == "village":
        township = draw(st.sampled_from(sorted(TOWNSHIP_OF)))
        known = {v for (t, v) in VILLAGE_OF if t == TOWNSHIP_OF[township]}
        village = draw(st.sampled_from([v for v in BAD_VILLAGES if v not in known]))
        return Row(township, village, "10", 10)
    if kind == "count":
        township, village, _ = draw(st.sampled_from(VILLAGE_UNITS))
        text, number, typed = draw(counts(False))
        return Row(township, village, text, number, typed)
    township = draw(st.sampled_from(BAD_TOWNSHIPS))
    return Row(township, draw(st.sampled_from(["", "糯良村"])), "10", 10)


total_rows = st.sampled_from(TOTAL_WORDS).map(lambda word: Row(word, "", "2300", 2300))
blank_rows = st.just(Row("", "", "", BAD))


# --- files ----------------------------------------------------------------------------------

LABELS = {
    "township": ["乡镇", "乡镇(街道)", "乡(镇)", "乡镇名称", "街道"],
    "village": ["村", "村(社区)", "社区", "村(居)委会", "村名称"],
    "count": ["任务数", "参保任务数", "任务数(人)", "参保任务数(人)"],
}
TITLE = "沧源佤族自治县2023年城乡居民养老保险参保任务数"


@dataclass
class Sheet:
    """A generated sheet before it is written: header labels by column key, and its lines."""

    labels: dict[str, str]
    order: list[str]
    rows: list[Row]
    title: bool = True

    def numbered(self) -> Iterator[tuple[int, Row]]:
        yield from enumerate(self.rows, 3 if self.title else 2)

    def grid(self, workbook: bool) -> list[list[object]]:
        lines: list[list[object]] = [[TITLE]] if self.title else []
        lines.append([self.labels[key] for key in self.order])
        for row in self.rows:
            cells = row.cells(workbook)
            lines.append([cells.get(key) for key in self.order])  # None: a column not ours
        return lines


@st.composite
def sheets(draw, actor: str) -> tuple[Sheet, str]:
    """A sheet of up to ten lines for distinct units, one in three spoiled by a bad line or two,
    sometimes with a total line or a blank one, in any column order and format. Township staff
    break their township's target down to villages, so their sheets name villages."""
    with_villages = actor == "township" or draw(st.integers(0, 3)) > 0
    keys = ["township", "count"] + (["village"] if with_villages else [])
    order = list(draw(st.permutations(keys)))
    labels = {key: draw(st.sampled_from(LABELS[key])) for key in order}
    if actor == "township":
        units = [u for u in VILLAGE_UNITS if u[2].startswith(NUOLIANG)]
    else:
        units = TOWNSHIP_UNITS + (VILLAGE_UNITS if with_villages else [])
    lines = draw(good_rows(units, 10))
    if draw(st.integers(0, 2)) == 0:
        for _ in range(draw(st.integers(1, 2))):
            lines.insert(draw(st.integers(0, len(lines))), draw(bad_rows(lines)))
    for extra in (total_rows, blank_rows):
        if draw(st.integers(0, 4)) == 0:
            lines.insert(draw(st.integers(0, len(lines))), draw(extra))
    fmt = draw(st.sampled_from(FORMATS))
    return Sheet(labels, order, lines, draw(st.booleans()) or fmt == "csv_gb18030"), fmt


actors_and_sheets = st.sampled_from(["county", "system", "township"]).flatmap(
    lambda actor: st.tuples(st.just(actor), sheets(actor))
)


@dataclass
class Expected:
    rows: int = 0
    bad: dict[int, set[str]] = field(default_factory=dict)  # row -> columns it may name
    counts: dict[str, int] = field(default_factory=dict)  # region code -> target


def expected_targets(sheet: Sheet, workbook: bool, actor: str) -> Expected:
    expected = Expected()
    has_village = "village" in sheet.order
    first: dict[str, int] = {}
    for row_no, row in sheet.numbered():
        village = row.village if has_village else ""
        cells = row.cells(workbook)
        if all(cells[key] in (None, "") for key in sheet.order):
            continue
        township = row.township.strip()
        if township in TOTAL_WORDS and not village:
            continue  # the sheet's total line
        expected.rows += 1
        code = TOWNSHIP_OF.get(row.township)
        if code is None:
            expected.bad[row_no] = {"乡镇"}
            continue
        if village:
            code = VILLAGE_OF.get((code, village))
            if code is None:
                expected.bad[row_no] = {"村"}
                continue
        if actor == "township" and (not village or not code.startswith(NUOLIANG)):
            expected.bad[row_no] = {"村" if village else "乡镇"}
            continue
        if code in first:
            expected.bad[row_no] = {"乡镇", "村"}
            continue
        first[code] = row_no
        if row.count is BAD:
            expected.bad[row_no] = {"任务数"}
            continue
        expected.counts[code] = row.count
    return expected


# Any extension, right or wrong: formats are told by content.
file_names = st.sampled_from(["任务数.csv", "任务数.xlsx", "任务数.xls", "任务数.txt", "任务数"])


@given(drawn=actors_and_sheets, filename=file_names)
@FUZZ
def test_a_target_sheet_sets_exactly_the_targets_it_lists_or_none(
    county, units, actors, drawn, filename
):
    actor, (sheet, fmt) = drawn
    expected = expected_targets(sheet, fmt == "xlsx", actor)
    with rolled_back():
        before = tables()
        result = targets_import(
            source=io.BytesIO(write(sheet, fmt)), county=county, year=YEAR,
            actor=actors[actor], filename=filename,
        )  # fmt: skip
        after = tables()
        targets = dict(Target.objects.filter(year=YEAR).values_list("region_id", "count"))

    assert result.rows == expected.rows
    rejected = [r.row for r in result.rejected]
    assert len(rejected) == len(set(rejected)), f"a row rejected twice: {rejected}"
    assert set(rejected) == set(expected.bad), (sorted(rejected), sorted(expected.bad))
    for rejection in result.rejected:
        assert rejection.column in expected.bad[rejection.row], rejection
        assert_chinese(rejection.reason)
        assert str(rejection).startswith(f"第{rejection.row}行 〈{rejection.column}〉")
    refused = expected.rows == 0 or bool(expected.bad)
    assert result.applied == (not refused)
    assert bool(result.refused_reason) == refused
    if refused:
        assert_chinese(result.refused_reason)
        assert after == before
        return
    assert targets == ON_FILE | expected.counts
    changed = {code for code, n in expected.counts.items() if ON_FILE.get(code) != n}
    assert result.created == len(changed - set(ON_FILE))
    assert result.updated == len(changed & set(ON_FILE))
    assert result.unchanged == len(expected.counts) - len(changed)
    assert len(after[1]) - len(before[1]) == len(changed)


# --- structural faults and damaged bytes -----------------------------------------------------


@st.composite
def broken_sheets(draw) -> tuple[Sheet, str, str]:
    """A well-formed sheet whose header is spoiled, and words its refusal must contain."""
    sheet, fmt = draw(sheets("system"))
    fault = draw(st.sampled_from(["no_count", "no_township", "twice", "no_header"]))
    order, labels = list(sheet.order), dict(sheet.labels)
    if fault in ("no_count", "no_township"):
        order.remove("count" if fault == "no_count" else "township")
        words = "缺少必需的列"
    elif fault == "twice":
        labels["again"] = draw(
            st.sampled_from([n for n in LABELS["count"] if n != labels["count"]])
        )
        order.insert(draw(st.integers(0, len(order))), "again")
        words = "出现了多次"
    else:
        labels = dict.fromkeys(order, "")
        words = "表头"
    return Sheet(labels, order, sheet.rows, True), fmt, words


@given(drawn=broken_sheets())
@settings(FUZZ, max_examples=50)
def test_a_target_sheet_with_a_broken_header_is_refused_whole_in_chinese(county, units, drawn):
    sheet, fmt, words = drawn
    with rolled_back():
        before = tables()
        with pytest.raises(SpreadsheetError) as refusal:
            targets_import(
                source=io.BytesIO(write(sheet, fmt)), county=county, year=YEAR,
                actor=None, filename="任务数.csv",
            )  # fmt: skip
        assert tables() == before
    assert_chinese(str(refusal.value))
    assert words in str(refusal.value)


@given(drawn=sheets("system"), data=st.data())
@settings(FUZZ, max_examples=100)
def test_any_bytes_sent_as_a_target_sheet_are_refused_in_chinese_or_applied_soundly(
    county, units, drawn, data
):
    sheet, fmt = drawn
    payload = data.draw(mangled(write(sheet, fmt)))
    with rolled_back():
        before = tables()
        try:
            result = targets_import(
                source=io.BytesIO(payload), county=county, year=YEAR, actor=None,
                filename="任务数.xlsx",
            )  # fmt: skip
        except (SpreadsheetError, TargetRefused) as exc:
            assert_chinese(str(exc))
            assert tables() == before
            return
        changed = tables() != before
        targets = list(Target.objects.filter(year=YEAR).values_list("region_id", "count"))
    for rejection in result.rejected:
        assert rejection.row >= 1 and rejection.column in {"乡镇", "村", "任务数"}, rejection
        assert_chinese(rejection.reason)
    if not result.applied:
        assert_chinese(result.refused_reason)
        assert not changed
    for code, count in targets:
        assert code.startswith("530927") and count >= 0


# --- what the properties found ----------------------------------------------------------------


@pytest.mark.parametrize("count", ["99999999999", "2147483648", "10000001"])
def test_a_count_too_large_to_store_is_a_rejected_row(county, units, count):
    with rolled_back():
        result = targets_import(
            source=f"乡镇,任务数\n糯良乡,{count}\n".encode(), county=county, year=YEAR,
            actor=None,
        )  # fmt: skip
        assert not Target.objects.filter(region_id=NUOLIANG).exists()
    assert [(r.row, r.column) for r in result.rejected] == [(2, "任务数")]
    assert_chinese(result.rejected[0].reason)
