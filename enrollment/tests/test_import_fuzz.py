"""Generated registry exports and department lists, good rows mixed with bad ones, in every shape
a county office sends them: whatever the file, the import applies exactly its valid rows or
refuses it whole with Chinese reasons naming row and column, and a refused file leaves every table
as it was.

Each generated cell knows what it must read as (a normalised ID number, a place, a date) or that
it is bad, so the expected outcome is known by construction rather than recomputed by the rules
under test. Every example runs inside a savepoint that is rolled back, so the residents on file
are the same three at the start of each one.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_group
from enrollment.models import Finding, Resident, SpecialGroupMembership
from enrollment.services.departments import EXCLUSION_CATEGORIES, MEMBERSHIP_CATEGORIES
from enrollment.services.jobs import ImportRefused, department_import, registry_import
from pension import idnumber
from pension.models import AuditEntry
from pension.tests.fuzzing import (
    BAD,
    FORMATS,
    FULL_WIDTH_DIGITS,
    FUZZ,
    SAME,
    Cell,
    assert_chinese,
    id_for,
    is_formula,
    mangled,
    rolled_back,
    write,
)

AS_OF = datetime.date(2023, 3, 31)
LIST_DATE = datetime.date(2023, 3, 15)
ADULT_CUTOFF = datetime.date(2007, 3, 31)  # 16 years before AS_OF
COUNTY, TOWNSHIP = "530927", "530927203"
VILLAGE, GROUP_1, GROUP_2 = "530927203200", "530927203200001", "530927203200002"
OTHER_VILLAGE = "530927204200"  # 勐来乡民良村: in the county, outside the township


@dataclass(frozen=True)
class OnFile:
    id_number: str
    name: str
    village: str
    group: str | None = None


ON_FILE = (
    OnFile(id_for(datetime.date(1970, 5, 17), 11), "岩块", VILLAGE),
    OnFile(id_for(datetime.date(1985, 2, 3), 22), "叶嘎", VILLAGE, GROUP_1),
    OnFile(id_for(datetime.date(1962, 9, 9), 33), "艾倒", OTHER_VILLAGE),
)
ON_FILE_IDS = {person.id_number: person for person in ON_FILE}


@pytest.fixture
def on_file(village, other_village):
    """The county's villages and groups, and three residents on file."""
    make_group(village, 1)
    make_group(village, 2)
    for person in ON_FILE:
        born = idnumber.birth_date_of(person.id_number)
        Resident.objects.create(
            id_number=person.id_number, name=person.name, sex=idnumber.sex_of(person.id_number),
            birth_date=born, village_id=person.village, group_id=person.group,
            status=Resident.Status.ENROLLED, status_date=datetime.date(2022, 1, 1),
        )  # fmt: skip


RESIDENT_FIELDS = (
    "id_number", "name", "sex", "birth_date", "village_id", "group_id", "household_no", "status",
    "status_reason", "exclusion",
)  # fmt: skip


def tables() -> tuple:
    """Everything an enrollment import may write, in a comparable form."""
    return (
        sorted(Resident.objects.values_list(*RESIDENT_FIELDS)),
        sorted(Finding.objects.values_list("kind", "id_number", "name", "detail", "status")),
        sorted(AuditEntry.objects.values_list("action", "target_type", "target_id")),
        sorted(
            SpecialGroupMembership.objects.values_list(
                "resident__id_number", "category", "list_date", "valid_from", "valid_to"
            )
        ),
    )


# --- cells ----------------------------------------------------------------------------------


def cleaned(text: str) -> str:
    """Free text as an importer keeps it: trimmed, full-width spaces made half-width."""
    return text.replace("\u3000", " ").strip()


# Names and free text: Chinese, Latin, symbols, emoji, full-width letters, a zero-width space,
# but no comma or tab (they decide a CSV's delimiter), no control character (a workbook cannot
# hold one) and no "#" (a workbook reads "#N/A" as an error value).
JUNK = (
    "岩块嘎门艾倒那叶肖春张王李赵 abcXYZ019!@$%^&*()[]{}<>?/\\|'\";:+-=~`éüß€£¥￥ＡＢ　\u200b"
    "😀🀄👍ⅷ①٣\n"
)
NAME_CHARS = "岩块嘎门艾倒那叶肖春张王李赵陈刘杨黄周吴"
TITLE = "沧源佤族自治县公安户籍人口数据（2023年一季度）"

LETTERS = "岩块嘎门艾倒那叶肖春张王李赵abcXYZéüß"
junk_text = st.text(alphabet=JUNK, min_size=1, max_size=40)
# Junk that cannot be a valid ID number or date by chance.
wordy_junk = junk_text.filter(lambda text: any(c in LETTERS for c in text))


def births(first: int = 1930, last: int = 2015) -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(first, 1, 1), datetime.date(last, 12, 31))


fresh_ids = st.builds(id_for, births(), st.integers(0, 999))


@st.composite
def people(draw, count: int) -> list[str]:
    """`count` ID numbers, one in eight of a resident on file and the others new and distinct
    (a file's duplicates are made on purpose, by repeating a line)."""
    fresh = draw(st.lists(fresh_ids, min_size=count, max_size=count, unique=True))
    on_file = st.sampled_from(sorted(ON_FILE_IDS))
    return [draw(on_file) if draw(st.integers(0, 7)) == 0 else number for number in fresh]


