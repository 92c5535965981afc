import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from collection.exporters.progress import (
    progress_sheet_rows,
    target_sheet_rows,
    write_progress_sheet,
    write_target_sheet,
)
from collection.models import Target, VillageProgress
from collection.services.progress import progress_report, targets_import
from conftest import make_village

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAY = datetime.date(2023, 7, 1)


def snapshot(village, expected, paid, day=DAY):
    return VillageProgress.objects.create(
        village=village, year=2023, day=day, expected=expected, paid=paid
    )


def values(path_or_bytes):
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    sheet = openpyxl.load_workbook(source).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def downloaded(response):
    return b"".join(response.streaming_content)


@pytest.fixture
def targets(county, township, village, other_township):
    Target.objects.create(region=township, year=2023, count=1200)
    Target.objects.create(region=village, year=2023, count=300)
    banlao = make_village(other_township, 201, "班考村")
    Target.objects.create(region=banlao, year=2023, count=450)
    Target.objects.create(region=other_township, year=2022, count=999)


# --- 参保任务数 ----------------------------------------------------------------------------


def test_the_target_sheet_lists_each_township_and_a_total(county, targets):
    rows = list(target_sheet_rows(region=county, year=2023))

    assert rows[0] == ("勐董镇", None)
    named = dict(rows)
    # 糯良乡 has its own target; 勐来乡 has none and lists its villages' targets added up.
    assert (named["糯良乡"], named["勐来乡"]) == (1200, 450)
    assert rows[-1] == ("合计", 1650)
    assert len(rows) == 12


def test_the_target_workbook_has_a_title_a_header_and_a_bold_total(county, targets, tmp_path):
    path = tmp_path / "任务数.xlsx"

    units = write_target_sheet(region=county, year=2023, out=path)

    table = values(path)
    assert units == 11
    assert table[0][0] == "沧源佤族自治县2023年度城乡居民基本养老保险参保任务数"
    assert table[1] == ["乡镇", "任务数"]
    assert table[-1] == ["合计", 1650]
    assert openpyxl.load_workbook(path).active.cell(len(table), 1).font.bold


def test_the_target_sheet_of_a_township_lists_its_villages(township, targets):
    assert list(target_sheet_rows(region=township, year=2023)) == [
        ("糯良村", 300), ("合计", 300),
    ]  # fmt: skip


def test_our_own_target_sheet_imports_back_without_changing_anything(county, county_user, tmp_path):
    for n, township in enumerate(county.children.order_by("code"), start=1):
        Target.objects.create(region=township, year=2023, count=n * 100)
    path = tmp_path / "任务数.xlsx"
    write_target_sheet(region=county, year=2023, out=path)

    result = targets_import(source=path, county=county, year=2023, actor=county_user)

    # The title row above the header and the total row below the townships are not targets.
    assert (result.applied, result.rows, result.unchanged, result.created) == (True, 11, 11, 0)


# --- 征缴情况表 ----------------------------------------------------------------------------


@pytest.fixture
def progress(county, township, village, other_village):
    snapshot(village, 200, 110)
    snapshot(other_village, 100, 95)
    Target.objects.update_or_create(region=township, year=2023, defaults={"count": 250})


def test_the_progress_sheet_lists_each_township_against_the_milestone_in_force(county, progress):
    report = progress_report(region=county, year=2023, day=DAY)

    rows = list(progress_sheet_rows(report=report))

    assert rows[0] == ("勐来乡", 100, 95, Decimal("95.00"), "6月30日前60%", 0)
    assert ("糯良乡", 250, 110, Decimal("44.00"), "6月30日前60%", 40) in rows
    assert rows[-1] == ("合计", 350, 205, Decimal("58.57"), "6月30日前60%", 5)


def test_the_progress_workbook_titles_the_snapshot_day(county, progress, tmp_path):
    report = progress_report(region=county, year=2023, day=datetime.date(2023, 7, 5))
    path = tmp_path / "征缴情况表.xlsx"

    write_progress_sheet(report=report, out=path)

    table = values(path)
    assert table[0][0] == "沧源佤族自治县2023年度城乡居民基本养老保险征缴情况表（截至2023年7月1日）"
    assert table[1] == ["乡镇", "任务数", "已缴人数", "完成率(%)", "当前节点目标", "差额"]
    assert table[2] == ["勐来乡", 100, 95, 95, "6月30日前60%", 0]
    assert table[-1][0] == "合计"


# --- the downloads -------------------------------------------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2023, 7, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))):
        yield


def test_county_staff_download_both_sheets_from_the_progress_page(
    client, county_user, county, targets, progress, frozen
):
    client.force_login(county_user)

    sheet = client.get(reverse("collection:targets_sheet", args=["530927"]), {"year": 2023})
    report = client.get(reverse("collection:progress_sheet", args=["530927"]), {"year": 2023})

    assert sheet.status_code == report.status_code == 200
    assert sheet["Content-Type"] == report["Content-Type"] == XLSX
    assert values(downloaded(sheet))[-1] == ["合计", 250 + 450]
    assert values(downloaded(report))[1][0] == "乡镇"
    # 沧源佤族自治县2023年度征缴情况表（截至20230701）.xlsx
    assert "20230701" in report["Content-Disposition"]


def test_township_staff_download_their_townships_villages(
    client, township_user, township, progress, frozen
):
    client.force_login(township_user)

    response = client.get(reverse("collection:progress_sheet", args=[township.code]))

    table = values(downloaded(response))
    assert table[1][0] == "村(社区)"
    assert table[2][:3] == ["糯良村", 200, 110]
    assert table[-1][:3] == ["合计", 250, 110]


@pytest.mark.parametrize("name", ["targets_sheet", "progress_sheet"])
def test_a_sheet_of_another_county_or_township_is_not_found(
    client, township_user, stranger, county, other_township, name
):
    client.force_login(township_user)
    neighbour = client.get(reverse(f"collection:{name}", args=[other_township.code]))
    client.force_login(stranger)
    far = client.get(reverse(f"collection:{name}", args=[county.code]))

    assert neighbour.status_code == far.status_code == 404
