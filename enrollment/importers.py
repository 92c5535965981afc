"""Reading registry exports and department lists: every row validated, every error located.

Phase one of an import (STYLE 19): read the file through the project's one spreadsheet reader,
check every row, resolve locations against the county's regions with one query, and hand the
accepted rows to the comparison services. Errors name the row as the spreadsheet shows it, the
column and the reason, in Chinese.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from enrollment.models import Resident
from enrollment.services.departments import DepartmentRow
from enrollment.services.imports import ImportOutcome, Rejection
from pension import idnumber
from pension.imports import FILE_MAX_BYTES
from pension.models import Region
from pension.spreadsheets import (
    CellError,
    Column,
    SpreadsheetError,
    Table,
    parse_code,
    parse_date,
    parse_id_number,
    read_table,
    text,
)

# As long as the resident's record holds them: a longer cell is refused on its row, not cut.
NAME_MAX = Resident._meta.get_field("name").max_length
HOUSEHOLD_MAX = Resident._meta.get_field("household_no").max_length


def checked_name(name: str) -> str:
    if not name:
        raise CellError(_("姓名不能为空"))
    if len(name) > NAME_MAX:
        raise CellError(
            _("姓名过长：%(length)s 个字，最多 %(limit)s 个字")
            % {"length": len(name), "limit": NAME_MAX}
        )
    return name


ID_COLUMN = Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "证件号码", "证件号"))
NAME_COLUMN = Column("name", "姓名")
SEX_COLUMN = Column("sex", "性别", required=False)
BIRTH_COLUMN = Column("birth_date", "出生日期", required=False)
TOWNSHIP_COLUMN = Column("township", "乡镇(街道)", ("乡镇", "街道", "乡(镇)"), required=False)
VILLAGE_COLUMN = Column(
    "village", "村(社区)", ("村(居)委会", "村", "社区", "村(居)"), required=False
)
GROUP_COLUMN = Column("group", "村民小组", ("组", "小组", "居民小组"), required=False)
HOUSEHOLD_COLUMN = Column("household_no", "户号", required=False)
STATUS_COLUMN = Column("status", "人员状态", ("状态",), required=False)
CODE_COLUMN = Column("region_code", "区划代码", ("行政区划代码",), required=False)
GRADE_COLUMN = Column("grade", "残疾等级", ("等级",), required=False)
NOTE_COLUMN = Column("note", "备注", required=False)

REGISTRY_COLUMNS = (
    ID_COLUMN, NAME_COLUMN, SEX_COLUMN, BIRTH_COLUMN, TOWNSHIP_COLUMN, VILLAGE_COLUMN,
    GROUP_COLUMN, HOUSEHOLD_COLUMN, STATUS_COLUMN, CODE_COLUMN, NOTE_COLUMN,
)  # fmt: skip
DEPARTMENT_COLUMNS = (ID_COLUMN, NAME_COLUMN, GRADE_COLUMN, TOWNSHIP_COLUMN, VILLAGE_COLUMN)

REGISTRY_STATUS = {"": "normal", "正常": "normal", "死亡": "deceased", "迁出": "moved_out"}
SEX_WORDS = {"男": "M", "女": "F", "1": "M", "2": "F", "M": "M", "F": "F"}
SEVERE_GRADES = {"1", "2", "一", "二", "一级", "二级", "1级", "2级"}

_SUFFIXES = ("村民委员会", "居民委员会", "社区居委会", "村委会", "居委会", "社区", "村")
_NUMERALS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九", start=0)}
# How a group is written around its number: 第一村民小组, 1组, 十二组.
_GROUP_PREFIX = "第"
_GROUP_SUFFIXES = ("村民小组", "居民小组", "小组", "组")
_TEN = "十"


def place_key(name: str) -> str:
    """Village names as people write them: 糯良, 糯良村, 糯良村委会 are one place."""
    key = re.sub(r"\s+", "", text(name))
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def group_key(name: str) -> str:
    """Groups as 一组, 1组, 第一村民小组 or 01: the number is what identifies them."""
    key = re.sub(r"\s+", "", text(name))
    key = key.removeprefix(_GROUP_PREFIX)
    for suffix in _GROUP_SUFFIXES:
        key = key.removesuffix(suffix)
    if key.startswith(_TEN) and len(key) > 1:
        key = "1" + key[1:]
    if key.endswith(_TEN) and len(key) > 1:
        key = key[:-1] + "0"
    key = key.replace(_TEN, "")
    key = "".join(_NUMERALS.get(c, c) for c in key)
    return key.lstrip("0") or key


@dataclass
class Locations:
    """The county's villages and groups, fetched in one query, for resolving rows.

    Rows are resolved against the whole county so that a township's file naming a village of
    another township gets a precise reason rather than "unknown place".
    """

    county: Region
    scope: Region
    codes: dict[str, str]  # code -> level
    villages: dict[tuple[str, str], str]  # (township name key, village key) -> village code
    village_by_name: dict[str, list[str]]  # village key -> codes (when no township given)
    groups: dict[tuple[str, str], str]  # (village code, group key) -> group code

    @classmethod
    def load(cls, scope: Region) -> Locations:
        county = Region.objects.get(code=scope.code[:6])
        rows = list(
            Region.objects.filter(code__startswith=county.code).values_list("code", "name", "level")
        )
        names = {code: name for code, name, _ in rows}
        codes = {code: level for code, _, level in rows}
        villages: dict[tuple[str, str], str] = {}
        by_name: dict[str, list[str]] = defaultdict(list)
        groups: dict[tuple[str, str], str] = {}
        for code, name, level in rows:
            if level == Region.Level.VILLAGE:
                township = place_key(names.get(code[:9], ""))
                villages[(township, place_key(name))] = code
                villages[(names.get(code[:9], ""), place_key(name))] = code
                by_name[place_key(name)].append(code)
            elif level == Region.Level.GROUP:
                groups[(code[:12], group_key(name))] = code
        return cls(county, scope, codes, villages, dict(by_name), groups)

    def resolve(
        self, *, code: str = "", township: str = "", village: str = "", group: str = ""
    ) -> tuple[str, str | None]:
        """(village code, group code or None); CellError with the column's reason if unknown."""
        village_code, group_code = self._resolve(code, township, village, group)
        if not village_code.startswith(self.scope.code):
            raise CellError(_("户籍地不在%(region)s辖区内") % {"region": self.scope.name})
        return village_code, group_code

    def _resolve(
        self, code: str, township: str, village: str, group: str
    ) -> tuple[str, str | None]:
        if code:
            if self.codes.get(code) == Region.Level.GROUP:
                return code[:12], code
            if self.codes.get(code) == Region.Level.VILLAGE:
                return code, None
            raise CellError(
                _("区划代码 %(code)s 不是本县（%(county)s）的村或村民小组")
                % {"code": code, "county": self.county.name}
            )
        if not village:
            raise CellError(_("缺少村(社区)"))
        if township:
            village_code = self.villages.get((place_key(township), place_key(village)))
            if village_code is None:
                raise CellError(
                    _("%(township)s%(village)s 不在本县区划中")
                    % {"township": township, "village": village}
                )
        else:
            candidates = self.village_by_name.get(place_key(village), [])
            if len(candidates) > 1:
                raise CellError(_("%(village)s 在本县有重名，请填写乡镇") % {"village": village})
            if not candidates:
                raise CellError(_("%(village)s 在本县不存在，请填写乡镇") % {"village": village})
            village_code = candidates[0]
        if not group:
            return village_code, None
        group_code = self.groups.get((village_code, group_key(group)))
        if group_code is None:
            raise CellError(
                _("%(village)s没有“%(group)s”这个村民小组") % {"village": village, "group": group}
            )
        return village_code, group_code