# Each cell strategy takes `good`: a good cell is read without complaint in every format (a
# date that differs from the ID number is good: it makes a finding, not a rejection); a bad one
# must be rejected in at least one. Rows are mostly good, so that files are mostly applied.
GOOD_IDS = ["plain"] * 5 + ["padded", "full_width", "lower_x", "apostrophe", "fifteen"]
BAD_IDS = ["quoted", "number", "wrong_check", "blank", "junk", "short", "future", "bad_date"]
BAD_IDS += ["scientific", "formula"]


@st.composite
def id_cells(draw, number: str, good: bool = True) -> Cell:
    """`number` in one of its usual spellings, or spoiled in one of the usual ways."""
    kind = draw(st.sampled_from(GOOD_IDS if good else BAD_IDS))
    if kind == "padded":
        return Cell(f" {number}\u3000", number, BAD)
    if kind == "full_width":
        return Cell(number.translate(FULL_WIDTH_DIGITS), number, BAD)
    if kind == "lower_x":
        return Cell(number.lower(), number, BAD)
    if kind == "apostrophe":
        return Cell(f"'{number}", number, BAD)
    if kind == "fifteen" and number[6:8] == "19":  # first generation, upgraded on reading
        old = number[:6] + number[8:17]
        return Cell(old, number, BAD, typed=int(old))
    if kind == "quoted":  # ="…" keeps a number as text in a CSV; in a workbook it is a formula
        return Cell(f'="{number}"', number, BAD)
    if kind == "number":
        # A number cell keeps 15 significant digits: the last ones of 18 are lost.
        if number[-1] == "X":
            return Cell(number[:17] + "Y", BAD, BAD)
        return Cell(number, number, BAD, typed=int(number), typed_reads=BAD)
    if kind == "wrong_check":
        wrong = draw(st.sampled_from([c for c in "0123456789X" if c != number[-1]]))
        return Cell(number[:17] + wrong, BAD, BAD)
    if kind == "blank":
        return Cell(draw(st.sampled_from(["", " ", "\u3000"])), BAD, BAD)
    if kind == "junk":
        return Cell(draw(wordy_junk), BAD, BAD)
    if kind == "short":
        return Cell(number[:17], BAD, BAD)
    if kind == "future":
        return Cell(id_for(datetime.date(2099, 1, 1), draw(st.integers(0, 999))), BAD, BAD)
    if kind == "bad_date":
        first17 = f"{COUNTY}19800230{draw(st.integers(0, 999)):03d}"
        return Cell(first17 + idnumber.check_digit(first17), BAD, BAD)
    if kind == "scientific":
        return Cell(f"{number[0]}.{number[1:6]}E+17", BAD, BAD)
    if kind == "formula":
        return Cell("=1+1", BAD, BAD)
    return Cell(number, number, BAD)


@st.composite
def name_cells(draw, good: bool = True) -> Cell:
    """A name: plain, padded or free text of any script; blank or a formula when bad."""
    if not good:
        text = draw(st.sampled_from(["", "  ", "\u3000", "=1+1"]))
        return Cell(text, "=1+1" if text == "=1+1" else BAD, BAD)
    kind = draw(st.sampled_from(["plain"] * 3 + ["padded", "junk"]))
    if kind == "junk":
        text = draw(junk_text.filter(lambda t: bool(cleaned(t)) and not is_formula(t)))
    else:
        text = draw(st.text(alphabet=NAME_CHARS, min_size=1, max_size=4))
        if kind == "padded":
            text = f"  {text}\u3000"
    return Cell(text, cleaned(text), BAD)


@st.composite
def date_cells(draw, day: datetime.date | None, good: bool = True) -> Cell:
    """A date column: the given day (or another) in a usual spelling or blank; an odd format,
    an impossible day or junk when bad."""
    if day is None or draw(st.integers(0, 3)) == 0:
        day = draw(st.dates(datetime.date(1900, 3, 1), datetime.date(2020, 12, 31)))
    spelled = {
        "iso": day.isoformat(),
        "slash": f"{day.year}/{day.month}/{day.day}",
        "dots": f"{day.year}.{day.month}.{day.day}",
        "digits": f"{day:%Y%m%d}",
        "chinese": f"{day.year}年{day.month}月{day.day}日",
    }
    if good:
        kind = draw(st.sampled_from([*spelled, "date", "blank"]))
        if kind == "date":
            return Cell(day.isoformat(), day, None, typed=day)
        if kind == "blank":
            return Cell("", None, None)
        return Cell(spelled[kind], day, None)
    kind = draw(st.sampled_from(["serial", "day_first", "february_30", "junk"]))
    if kind == "serial":  # Excel's day number: a date in a workbook, nothing in a CSV
        serial = (day - datetime.date(1899, 12, 30)).days
        return Cell(str(serial), BAD, None, typed=serial, typed_reads=day)
    if kind == "day_first":
        return Cell(f"{day:%d/%m/%Y}", BAD, None)
    if kind == "february_30":
        return Cell(f"{day.year}-02-30", BAD, None)
    return Cell(draw(wordy_junk), BAD, None)


