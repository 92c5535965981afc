"""The regions import: a county's villages and villager groups from its own list, through the
service the command and the admin upload share."""

import io

import openpyxl
import pytest

from conftest import make_group, make_village
from pension.models import AuditEntry, Region
from pension.services import regions_import
from pension.spreadsheets import SpreadsheetError

TITLE = "沧源佤族自治县村（社区）和村民小组名单"
HEADER = ["区划代码", "名称"]
# Rows start at 3: a title row, then the header, as county lists are usually laid out.
FIRST_ROW = 3


def csv_file(rows, *, header=HEADER, title=True) -> io.BytesIO:
    lines = [TITLE] if title else []
    if header:
        lines.append(",".join(header))
    lines += [",".join(str(value) for value in row) for row in rows]
    data = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8-sig"))
    data.name = "regions.csv"
    return data


def xlsx_file(rows, *, header=HEADER) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([TITLE])
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    return data


def run(rows, **kwargs):
    file_kwargs = kwargs.pop("file_kwargs", {})
    return regions_import(source=csv_file(rows, **file_kwargs), filename="regions.csv", **kwargs)


def snapshot() -> list[tuple]:
    """Every region and audit entry, to show that a refused import wrote nothing."""
    regions = list(Region.objects.order_by("code").values_list("code", "name", "level", "parent"))
    return [*regions, AuditEntry.objects.count()]


def rejections(result) -> list[tuple[int, str, str]]:
    return [(r.row, r.column, r.reason) for r in result.rejected]


GOOD_ROWS = [
    ["530927203201", "班考村"],
    ["530927203201001", "班考一组"],
    ["530927203201002", "班考二组"],
    ["530927203202", "永和社区"],
]


def test_villages_and_groups_are_created_with_their_level_and_parent_from_the_code(township):
    result = run(GOOD_ROWS)
    assert (result.rows, result.created, result.updated, result.rejected) == (4, 4, 0, [])
    assert result.applied
    village = Region.objects.get(code="530927203201")
    assert (village.name, village.level, village.parent_id) == ("班考村", "village", "530927203")
    group = Region.objects.get(code="530927203201002")
    assert (group.name, group.level, group.parent_id) == ("班考二组", "group", "530927203201")
    assert Region.objects.get(code="530927203202").level == Region.Level.VILLAGE


def test_a_group_listed_before_its_village_is_created_under_it(township):
    result = run([["530927203201001", "班考一组"], ["530927203201", "班考村"]])
    assert (result.created, result.rejected) == (2, [])
    assert Region.objects.get(code="530927203201001").parent_id == "530927203201"


def test_a_group_of_a_village_already_on_file_needs_no_village_row(village):
    result = run([["530927203200007", "七组"]])
    assert result.created == 1
    assert Region.objects.get(code="530927203200007").parent == village


def test_the_upper_code_column_and_the_header_aliases_are_honoured(township):
    result = run(
        [["530927203201", "班考村", "530927203"], ["530927203201001", "一组", "530927203201"]],
        file_kwargs={"header": ["行政区划代码", "区划名称", "上级代码"]},
    )
    assert (result.created, result.rejected) == (2, [])
    assert Region.objects.get(code="530927203201001").parent_id == "530927203201"


def test_an_upper_code_that_is_not_the_code_prefix_is_rejected(township):
    result = run(
        [
            ["530927203201", "班考村", "530927203"],
            ["530927203202", "永和社区", "530927203"],
            ["530927203203", "错挂村", "530927204"],
        ],
        file_kwargs={"header": ["区划代码", "名称", "上级代码"]},
    )
    assert rejections(result) == [
        (
            5,
            "上级代码",
            "上级代码 530927204 与区划代码 530927203203 不符：应为区划代码的前9位 530927203",
        )
    ]
    assert result.created == 2
    assert not Region.objects.filter(code="530927203203").exists()


def test_existing_codes_are_renamed_in_place_and_counted(village, township):
    group = make_group(village, 1)
    result = run([[village.code, "糯良社区"], [group.code, "一组"], ["530927203200002", "2组"]])
    assert (result.created, result.updated, result.unchanged) == (1, 2, 0)
    village.refresh_from_db()
    group.refresh_from_db()
    assert (village.name, village.level, village.parent_id) == ("糯良社区", "village", "530927203")
    assert (group.name, group.parent_id) == ("一组", village.code)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(township):
    run(GOOD_ROWS)
    before = snapshot()
    again = run(GOOD_ROWS)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 4, [])
    assert snapshot() == before


def test_the_import_is_recorded_once_with_its_counts_on_the_county(township, county_user):
    run([*GOOD_ROWS, ["530927203201003", ""]], actor=county_user)
    entry = AuditEntry.objects.get(action="regions.import")
    assert (entry.target_type, entry.target_id, entry.region_code) == (
        "pension.region",
        "530927",
        "530927",
    )
    assert entry.actor == county_user
    assert entry.changes["created"] == 4
    assert entry.changes["rejected"] == 1
    assert entry.changes["filename"] == "regions.csv"