def _open(source, *, columns, filename: str | None) -> Table:
    return read_table(source, columns=columns, filename=filename, max_bytes=FILE_MAX_BYTES)


def _mark_duplicates(
    seen: dict[str, list[int]], accepted: dict[int, object], outcome: ImportOutcome
) -> None:
    """An ID that appears twice is rejected on every row it appears in."""
    for number, row_numbers in seen.items():
        if len(row_numbers) < 2:
            continue
        listed = pgettext("list separator", "、").join(str(n) for n in row_numbers[:10])
        reason = _("身份证号码在文件中重复出现（第%(rows)s行）") % {"rows": listed}
        for row_number in row_numbers:
            accepted.pop(row_number, None)
            outcome.rejected.append(
                Rejection(row_number, ID_COLUMN.label, reason, idnumber.mask(number))
            )


# The check digit's weighted sum, split so that both parts come from small caches: the first 14
# characters (birthplace and birth date; a county has a few tens of thousands) and the three
# after them (a thousand combinations).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_TAILS = {
    f"{n:03d}": sum(w * int(d) for w, d in zip(_WEIGHTS[14:], f"{n:03d}", strict=True))
    for n in range(1000)
}
_EARLIEST = datetime.date(1900, 1, 1)


def _id_head(head: str, today: datetime.date, cache: dict) -> tuple[int, str] | None:
    """(weighted sum, ISO birth date) of an ID's first 14 characters when they are digits with a
    real, past birth date, else None; cached."""
    value = None
    if head.isascii() and head.isdigit():
        try:
            day = datetime.date(int(head[6:10]), int(head[10:12]), int(head[12:]))
        except ValueError:
            day = None
        if day is not None and _EARLIEST <= day <= today:
            value = (sum(w * int(d) for w, d in zip(_WEIGHTS, head, strict=False)), day.isoformat())
    cache[head] = value
    return value