def words(choices: dict[str, object], blank: object = None) -> st.SearchStrategy[Cell]:
    """A cell spelled as one of `choices` (text -> what it reads as)."""
    return st.sampled_from([Cell(text, reads, blank) for text, reads in choices.items()])


GOOD_SEXES = st.one_of(
    words({"男": "M", "女": "F", "1": "M", "2": "F", "m": "M", " F ": "F", "": None}),
    st.sampled_from([Cell("1", "M", typed=1), Cell("2", "F", typed=2)]),
)
BAD_SEXES = words({"x": BAD, "未知": BAD, "3": BAD, "=1+1": BAD})
GOOD_STATUSES = words(
    {"": "normal", "正常": "normal", " 死亡 ": "deceased", "死亡": "deceased", "迁出": "moved_out"},
    blank="normal",
)
BAD_STATUSES = words({"失踪": BAD, "dead": BAD, "=1+1": BAD}, blank="normal")


@st.composite
def household_cells(draw) -> Cell:
    digits = draw(st.text(alphabet="0123456789", min_size=0, max_size=12))
    if digits and draw(st.booleans()):
        return Cell(digits, digits, "", typed=int(digits), typed_reads=str(int(digits)))
    text = draw(st.one_of(st.just(digits), st.text(alphabet=JUNK, max_size=30)))
    return Cell(text, cleaned(text), "")


# --- places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """The place cells of a row; by region code, also the village and group they name."""

    cells: dict[str, Cell]
    village: str | None = None  # by region code: the village it names, None if none
    group: str | None = None


TOWNSHIPS = {"糯良乡": VILLAGE, "勐来乡": OTHER_VILLAGE, "岩帅镇": None}
VILLAGES = {"糯良村": VILLAGE, "糯良": VILLAGE, "糯良村委会": VILLAGE, "民良村": OTHER_VILLAGE}
GROUPS = {"1组": 1, "一组": 1, "第一村民小组": 1, "01": 1, "2组": 2, "九组": 9}


@st.composite
def places(draw, mode: str, good: bool = True) -> Place:
    """Where a row's person lives, by region code or by township, village and group names; an
    unknown place when bad."""
    if mode == "code":
        known = [
            *((VILLAGE, VILLAGE, None), (GROUP_1, VILLAGE, GROUP_1)),
            *((GROUP_2, VILLAGE, GROUP_2), (OTHER_VILLAGE, OTHER_VILLAGE, None)),
        ]
        unknown = [
            *(("530927203299", None, None), ("622901102200", None, None)),
            *(("5309272032", None, None), ("", None, None), ("村委会", None, None)),
        ]
        code, village, group = draw(st.sampled_from(known if good else unknown))
        typed = int(code) if code.isdigit() and draw(st.booleans()) else SAME
        return Place({"region_code": Cell(code, None, typed=typed)}, village, group)
    if good:
        village = draw(st.sampled_from(list(VILLAGES)))
        right = next(name for name, code in TOWNSHIPS.items() if code == VILLAGES[village])
        township = draw(st.sampled_from(["", right]))
        groups = ["", "1组", "一组", "第一村民小组", "01", "2组"]
        group = draw(st.sampled_from(groups if VILLAGES[village] == VILLAGE else [""]))
    else:
        township, village, group = draw(
            st.sampled_from(
                [
                    ("", "芒回村", ""),
                    ("", "", "1组"),
                    ("勐来乡", "糯良村", ""),
                    ("岩帅镇", "糯良", ""),
                    ("糯良乡", "糯良村", "九组"),
                    ("", "民良村", "1组"),
                ]
            )
        )
    cells = {"township": township, "village": village, "group": group}
    return Place({key: Cell(text, None) for key, text in cells.items()})


def place_of(place: Place, present: set[str]) -> tuple[str | None, str | None]:
    """(village, group) a row names with the columns its file has; (None, None) if unknown."""
    if "region_code" in present:
        return place.village, place.group
    texts = {key: cell.text if key in present else "" for key, cell in place.cells.items()}
    village = VILLAGES.get(texts["village"])
    if village is None or (texts["township"] and TOWNSHIPS[texts["township"]] != village):
        return None, None
    if not texts["group"]:
        return village, None
    group = f"{village}{GROUPS[texts['group']]:03d}"
    return (village, group) if group in (GROUP_1, GROUP_2) else (None, None)


# --- files ----------------------------------------------------------------------------------

EXTENSIONS = {"csv": ".csv", "csv_bom": ".csv", "csv_gb18030": ".csv", "tsv_utf16": ".txt"}