def test_a_rename_keeps_the_old_name_in_the_audit_trail(village):
    run([[village.code, "糯良社区"]])
    entry = AuditEntry.objects.get(action="regions.import")
    assert entry.changes["renamed"] == {village.code: ["糯良村", "糯良社区"]}


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["5309272032031", "长码村"], "区划代码", "代码应为12位或15位数字：5309272032031"),
        (["53092720320A", "字母村"], "区划代码", "代码应为12位或15位数字：53092720320A"),
        (["", "无码村"], "区划代码", "代码为空"),
        (
            ["530927299201", "无乡村"],
            "区划代码",
            "所属乡镇（街道）530927299 不存在：乡镇随系统提供，请核对代码的前9位",
        ),
        (
            ["530927203299001", "无村组"],
            "区划代码",
            "所属村（社区）530927203299 不存在：系统中没有，文件中也没有这个村的有效行",
        ),
        (["530927203203", ""], "名称", "名称不能为空"),
        (["530927203203", "长" * 61], "名称", "名称过长：61个字，最多60个字"),
    ],
)
def test_a_bad_row_is_rejected_with_its_row_column_and_reason(township, row, column, reason):
    result = run([*GOOD_ROWS, row])
    assert rejections(result) == [(FIRST_ROW + len(GOOD_ROWS), column, reason)]
    assert result.created == len(GOOD_ROWS)
    assert Region.objects.in_region("530927203").count() == 1 + len(GOOD_ROWS)


def test_a_code_given_twice_rejects_every_row_that_gives_it(township):
    result = run([*GOOD_ROWS, ["530927203203", "甲村"], ["530927203203", "乙村"]])
    reason = "区划代码 530927203203 在文件中重复出现（第7、8行）"
    assert rejections(result) == [(7, "区划代码", reason), (8, "区划代码", reason)]
    assert not Region.objects.filter(code="530927203203").exists()
    assert result.created == len(GOOD_ROWS)


def test_the_same_code_written_as_a_number_and_as_text_is_still_a_duplicate(township):
    data = xlsx_file([*GOOD_ROWS, [530927203203.0, "甲村"], ["530927203203", "乙村"]])
    result = regions_import(source=data, filename="regions.xlsx")
    assert [r.row for r in result.rejected] == [7, 8]
    assert not Region.objects.filter(code="530927203203").exists()


def test_the_groups_of_a_rejected_village_are_rejected_with_it(township):
    result = run([*GOOD_ROWS, ["530927203203", ""], ["530927203203001", "一组"]])
    assert [(r.row, r.column) for r in result.rejected] == [(7, "名称"), (8, "区划代码")]
    assert not Region.objects.filter(code__startswith="530927203203").exists()


def test_a_township_row_renames_an_existing_township_but_never_adds_one(township):
    result = run([*GOOD_ROWS, ["530927203", "糯良镇"], ["530927299", "新乡"]])
    assert result.updated == 1
    assert Region.objects.get(code="530927203").name == "糯良镇"
    assert rejections(result) == [
        (
            8,
            "区划代码",
            "没有区划代码为 530927299 的乡镇（街道）：乡镇随系统提供，"
            "导入只能修改已有乡镇的名称，不能新增",
        )
    ]
    assert not Region.objects.filter(code="530927299").exists()


def test_the_county_row_of_a_full_list_passes_when_unchanged_and_is_refused_when_renamed(
    township,
):
    result = run([["530927", "沧源县"], *GOOD_ROWS])
    assert rejections(result) == [
        (3, "区划代码", "530927 是县/市/区级区划：县级及以上区划随系统提供，不能通过导入改名")
    ]
    assert Region.objects.get(code="530927").name == "沧源佤族自治县"
    result = run([["530927", "沧源佤族自治县"], *GOOD_ROWS])
    assert (result.unchanged, result.rejected) == (5, [])


def test_statistics_bureau_codes_padded_to_twelve_digits_are_read_as_their_township(township):
    result = run([["530927203000", "糯良乡"], *GOOD_ROWS])
    assert (result.created, result.unchanged, result.rejected) == (4, 1, [])
    assert not Region.objects.filter(code="530927203000").exists()


def test_more_than_half_bad_rows_write_nothing_and_say_why(township):
    before = snapshot()
    result = run([["530927203201", "班考村"], ["530927203202", ""], ["5309272032", "短码"]])
    assert result.refused_reason == ("错误行超过一半（2/3 行），可能选错了文件或列，未写入任何数据")
    assert not result.applied
    assert (result.created, result.updated) == (0, 0)
    assert len(result.rejected) == 2
    assert snapshot() == before


def test_exactly_half_bad_rows_still_applies_the_good_half(township):
    result = run([["530927203201", "班考村"], ["530927203202", ""]])
    assert (result.applied, result.created, len(result.rejected)) == (True, 1, 1)


def test_a_file_with_a_header_and_no_rows_writes_nothing(township):
    before = snapshot()
    result = run([])
    assert result.refused_reason == "文件中没有数据行，未写入任何数据"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        ("区划代码,上级代码\n530927203201,530927203\n".encode(), "缺少必需的列：名称"),
        (b"\x89PNG\r\n\x1a\n", "不是电子表格文件"),
    ],
)
def test_a_structural_fault_writes_nothing(township, data, message):
    before = snapshot()
    with pytest.raises(SpreadsheetError, match=message):
        regions_import(source=io.BytesIO(data), filename="regions.csv")
    assert snapshot() == before


def test_codes_that_excel_stored_as_numbers_are_accepted(township):
    data = xlsx_file(
        [
            [530927203200.0, "糯良村"],
            [530927203200001.0, "一组"],
            [530927203201, "班考村"],
        ]
    )
    result = regions_import(source=data, filename="regions.xlsx")
    assert (result.created, result.rejected) == (3, [])
    assert Region.objects.get(code="530927203200001").parent_id == "530927203200"


def test_a_dry_run_counts_what_would_change_and_writes_nothing(village):
    before = snapshot()
    result = run([[village.code, "糯良社区"], *GOOD_ROWS], dry_run=True)
    assert (result.created, result.updated, result.dry_run, result.applied) == (4, 1, True, False)
    assert snapshot() == before


def test_nothing_is_deleted_when_a_list_leaves_a_region_out(village):
    other = make_village(village.parent, 209, "南撒村")
    run(GOOD_ROWS)
    assert Region.objects.filter(code__in=[village.code, other.code]).count() == 2