def read_registry(
    source,
    *,
    region: Region,
    as_of: datetime.date,
    filename: str | None = None,
) -> tuple[ImportOutcome, Iterator[tuple]]:
    """Open a registry export: the outcome to be filled and the rows to stage, checked lazily.

    A structural fault (not a spreadsheet, no header, no location column) raises
    SpreadsheetError here, before anything is staged; a fault found while reading (a broken CSV
    quote on row 800,000) raises it from the iterator. Each row is checked as it is consumed:
    accepted rows are yielded as STAGE_COLUMNS tuples of text, rejected rows go to
    `outcome.rejected` with their row number. `outcome.rows` and `outcome.accepted` are final
    once the iterator is exhausted. Duplicate ID numbers are the comparison's to find.
    """
    table = _open(source, columns=REGISTRY_COLUMNS, filename=filename)
    if "region_code" not in table.present and "village" not in table.present:
        raise SpreadsheetError(
            _("缺少户籍地列：需要〈区划代码〉，或〈乡镇(街道)〉与〈村(社区)〉（可加〈村民小组〉）")
        )
    outcome = ImportOutcome()
    return outcome, _registry_rows(table, Locations.load(region), outcome)


def _registry_rows(table: Table, places: Locations, outcome: ImportOutcome) -> Iterator[tuple]:
    """The checks of read_registry. A clean row (an 18-character ID as the police system writes
    it, a known code, a plain status) takes a fast path that accepts exactly what the full
    checks accept; anything else goes through the full checks, which also word the reason."""
    today = timezone.localdate()
    heads: dict[str, tuple[int, str] | None] = {}
    locations: dict[tuple, tuple[str, str] | str] = {}
    birth_columns: dict[object, tuple[str, str]] = {}  # cell -> (ISO date or "", error)
    keys = [c.key for c in table.columns]
    ix = {key: keys.index(key) for key in keys}
    i_id, i_name, i_sex, i_birth = ix["id_number"], ix["name"], ix["sex"], ix["birth_date"]
    i_status, i_household = ix["status"], ix["household_no"]
    place_of = itemgetter(ix["region_code"], ix["township"], ix["village"], ix["group"])
    statuses = {**REGISTRY_STATUS, None: "normal"}
    reject = outcome.rejected.append
    check, known_head, tail_of = _CHECK, heads.get, _TAILS.get
    rows = 0

    for row_number, cells in table.rows():
        rows += 1
        column = ID_COLUMN.label
        raw = cells[i_id]
        try:
            # ID number: the fast path for the clean case, the full rules otherwise.
            iso = None
            if raw.__class__ is str and len(raw) == 18:
                head = known_head(raw[:14])
                if head is None and raw[:14] not in heads:
                    head = _id_head(raw[:14], today, heads)
                tail = tail_of(raw[14:17])
                if (
                    head is not None
                    and tail is not None
                    and check[(head[0] + tail) % 11] == raw[17]
                ):
                    iso = head[1]
            if iso is not None:
                number, sex = raw, "M" if raw[16] in "13579" else "F"
            else:
                parsed = idnumber.parse(parse_id_number(raw), today=today)
                number, sex, iso = parsed.number, parsed.sex, parsed.birth_date.isoformat()

            column = NAME_COLUMN.label
            name = cells[i_name]
            if name.__class__ is not str or not name.isprintable() or name != name.strip():
                name = text(name)
            checked_name(name)

            column = STATUS_COLUMN.label
            status = statuses.get(cells[i_status])
            if status is None:
                status = statuses.get(text(cells[i_status]))
                if status is None:
                    raise CellError(_("人员状态应为 正常、死亡 或 迁出"))

            conflicts = ""
            column = SEX_COLUMN.label
            sex_cell = cells[i_sex]
            if sex_cell:
                sex_word = SEX_WORDS.get(sex_cell) or SEX_WORDS.get(text(sex_cell).upper())
                if sex_word is None:
                    raise CellError(_("性别应为 男 或 女"))
                if sex_word != sex:
                    conflicts = _("性别列为“%(value)s”，与身份证号码不符") % {
                        "value": text(sex_cell)
                    }
            column = BIRTH_COLUMN.label
            birth_cell = cells[i_birth]
            if birth_cell not in (None, ""):
                born = birth_columns.get(birth_cell)
                if born is None:
                    try:
                        born = (parse_date(birth_cell).isoformat(), "")
                    except CellError as exc:
                        born = ("", exc.message)
                    birth_columns[birth_cell] = born
                if born[1]:
                    raise CellError(born[1])
                if born[0] != iso:
                    note = _("出生日期列为 %(value)s，与身份证号码不符") % {"value": born[0]}
                    if conflicts:
                        note = pgettext("list separator", "；").join((conflicts, note))
                    conflicts = note

            # Location: a few hundred distinct places, resolved once each.
            key = place_of(cells)
            place = locations.get(key)
            if place is None:
                place = _resolve_place(places, *key)
                locations[key] = place
            if place.__class__ is str:
                column = CODE_COLUMN.label if key[0] not in (None, "") else VILLAGE_COLUMN.label
                raise CellError(place)
            village, group = place

            column = HOUSEHOLD_COLUMN.label
            household = cells[i_household]
            if household.__class__ is not str or not household.isascii():
                household = text(household)
            household = household.strip()
            if len(household) > HOUSEHOLD_MAX:
                raise CellError(
                    _("户号过长：%(length)s 个字符，最多 %(limit)s 个")
                    % {"length": len(household), "limit": HOUSEHOLD_MAX}
                )
        except (CellError, idnumber.InvalidIDNumber) as exc:
            reject(Rejection(row_number, column, exc.message, text(raw)[:18]))
            if column != ID_COLUMN.label:
                # Known person, wrong cell: they must not look absent from the registry.
                yield (str(row_number), number, "", "", None, "", "", "", "held", "")
            continue
        yield (str(row_number), number, name, sex, iso, village, group,
               household, status, conflicts[:200])  # fmt: skip
    outcome.rows = rows
    outcome.accepted = rows - len(outcome.rejected)