@dataclass
class Sheet:
    """A generated file before it is written: header labels by column key, rows of cells."""

    labels: dict[str, str]  # key -> header text; keys starting with "extra" are not ours
    order: list[str]
    rows: list[dict[str, Cell]]
    title: bool = True
    gap: bool = False  # a blank row between title and header
    filler: int = 0  # lines of explanation between title and header

    @property
    def header_row(self) -> int:
        return (1 + self.gap + self.filler if self.title else 0) + 1

    def numbered(self) -> Iterator[tuple[int, dict[str, Cell]]]:
        yield from enumerate(self.rows, self.header_row + 1)

    def grid(self, workbook: bool) -> list[list[object]]:
        lines: list[list[object]] = []
        if self.title:
            lines.append([TITLE])
            lines += [[f"说明第{n}条"] for n in range(1, self.filler + 1)]
            if self.gap:
                lines.append([])
        lines.append([self.labels[key] for key in self.order])
        for row in self.rows:
            cells = [row.get(key, Cell("", None)) for key in self.order]
            lines.append([c.workbook_value() if workbook else c.text for c in cells])
        return lines


@st.composite
def file_names(draw, fmt: str) -> str:
    """The right extension, or a wrong one: formats are told by content."""
    right = EXTENSIONS.get(fmt, ".xlsx")
    return "名单" + draw(st.sampled_from([right, right, ".xlsx", ".xls", ".csv", ".txt", ""]))


@st.composite
def layouts(draw, required: list[str], optional: list[str]) -> tuple[list[str], bool, bool]:
    """Which columns a file has and in what order, plus a title row and a gap under it."""
    keys = required + [key for key in optional if draw(st.integers(0, 3))]  # each 3 in 4
    keys += draw(st.lists(st.sampled_from(["extra_serial", "extra_phone"]), unique=True))
    order = draw(st.permutations(keys))
    title = draw(st.booleans())
    return list(order), title, title and draw(st.booleans())


EXTRA_LABELS = {"extra_serial": ["序号"], "extra_phone": ["联系电话", "电话"]}


def extra_cells(key: str) -> st.SearchStrategy[Cell]:
    if key == "extra_serial":
        return st.integers(1, 99).map(lambda n: Cell(str(n), None))
    return st.text(alphabet="0123456789", max_size=11).map(lambda t: Cell(t, None))


# --- the police registry export -------------------------------------------------------------

REGISTRY_LABELS = {
    "id_number": ["公民身份号码", "身份证号", "身份证号码", "证件号码"],
    "name": ["姓名"],
    "sex": ["性别"],
    "birth_date": ["出生日期"],
    "household_no": ["户号"],
    "status": ["人员状态", "状态"],
    "note": ["备注"],
    "region_code": ["区划代码", "行政区划代码"],
    "township": ["乡镇(街道)", "乡镇", "街道"],
    "village": ["村(社区)", "村(居)委会", "村", "社区"],
    "group": ["村民小组", "组", "小组"],
    **EXTRA_LABELS,
}
COLUMN_OF = {
    "id_number": "公民身份号码",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "status": "人员状态",
}
PLACE_COLUMNS = {"区划代码", "乡镇(街道)", "村(社区)", "村民小组"}
REGISTRY_COLUMNS = set(COLUMN_OF.values()) | PLACE_COLUMNS


@st.composite
def spoiled(draw, fields: tuple[str, ...]) -> set[str]:
    """Which cells of a row are bad: none in 8 rows of 12, one in 3, two in 1."""
    how_many = draw(st.sampled_from([0] * 8 + [1] * 3 + [2]))
    return set(draw(st.lists(st.sampled_from(fields), min_size=how_many, max_size=how_many)))


REGISTRY_FIELDS = ("id_number", "name", "sex", "birth_date", "status", "place")


@st.composite
def registry_rows(draw, mode: str, number: str) -> dict[str, Cell]:
    if draw(st.integers(0, 19)) == 0:
        return {}  # a blank line in the middle of the export
    bad = draw(spoiled(REGISTRY_FIELDS))
    id_cell = draw(id_cells(number, "id_number" not in bad))
    number = id_cell.reads
    day = idnumber.birth_date_of(number) if isinstance(number, str) else None
    place = draw(places(mode, "place" not in bad))
    row = {
        "id_number": id_cell,
        "name": draw(name_cells("name" not in bad)),
        "sex": draw(BAD_SEXES if "sex" in bad else GOOD_SEXES),
        "birth_date": draw(date_cells(day, "birth_date" not in bad)),
        "household_no": draw(household_cells()),
        "status": draw(BAD_STATUSES if "status" in bad else GOOD_STATUSES),
        "note": Cell(draw(st.text(alphabet=JUNK, max_size=10)), None),
        **place.cells,
        "extra_serial": draw(extra_cells("extra_serial")),
        "extra_phone": draw(extra_cells("extra_phone")),
    }
    row["_place"] = place  # type: ignore[assignment]
    return row


@st.composite
def repeated(draw, rows: list[dict[str, Cell]]) -> dict[str, Cell]:
    """One of `rows` again, its ID number perhaps spelled another way (15 digits, lower-case x):
    the same person all the same."""
    again = dict(draw(st.sampled_from(rows)))
    number = again["id_number"].reads if again else BAD
    if isinstance(number, str) and draw(st.booleans()):
        again["id_number"] = draw(id_cells(number))
    return again


