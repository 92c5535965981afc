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
from dataclasses import dataclass

from django.utils import timezone

from enrollment.services.departments import DepartmentRow
from enrollment.services.imports import ImportOutcome, Rejection
from enrollment.services.registry import RegistryRow, held_row
from pension import idnumber
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

ID_COLUMN = Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "证件号码"))
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
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

_SUFFIXES = ("村民委员会", "居民委员会", "社区居委会", "村委会", "居委会", "社区", "村")
_NUMERALS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九", start=0)}


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
    key = key.removeprefix("第")
    for suffix in ("村民小组", "居民小组", "小组", "组"):
        key = key.removesuffix(suffix)
    if key.startswith("十") and len(key) > 1:
        key = "1" + key[1:]
    if key.endswith("十") and len(key) > 1:
        key = key[:-1] + "0"
    key = key.replace("十", "")
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
            raise CellError(f"户籍地不在{self.scope.name}辖区内")
        return village_code, group_code

    def _resolve(
        self, code: str, township: str, village: str, group: str
    ) -> tuple[str, str | None]:
        if code:
            if self.codes.get(code) == Region.Level.GROUP:
                return code[:12], code
            if self.codes.get(code) == Region.Level.VILLAGE:
                return code, None
            raise CellError(f"区划代码 {code} 不是本县（{self.county.name}）的村或村民小组")
        if not village:
            raise CellError("缺少村(社区)")
        if township:
            village_code = self.villages.get((place_key(township), place_key(village)))
            if village_code is None:
                raise CellError(f"{township}{village} 不在本县区划中")
        else:
            candidates = self.village_by_name.get(place_key(village), [])
            if len(candidates) != 1:
                problem = "有重名" if candidates else "不存在"
                raise CellError(f"{village} 在本县{problem}，请填写乡镇")
            village_code = candidates[0]
        if not group:
            return village_code, None
        group_code = self.groups.get((village_code, group_key(group)))
        if group_code is None:
            raise CellError(f"{village}没有“{group}”这个村民小组")
        return village_code, group_code


def _open(source, *, columns, filename: str | None) -> Table:
    return read_table(source, columns=columns, filename=filename, max_bytes=MAX_UPLOAD_BYTES)


def _mark_duplicates(
    seen: dict[str, list[int]], accepted: dict[int, object], outcome: ImportOutcome
) -> None:
    """An ID that appears twice is rejected on every row it appears in."""
    for number, row_numbers in seen.items():
        if len(row_numbers) < 2:
            continue
        listed = "、".join(str(n) for n in row_numbers[:10])
        for row_number in row_numbers:
            accepted.pop(row_number, None)
            outcome.rejected.append(
                Rejection(
                    row_number, ID_COLUMN.label, f"身份证号码在文件中重复出现（第{listed}行）",
                    idnumber.mask(number),
                )
            )  # fmt: skip


def read_registry(
    source, *, region: Region, as_of: datetime.date, filename: str | None = None
) -> tuple[list[RegistryRow], ImportOutcome]:
    """Every row of a registry export checked; raises SpreadsheetError for a structural fault."""
    table = _open(source, columns=REGISTRY_COLUMNS, filename=filename)
    if "region_code" not in table.present and "village" not in table.present:
        raise SpreadsheetError(
            "缺少户籍地列：需要〈区划代码〉，或〈乡镇(街道)〉与〈村(社区)〉（可加〈村民小组〉）"
        )
    places = Locations.load(region)
    outcome = ImportOutcome()
    held: set[str] = set()  # valid ID numbers on rejected rows
    today = timezone.localdate()
    accepted: dict[int, RegistryRow] = {}
    seen: dict[str, list[int]] = defaultdict(list)
    keys = [c.key for c in table.columns]
    for row_number, values in table.rows():
        outcome.rows += 1
        cell = dict(zip(keys, values, strict=True))
        column = ID_COLUMN.label
        try:
            raw_id = parse_id_number(cell["id_number"])
            parsed = idnumber.parse(raw_id, today=today)
            column = NAME_COLUMN.label
            name = text(cell["name"])
            if not name:
                raise CellError("姓名不能为空")
            column = STATUS_COLUMN.label
            status = REGISTRY_STATUS.get(text(cell["status"]))
            if status is None:
                raise CellError("人员状态应为 正常、死亡 或 迁出")
            conflicts = []
            column = SEX_COLUMN.label
            sex_text = text(cell["sex"]).upper()
            if sex_text:
                sex = SEX_WORDS.get(sex_text)
                if sex is None:
                    raise CellError("性别应为 男 或 女")
                if sex != parsed.sex:
                    conflicts.append(f"性别列为“{text(cell['sex'])}”，与身份证号码不符")
            column = BIRTH_COLUMN.label
            if cell["birth_date"] not in (None, ""):
                born = parse_date(cell["birth_date"])
                if born != parsed.birth_date:
                    conflicts.append(f"出生日期列为 {born:%Y-%m-%d}，与身份证号码不符")
            has_code = cell["region_code"] not in (None, "")
            column = CODE_COLUMN.label if has_code else VILLAGE_COLUMN.label
            code = parse_code(cell["region_code"]) if has_code else ""
            village, group = places.resolve(
                code=code,
                township=text(cell["township"]),
                village=text(cell["village"]),
                group=text(cell["group"]),
            )
        except (CellError, idnumber.InvalidIDNumber) as exc:
            outcome.rejected.append(
                Rejection(row_number, column, exc.message, text(cell.get("id_number"))[:18])
            )
            if column != ID_COLUMN.label:
                held.add(parsed.number)
            continue
        seen[parsed.number].append(row_number)
        accepted[row_number] = RegistryRow(
            id_number=parsed.number,
            name=name[:50],
            sex=parsed.sex,
            birth_date=parsed.birth_date,
            village_id=village,
            group_id=group,
            household_no=text(cell["household_no"])[:30],
            status=status,
            conflict="；".join(conflicts)[:200],
        )
    _mark_duplicates(seen, accepted, outcome)
    outcome.rejected.sort(key=lambda r: r.row)
    outcome.accepted = len(accepted)
    rows = list(accepted.values())
    kept = {row.id_number for row in rows}
    held |= {number for number in seen if number not in kept}
    return rows + [held_row(number) for number in sorted(held - kept)], outcome


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
        raise SpreadsheetError("重度残疾人名单缺少〈残疾等级〉列（只认定一、二级）")
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
            name = text(cell["name"])
            if not name:
                raise CellError("姓名不能为空")
        except (CellError, idnumber.InvalidIDNumber) as exc:
            outcome.rejected.append(
                Rejection(row_number, column, exc.message, text(cell.get("id_number"))[:18])
            )
            continue
        seen[parsed.number].append(row_number)
        if category == "disability" and text(cell["grade"]) not in SEVERE_GRADES:
            skipped += 1  # grades 3-4 are not 重度残疾人 and get no proxy payment
            continue
        accepted[row_number] = DepartmentRow(id_number=parsed.number, name=name[:50])
    _mark_duplicates(seen, accepted, outcome)
    outcome.rejected.sort(key=lambda r: r.row)
    outcome.accepted = len(accepted)
    outcome.counts["skipped_grade"] = skipped
    return list(accepted.values()), outcome