def _resolve_place(places: Locations, code, township, village, group) -> tuple[str, str] | str:
    """(village code, group code or "") or the reason the place is unknown."""
    try:
        parsed_code = parse_code(code) if code not in (None, "") else ""
        village_code, group_code = places.resolve(
            code=parsed_code, township=text(township), village=text(village), group=text(group)
        )
    except CellError as exc:
        return exc.message
    return village_code, group_code or ""


def read_department_list(
    source,
    *,
    region: Region,
    category: str,
    list_date: datetime.date,
    filename: str | None = None,
) -> tuple[list[DepartmentRow], ImportOutcome]:
    table = _open(source, columns=DEPARTMENT_COLUMNS, filename=filename)
    if category == "disability" and "grade" not in table.present:
        raise SpreadsheetError(_("重度残疾人名单缺少〈残疾等级〉列（只认定一、二级）"))
    outcome = ImportOutcome()
    today = timezone.localdate()
    accepted: dict[int, DepartmentRow] = {}
    seen: dict[str, list[int]] = defaultdict(list)
    keys = [c.key for c in table.columns]
    skipped = 0
    for row_number, values in table.rows():
        outcome.rows += 1
        cell = dict(zip(keys, values, strict=True))
        column = ID_COLUMN.label
        try:
            parsed = idnumber.parse(parse_id_number(cell["id_number"]), today=today)
            column = NAME_COLUMN.label
            name = checked_name(text(cell["name"]))
        except (CellError, idnumber.InvalidIDNumber) as exc:
            outcome.rejected.append(
                Rejection(row_number, column, exc.message, text(cell.get("id_number"))[:18])
            )
            continue
        seen[parsed.number].append(row_number)
        if category == "disability" and text(cell["grade"]) not in SEVERE_GRADES:
            skipped += 1  # grades 3-4 are not 重度残疾人 and get no proxy payment
            continue
        accepted[row_number] = DepartmentRow(id_number=parsed.number, name=name)
    _mark_duplicates(seen, accepted, outcome)
    outcome.rejected.sort(key=lambda r: r.row)
    outcome.accepted = len(accepted)
    outcome.counts["skipped_grade"] = skipped
    return list(accepted.values()), outcome