@st.composite
def registry_sheets(draw) -> tuple[Sheet, str]:
    mode = draw(st.sampled_from(["code", "names"]))
    location = ["region_code"] if mode == "code" else ["village"]
    optional = ["sex", "birth_date", "household_no", "status", "note"]
    if mode == "names":
        optional += ["township", "group"]
    order, title, gap = draw(layouts(["id_number", "name", *location], optional))
    labels = {key: draw(st.sampled_from(REGISTRY_LABELS[key])) for key in order}
    numbers = draw(people(draw(st.integers(1, 10))))
    rows = [draw(registry_rows(mode, number)) for number in numbers]
    if draw(st.integers(0, 3)) == 0:
        rows.insert(draw(st.integers(0, len(rows))), draw(repeated(rows)))
    fmt = draw(st.sampled_from(FORMATS))
    # A GB18030 file whose first Chinese text happens to be valid UTF-8 is the subject of its
    # own test below; here such files start with a title whose first character is not.
    title = title or fmt == "csv_gb18030"
    return Sheet(labels, order, rows, title, gap), fmt


@dataclass
class Expected:
    """What a file must do to the import's outcome, derived from its cells."""

    rows: int = 0
    bad: dict[int, set[str]] = field(default_factory=dict)  # row -> columns that may be named
    accepted: dict[int, dict] = field(default_factory=dict)  # row -> values
    staged: set[str] = field(default_factory=set)  # ID numbers the file mentions validly


def registry_expected(sheet: Sheet, workbook: bool, scope: str) -> Expected:
    expected = Expected()
    present = set(sheet.order)
    by_number: dict[str, list[int]] = {}
    for row_no, row in sheet.numbered():
        cells = {key: row[key] for key in present if key in row}
        if not cells or all(cell.is_blank_in(workbook) for cell in cells.values()):
            continue
        expected.rows += 1
        values = {key: cell.read_in(workbook) for key, cell in cells.items()}
        bad = {COLUMN_OF[key] for key, value in values.items() if value is BAD}
        village, group = place_of(row["_place"], present)  # type: ignore[arg-type]
        if village is None or not village.startswith(scope):
            bad |= PLACE_COLUMNS
        number = values["id_number"]
        if number is not BAD:
            by_number.setdefault(number, []).append(row_no)
            expected.staged.add(number)
        if bad:
            expected.bad[row_no] = bad
            continue
        expected.accepted[row_no] = {
            "id_number": number,
            "name": values["name"],
            "village": village,
            "group": group,
            "household_no": values.get("household_no", "") or "",
            "status": values.get("status", "normal") or "normal",
            "conflict": _conflicts(number, values.get("sex"), values.get("birth_date")),
        }
    for row_numbers in by_number.values():
        if len(row_numbers) > 1:
            for row_no in row_numbers:
                expected.accepted.pop(row_no, None)
                expected.bad.setdefault(row_no, set()).add(COLUMN_OF["id_number"])
    return expected


_PLACE_KEYS = ("region_code", "township", "village", "group")


def _conflicts(number: str, sex: object, birth: object) -> bool:
    """Whether a 性别 or 出生日期 cell disagrees with the ID number (a finding, not a rejection)."""
    differs = sex is not None and sex != idnumber.sex_of(number)
    return differs or (birth is not None and birth != idnumber.birth_date_of(number))


def check_rejections(rejected, expected: Expected, columns: set[str]) -> None:
    """Every rejection names a row of the file and one of the row's bad columns, in Chinese."""
    rows = [r.row for r in rejected]
    assert len(rows) == len(set(rows)), f"a row rejected twice: {rows}"
    assert set(rows) == set(expected.bad), (sorted(rows), sorted(expected.bad))
    for rejection in rejected:
        assert rejection.column in expected.bad[rejection.row] & columns, rejection
        assert_chinese(rejection.reason)
        assert_chinese(str(rejection))
        assert str(rejection).startswith(f"第{rejection.row}行 〈{rejection.column}〉")


def refused_by_rule(rows: int, rejected: int, strict: bool) -> bool:
    return rows == 0 or (strict and rejected > 0) or rejected * 2 > rows


@given(
    drawn=registry_sheets(),
    scope=st.sampled_from([COUNTY, TOWNSHIP]),
    strict=st.sampled_from([False, False, False, True]),
    dry_run=st.sampled_from([False, False, False, True]),
    data=st.data(),
)
@FUZZ
def test_a_registry_export_applies_exactly_its_valid_rows_or_nothing(
    county, township, on_file, drawn, scope, strict, dry_run, data
):
    sheet, fmt = drawn
    workbook = fmt == "xlsx"
    payload = write(sheet, fmt)
    filename = data.draw(file_names(fmt))
    expected = registry_expected(sheet, workbook, scope)
    region = county if scope == COUNTY else township
    with rolled_back():
        before = tables()
        outcome = registry_import(
            source=io.BytesIO(payload), region=region, as_of=AS_OF, filename=filename,
            strict=strict, dry_run=dry_run,
        )  # fmt: skip
        after = tables()
        new_residents = {
            r.id_number: r for r in Resident.objects.exclude(id_number__in=list(ON_FILE_IDS))
        }
        old = {r.id_number: r for r in Resident.objects.filter(id_number__in=list(ON_FILE_IDS))}
        findings = set(Finding.objects.values_list("kind", "id_number"))

    assert outcome.rows == expected.rows
    check_rejections(outcome.rejected, expected, REGISTRY_COLUMNS)
    assert outcome.accepted == expected.rows - len(expected.bad)
    refused = refused_by_rule(expected.rows, len(expected.bad), strict)
    assert bool(outcome.refused_reason) == refused
    if refused:
        assert_chinese(outcome.refused_reason)
    assert outcome.applied == (not refused and not dry_run)
    born = {row["id_number"]: row for row in expected.accepted.values()}
    created = {
        n: row for n, row in born.items() if n not in ON_FILE_IDS and row["status"] == "normal"
    }
    if not refused:  # a dry run reports what it would have done
        assert outcome.counts["new"] == len(created)
        assert outcome.counts["conflicting_columns"] == sum(r["conflict"] for r in born.values())
    if not outcome.applied:
        assert after == before
        return
    assert set(new_residents) == set(created)
    for number, row in created.items():
        resident = new_residents[number]
        birth = idnumber.birth_date_of(number)
        assert (resident.name, resident.village_id, resident.group_id) == (
            row["name"], row["village"], row["group"]
        )  # fmt: skip
        assert (resident.sex, resident.birth_date) == (idnumber.sex_of(number), birth)
        assert resident.household_no == row["household_no"]
        assert resident.status == ("eligible" if birth <= ADULT_CUTOFF else "not_eligible")
    for number, row in born.items():
        if row["conflict"]:
            assert (Finding.Kind.UNVERIFIABLE, number) in findings
    for person in ON_FILE:
        resident = old[person.id_number]
        assert resident.name == person.name
        row = born.get(person.id_number)
        in_scope = person.village.startswith(scope)
        if row is not None and in_scope and row["status"] == "deceased":
            assert resident.status == Resident.Status.DECEASED
        elif row is not None and in_scope and row["status"] == "normal":
            assert resident.village_id == row["village"]
        absent = (Finding.Kind.NO_REGISTRATION, person.id_number) in findings
        assert absent == (in_scope and person.id_number not in expected.staged)


# --- structural faults ------------------------------------------------------------------------


@st.composite
def broken_registry_headers(draw) -> tuple[Sheet, str, str]:
    """A well-formed export whose header is spoiled, and words its refusal must contain."""
    sheet, fmt = draw(registry_sheets())
    fault = draw(st.sampled_from(["no_id", "no_name", "no_place", "twice", "no_header", "deep"]))
    order, labels, filler = list(sheet.order), dict(sheet.labels), 0
    if fault in ("no_id", "no_name"):
        order.remove("id_number" if fault == "no_id" else "name")
        words = "缺少必需的列"
    elif fault == "no_place":
        order = [key for key in order if key not in _PLACE_KEYS]
        words = "缺少户籍地列"
    elif fault == "twice":
        others = [name for name in REGISTRY_LABELS["id_number"] if name != labels["id_number"]]
        labels["id_twice"] = draw(st.sampled_from(others))
        order.insert(draw(st.integers(0, len(order))), "id_twice")
        words = "出现了多次"
    elif fault == "no_header":
        labels = dict.fromkeys(order, "")
        words = "未找到表头"
    else:  # below the first ten rows, where a reader looks for the header
        filler = draw(st.integers(9, 12))
        words = "未找到表头"
    return Sheet(labels, order, sheet.rows, True, sheet.gap, filler), fmt, words


@given(drawn=broken_registry_headers())
@settings(FUZZ, max_examples=30)
def test_a_registry_export_with_a_broken_header_is_refused_whole_in_chinese(county, on_file, drawn):
    sheet, fmt, words = drawn
    with rolled_back():
        before = tables()
        with pytest.raises(ImportRefused) as refusal:
            registry_import(
                source=io.BytesIO(write(sheet, fmt)), region=county, as_of=AS_OF,
                filename="户籍.csv",
            )  # fmt: skip
        assert tables() == before
    assert_chinese(str(refusal.value))
    assert words in str(refusal.value)


# --- damaged bytes ----------------------------------------------------------------------------


def outcome_or_refusal(
    run: Callable[[], object], look: Callable[[], object] = lambda: None
) -> tuple[object, str, bool, object]:
    """(outcome or None, refusal message, whether the tables changed, what `look` saw after),
    inside a savepoint."""
    with rolled_back():
        before = tables()
        try:
            outcome = run()
        except ImportRefused as exc:
            refusal, outcome = str(exc), None
        else:
            refusal = ""
        changed = tables() != before
        seen = look()
    return outcome, refusal, changed, seen


def check_weakly(outcome, refusal: str, changed: bool, columns: set[str]) -> None:
    """What holds for any bytes at all: a Chinese refusal and no write, or a sound outcome."""
    if outcome is None:
        assert_chinese(refusal)
        assert not changed
        return
    for rejection in outcome.rejected:
        assert rejection.row >= 1 and rejection.column in columns, rejection
        assert_chinese(rejection.reason)
    if not outcome.applied:
        assert not changed
    if outcome.refused_reason:
        assert_chinese(outcome.refused_reason)
    assert outcome.accepted == outcome.rows - len(outcome.rejected)


@given(drawn=registry_sheets(), data=st.data())
@settings(FUZZ, max_examples=50)
def test_any_bytes_sent_as_a_registry_export_are_refused_in_chinese_or_applied_soundly(
    county, on_file, drawn, data
):
    sheet, fmt = drawn
    payload = data.draw(mangled(write(sheet, fmt)))
    outcome, refusal, changed, arrived = outcome_or_refusal(
        lambda: registry_import(
            source=io.BytesIO(payload), region=county, as_of=AS_OF, filename="户籍.xlsx"
        ),
        lambda: list(
            Resident.objects.exclude(id_number__in=list(ON_FILE_IDS)).values_list(
                "id_number", "name", "village_id"
            )
        ),
    )
    check_weakly(outcome, refusal, changed, REGISTRY_COLUMNS)
    for number, name, village in arrived:
        assert idnumber.is_valid(number, today=AS_OF)
        assert name and village.startswith(COUNTY)


# --- department lists -----------------------------------------------------------------------

DEPARTMENT_LABELS = {
    "id_number": REGISTRY_LABELS["id_number"],
    "name": ["姓名"],
    "grade": ["残疾等级", "等级"],
    "township": ["乡镇(街道)", "乡镇"],
    "village": ["村(社区)", "村"],
    **EXTRA_LABELS,
}
DEPARTMENT_COLUMNS = {"公民身份号码", "姓名"}
SEVERE = {"1": True, "2": True, "一级": True, "二级": True, "1级": True, " 2 ": True}
GRADES = SEVERE | {"3": False, "四级": False, "": False, "轻度": False}


@st.composite
def department_rows(draw, number: str) -> dict[str, Cell]:
    if draw(st.integers(0, 19)) == 0:
        return {}
    bad = draw(spoiled(("id_number", "name")))
    grade_text = draw(st.sampled_from(sorted(GRADES)))
    grade = Cell(grade_text, GRADES[grade_text], False)
    if grade_text in ("1", "2") and draw(st.booleans()):
        grade = Cell(grade_text, True, False, typed=int(grade_text))
    return {
        "id_number": draw(id_cells(number, "id_number" not in bad)),
        "name": draw(name_cells("name" not in bad)),
        "grade": grade,
        "township": Cell(draw(st.sampled_from(["糯良乡", "", "不存在乡"])), None),
        "village": Cell(draw(st.sampled_from(["糯良村", "", "芒回村"])), None),
        "extra_serial": draw(extra_cells("extra_serial")),
        "extra_phone": draw(extra_cells("extra_phone")),
    }


@st.composite
def department_sheets(draw, category: str) -> tuple[Sheet, str]:
    optional = ["township", "village"] + ([] if category == "disability" else ["grade"])
    required = ["id_number", "name"] + (["grade"] if category == "disability" else [])
    order, title, gap = draw(layouts(required, optional))
    labels = {key: draw(st.sampled_from(DEPARTMENT_LABELS[key])) for key in order}
    numbers = draw(people(draw(st.integers(1, 10))))
    rows = [draw(department_rows(number)) for number in numbers]
    if draw(st.integers(0, 3)) == 0:
        rows.insert(draw(st.integers(0, len(rows))), draw(repeated(rows)))
    fmt = draw(st.sampled_from(FORMATS))
    return Sheet(labels, order, rows, title or fmt == "csv_gb18030", gap), fmt


def department_expected(sheet: Sheet, workbook: bool, category: str) -> Expected:
    expected = Expected()
    present = set(sheet.order)
    seen: dict[str, list[int]] = {}
    for row_no, row in sheet.numbered():
        cells = {key: row[key] for key in present if key in row}
        if not cells or all(cell.is_blank_in(workbook) for cell in cells.values()):
            continue
        expected.rows += 1
        number, name = (cells[key].read_in(workbook) for key in ("id_number", "name"))
        if number is BAD:
            expected.bad[row_no] = {"公民身份号码"}
            continue
        if name is BAD:
            expected.bad[row_no] = {"姓名"}
            continue
        seen.setdefault(number, []).append(row_no)
        if category == "disability" and not cells["grade"].read_in(workbook):
            continue  # grades 3 and 4 are read and left out
        expected.accepted[row_no] = {"id_number": number, "name": name}
    for row_numbers in seen.values():
        if len(row_numbers) > 1:
            for row_no in row_numbers:
                expected.accepted.pop(row_no, None)
                expected.bad[row_no] = {"公民身份号码"}
    return expected


@st.composite
def department_cases(draw) -> tuple[str, Sheet, str]:
    category = draw(st.sampled_from([*MEMBERSHIP_CATEGORIES, *EXCLUSION_CATEGORIES]))
    sheet, fmt = draw(department_sheets(category))
    return category, sheet, fmt


@given(
    case=department_cases(),
    scope=st.sampled_from([COUNTY, TOWNSHIP]),
    strict=st.sampled_from([False, False, False, True]),
    dry_run=st.sampled_from([False, False, False, True]),
    data=st.data(),
)
@FUZZ
def test_a_department_list_applies_exactly_its_valid_rows_or_nothing(
    county, township, on_file, case, scope, strict, dry_run, data
):
    category, sheet, fmt = case
    payload = write(sheet, fmt)
    expected = department_expected(sheet, fmt == "xlsx", category)
    region = county if scope == COUNTY else township
    with rolled_back():
        before = tables()
        outcome = department_import(
            source=io.BytesIO(payload), region=region, category=category, list_date=LIST_DATE,
            filename=data.draw(file_names(fmt)), strict=strict, dry_run=dry_run,
        )  # fmt: skip
        after = tables()
        listed = set(
            SpecialGroupMembership.objects.filter(
                category=category, valid_from=LIST_DATE, valid_to=None
            ).values_list("resident__id_number", flat=True)
        )
        excluded = set(
            Resident.objects.filter(status="excluded", exclusion=category).values_list(
                "id_number", flat=True
            )
        )
        unknown = set(
            Finding.objects.filter(kind=Finding.Kind.UNKNOWN_PERSON).values_list(
                "id_number", flat=True
            )
        )

    assert outcome.rows == expected.rows
    check_rejections(outcome.rejected, expected, DEPARTMENT_COLUMNS)
    assert outcome.accepted == len(expected.accepted)
    refused = refused_by_rule(expected.rows, len(expected.bad), strict)
    assert bool(outcome.refused_reason) == refused
    if refused:
        assert_chinese(outcome.refused_reason)
    assert outcome.applied == (not refused and not dry_run)
    numbers = {row["id_number"] for row in expected.accepted.values()}
    known = {n for n, person in ON_FILE_IDS.items() if person.village.startswith(scope)}
    if not refused:  # a dry run reports what it would have done
        assert outcome.counts["added"] == len(numbers & known)
        assert outcome.counts["unknown_person"] == len(numbers - known)
    if not outcome.applied:
        assert after == before
        return
    assert unknown == numbers - known
    if category in MEMBERSHIP_CATEGORIES:
        assert listed == numbers & known
    else:
        assert excluded == numbers & known


@given(case=department_cases(), data=st.data())
@settings(FUZZ, max_examples=50)
def test_any_bytes_sent_as_a_department_list_are_refused_in_chinese_or_applied_soundly(
    county, on_file, case, data
):
    category, sheet, fmt = case
    payload = data.draw(mangled(write(sheet, fmt)))
    outcome, refusal, changed, _ = outcome_or_refusal(
        lambda: department_import(
            source=io.BytesIO(payload),
            region=county,
            category=category,
            list_date=LIST_DATE,
            filename="名单.csv",
        )
    )
    check_weakly(outcome, refusal, changed, DEPARTMENT_COLUMNS)


# --- what the properties found ----------------------------------------------------------------


@pytest.mark.parametrize("label", ["证件号码", "证件号"])
def test_a_gb18030_list_whose_header_starts_with_an_id_alias_is_read(county, on_file, label):
    person = ON_FILE[0]
    payload = f"{label},姓名\n{person.id_number},{person.name}\n".encode("gb18030")
    with rolled_back():
        outcome = department_import(
            source=io.BytesIO(payload), region=county, category="dibao", list_date=LIST_DATE,
            filename="名单.csv",
        )  # fmt: skip
    assert outcome.applied and outcome.accepted == 1


def test_a_registry_row_whose_name_is_too_long_is_rejected_not_cut_short(county, on_file):
    number, name = id_for(datetime.date(1980, 1, 1), 500), "岩" * 51
    payload = f"公民身份号码,姓名,区划代码\n{number},{name},{VILLAGE}\n".encode()
    with rolled_back():
        outcome = registry_import(
            source=io.BytesIO(payload), region=county, as_of=AS_OF, filename="户籍.csv"
        )
        stored = list(Resident.objects.filter(id_number=number).values_list("name", flat=True))
    if stored:
        assert stored == [name]
    else:
        assert [(r.row, r.column) for r in outcome.rejected] == [(2, "姓名")]


def test_a_registry_row_whose_household_is_too_long_is_rejected_not_cut_short(county, on_file):
    number, household = id_for(datetime.date(1980, 1, 1), 500), "1" * 31
    payload = f"公民身份号码,姓名,区划代码,户号\n{number},岩块,{VILLAGE},{household}\n".encode()
    with rolled_back():
        outcome = registry_import(
            source=io.BytesIO(payload), region=county, as_of=AS_OF, filename="户籍.csv"
        )
        stored = list(
            Resident.objects.filter(id_number=number).values_list("household_no", flat=True)
        )
    if stored:
        assert stored == [household]
    else:
        assert [(r.row, r.column) for r in outcome.rejected] == [(2, "户号")]


def test_a_csv_with_an_unclosed_quote_is_refused_in_chinese_only(county, on_file):
    person = ON_FILE[0]
    payload = f'公民身份号码,姓名,区划代码\n{person.id_number},"岩块{"x" * 200_000}\n'.encode()
    with rolled_back(), pytest.raises(ImportRefused) as refusal:
        registry_import(source=io.BytesIO(payload), region=county, as_of=AS_OF, filename="户籍.csv")
    assert "引号不成对" in str(refusal.value)
    assert "field larger than field limit" not in str(refusal.value)  # Python's own words
