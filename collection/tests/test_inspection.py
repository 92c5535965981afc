"""The inspection worksheet (检查工作底稿) of a township or a village: each check filled from the
data, the inspector's blank columns, the same number of queries for any size, no ID number, and
who may download it."""

import datetime
import io
import re
from decimal import Decimal
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collection.exporters.inspection import write_inspection_workbook
from collection.models import AgentProfile, CashLimitBreach, CashReceipt, Notice, VillageProgress
from collection.services.inspection import (
    NoticeVerdict,
    inspection_notices,
    inspection_worksheet,
)
from conftest import make_group, make_user, make_village
from enrollment.tests.factories import ResidentFactory
from pension.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Three days after the 30 June milestone (60%) of the Yunnan 2023 schedule.
DAY = datetime.date(2023, 7, 3)
REMARKS = ["检查情况", "存在问题", "整改意见"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2023, 7, 3, 10, tzinfo=SHANGHAI)):
        yield


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def notice(group, period, posted=None, kind=Notice.Kind.MONTHLY):
    year, month = (int(part) for part in period.split("-"))
    due_on = datetime.date(year + (month == 12), month % 12 + 1, 20)
    return Notice.objects.create(
        group=group, kind=kind, period=period, due_on=due_on,
        generated_at=at(posted) if posted else None,
    )  # fmt: skip


def agent_of(village, username, signed_on=None, **extra):
    agent = make_user(username, User.Role.AGENT, village.parent, **extra)
    agent.villages.add(village)
    if signed_on is not None:
        AgentProfile.objects.create(user=agent, commitment_signed_on=signed_on)
    return agent


_receipts = iter(range(1, 100_000))


def held(agent, village, amount, collected_on):
    """Cash written straight to the table, for amounts the limits need but no tier has."""
    return CashReceipt.objects.create(
        agent=agent, resident=ResidentFactory(village=village), contribution_year=2023,
        amount=Decimal(amount), collected_on=collected_on, receipt_no=f"SJ-{next(_receipts)}",
    )  # fmt: skip


def breach(agent, day, kind=CashLimitBreach.Kind.DAYS):
    return CashLimitBreach.objects.create(
        agent=agent, day=day, kind=kind, oldest_collected_on=day - datetime.timedelta(days=11),
        unremitted=Decimal("300.00"),
    )  # fmt: skip


def snapshot(village, expected, paid, amount="0", cash_amount="0", cash_paid=0):
    return VillageProgress.objects.create(
        village=village, year=2023, day=DAY, expected=expected, paid=paid,
        amount=Decimal(amount), cash_amount=Decimal(cash_amount), cash_paid=cash_paid,
    )  # fmt: skip


@pytest.fixture
def second_village(township):
    return make_village(township, 201, "班考村")


@pytest.fixture
def world(township, village, second_village):
    """糯良村 behind its 60% milestone with 40% of its money in cash; 班考村 ahead of it.

    Groups: 糯良村 1组 posted April on time and May three days late; 糯良村 2组 has not posted
    May; 班考村 1组 posted May on time. June's notices are not due until 20 July.
    """
    first, second = make_group(village, 1), make_group(village, 2)
    other = make_group(second_village, 1)
    notice(first, "2023-04", posted=datetime.date(2023, 5, 18))
    notice(first, "2023-05", posted=datetime.date(2023, 6, 23))
    notice(second, "2023-05")
    notice(other, "2023-05", posted=datetime.date(2023, 6, 20))
    notice(first, "2023-06")  # due 20 July: not yet
    notice(first, "2022-12", posted=datetime.date(2023, 1, 30))  # the 2022 campaign's

    signed = datetime.date(2023, 1, 5)
    over_amount = agent_of(village, "agent-li", signed, last_name="李")
    held(over_amount, village, "10000.01", datetime.date(2023, 7, 1))
    over_days = agent_of(village, "agent-wang", last_name="王")  # no commitment on file
    held(over_days, village, "300", datetime.date(2023, 6, 22))  # 11 days
    within = agent_of(second_village, "agent-zhao", signed, last_name="赵")
    held(within, second_village, "10000.00", datetime.date(2023, 6, 23))  # exactly 10 days
    breach(within, datetime.date(2023, 6, 10))
    breach(within, datetime.date(2023, 6, 11), CashLimitBreach.Kind.AMOUNT)
    breach(over_days, datetime.date(2023, 5, 1))  # more than 30 days ago

    snapshot(village, 100, 50, amount="15000", cash_amount="6000", cash_paid=20)
    snapshot(second_village, 100, 70, amount="21000", cash_amount="2100", cash_paid=7)
    return township


def workbook_of(worksheet) -> openpyxl.Workbook:
    out = io.BytesIO()
    write_inspection_workbook(worksheet=worksheet, out=out)
    out.seek(0)
    return openpyxl.load_workbook(out)


def table(book, name) -> tuple[list, list[dict]]:
    """(headings, lines as dicts by heading) of a sheet: the lines below the heading row."""
    rows = [list(row) for row in book[name].iter_rows(values_only=True)]
    start = next(n for n, row in enumerate(rows) if "检查情况" in row)
    headings = rows[start]
    return headings, [dict(zip(headings, row, strict=False)) for row in rows[start + 1 :]]


def township_book(township):
    return workbook_of(inspection_worksheet(region=township, year=2023, day=DAY))


# --- 公示告知书按时张贴 ----------------------------------------------------------------------


def test_the_notice_sheet_lists_each_notice_due_by_the_day_as_on_time_late_or_overdue(world):
    _headings, lines = table(township_book(world), "公示告知书")

    assert [
        (line["村(社区)"], line["村民小组"], line["期间"], line["公示时限"].date(),
         line["张贴(生成)日期"] and line["张贴(生成)日期"].date(), line["是否按时"])
        for line in lines
    ] == [
        ("糯良村", "1组", "2023-04", datetime.date(2023, 5, 20), datetime.date(2023, 5, 18),
         "按时公示"),
        ("糯良村", "1组", "2023-05", datetime.date(2023, 6, 20), datetime.date(2023, 6, 23),
         "逾期3天公示"),
        ("糯良村", "2组", "2023-05", datetime.date(2023, 6, 20), None, "逾期未公示"),
        ("班考村", "1组", "2023-05", datetime.date(2023, 6, 20), datetime.date(2023, 6, 20),
         "按时公示"),
    ]  # fmt: skip
    assert {line["公示类型"] for line in lines} == {"月度缴费公示"}


def test_a_notice_the_daily_task_has_not_stored_yet_is_listed_as_overdue(township, village):
    group = make_group(village, 1)

    [line] = inspection_notices(region=township, year=2023, day=datetime.date(2023, 7, 21))

    assert (line.group_code, line.period, line.verdict) == (group.code, "2023-06", "overdue")
    assert not Notice.objects.exists()


def test_a_notice_posted_after_the_worksheets_day_was_not_posted_on_that_day(township, village):
    notice(make_group(village, 1), "2023-05", posted=datetime.date(2023, 6, 25))

    [before] = inspection_notices(region=township, year=2023, day=datetime.date(2023, 6, 22))
    [due_day] = inspection_notices(region=township, year=2023, day=datetime.date(2023, 6, 20))

    assert (before.posted_on, before.verdict) == (None, NoticeVerdict.OVERDUE)
    assert (due_day.posted_on, due_day.verdict) == (None, NoticeVerdict.DUE_TODAY)


# --- 承诺书 and 双限 ------------------------------------------------------------------------


def test_an_agent_without_a_signed_commitment_is_marked_not_signed(world):
    _headings, lines = table(township_book(world), "承诺书")

    assert [
        (line["协办员"], line["负责的村"], line["承诺书签订日期"], line["是否已签订"])
        for line in lines
    ] == [
        ("李", "糯良村", datetime.datetime(2023, 1, 5), "是"),
        ("王", "糯良村", None, "否"),
        ("赵", "班考村", datetime.datetime(2023, 1, 5), "是"),
    ]


def test_an_agent_over_the_amount_or_the_days_limit_is_in_breach_and_one_at_them_is_not(world):
    _headings, lines = table(township_book(world), "双限")

    found = {line["协办员"]: line for line in lines}
    assert found["李"]["未缴销现金(元)"] == 10000.01
    assert found["李"]["当前是否超限"] == "是（现金留存超过金额）"
    assert (found["王"]["留存天数"], found["王"]["当前是否超限"]) == (11, "是（现金留存超过天数）")
    assert (found["赵"]["留存天数"], found["赵"]["当前是否超限"]) == (10, "否")
    assert (found["赵"]["限额天数"], found["赵"]["限额金额(元)"]) == (10, 10000)


def test_the_daily_checks_breaches_of_the_last_30_days_are_shown_and_older_ones_are_not(world):
    _headings, lines = table(township_book(world), "双限")

    found = {line["协办员"]: line for line in lines}
    assert found["赵"]["近30天超限天数"] == 2
    assert found["赵"]["最近超限日期"] == datetime.datetime(2023, 6, 11)
    assert found["赵"]["近30天超限类型"] == "现金留存超过天数、现金留存超过金额"
    assert (found["王"]["近30天超限天数"], found["王"]["最近超限日期"]) == (0, None)


# --- 征缴进度与计划 and 现金征收占比 ---------------------------------------------------------


def test_a_village_below_the_milestone_is_marked_with_its_gap(world):
    _headings, lines = table(township_book(world), "征缴进度")

    found = {line["村(社区)"]: line for line in lines}
    behind, ahead, total = found["糯良村"], found["班考村"], found["合计"]
    assert (behind["完成率(%)"], behind["当前节点目标"], behind["差额"]) == (50, "6月30日前60%", 10)
    assert behind["是否达到进度"] == "否（未达进度）" and behind["乡镇内排名"] == "2/2"
    assert (ahead["差额"], ahead["是否达到进度"]) == (0, "是")
    assert (total["任务数"], total["已缴人数"], total["完成率(%)"]) == (200, 120, 60)


def test_before_the_first_milestone_no_village_is_marked_behind(township, village):
    VillageProgress.objects.create(
        village=village, year=2023, day=datetime.date(2023, 6, 25), expected=100, paid=10
    )
    worksheet = inspection_worksheet(region=township, year=2023, day=datetime.date(2023, 6, 25))

    _headings, lines = table(workbook_of(worksheet), "征缴进度")

    assert (lines[0]["差额"], lines[0]["是否达到进度"]) == (50, "首个进度节点未到")


def test_the_cash_share_of_each_village_comes_from_the_progress_rows(world):
    _headings, lines = table(township_book(world), "现金征收占比")

    assert [
        (line["村(社区)"], line["个人缴费金额(元)"], line["现金征收金额(元)"],
         line["现金缴费人数"], line["现金征收占比(%)"], line["占比排名"])
        for line in lines
    ] == [
        ("糯良村", 15000, 6000, 20, 40, 1),
        ("班考村", 21000, 2100, 7, 10, 2),
        ("合计", 36000, 8100, 27, 22.5, None),
    ]  # fmt: skip


def test_the_summary_sheet_counts_every_check(world):
    _headings, lines = table(township_book(world), "检查汇总")

    data = {line["检查事项"]: line["系统数据"] for line in lines}
    assert data["公示告知书按时张贴"] == "应公示4份：按时2份，逾期公示1份，逾期未公示1份"
    assert data["承诺书签订"] == "协办员3人：已签订2人，未签订1人"
    assert data["“双限”执行"] == "协办员3人：当前超限2人，近30天曾超限1人"
    assert data["征缴进度与计划"].endswith("未达进度的村(社区)1个")
    assert data["现金征收占比"] == "个人缴费36000.00元，其中现金8100.00元，现金征收占比22.50%"


# --- the workbook ----------------------------------------------------------------------------


def test_every_sheet_has_the_remarks_columns_and_they_are_empty_on_every_line(world):
    book = township_book(world)

    for name in book.sheetnames:
        headings, lines = table(book, name)
        assert headings[-3:] == REMARKS, name
        assert lines, name
        assert all(line[heading] is None for line in lines for heading in REMARKS), name


def test_each_sheet_opens_with_the_unit_year_and_day_and_a_line_for_the_signatures(world):
    book = township_book(world)

    for name in book.sheetnames:
        title, subtitle, signature = (
            row[0] for row in book[name].iter_rows(max_row=3, values_only=True)
        )
        assert title == "沧源佤族自治县糯良乡2023年度城乡居民基本养老保险征缴检查工作底稿"
        assert "缴费年度：2023年" in subtitle and "检查数据截至：2023年7月3日" in subtitle
        assert all(word in signature for word in ("检查人", "检查日期", "被检查单位负责人"))


def test_a_village_worksheet_holds_that_village_its_groups_and_its_agents_only(world, village):
    book = workbook_of(inspection_worksheet(region=village, year=2023, day=DAY))

    assert book["检查汇总"]["A1"].value.startswith("沧源佤族自治县糯良乡糯良村2023年度")
    assert {line["村(社区)"] for line in table(book, "公示告知书")[1]} == {"糯良村"}
    assert [line["协办员"] for line in table(book, "承诺书")[1]] == ["李", "王"]
    [progress] = table(book, "征缴进度")[1]
    assert (progress["村(社区)"], progress["差额"], progress["乡镇内排名"]) == ("糯良村", 10, "2/2")
    [cash] = table(book, "现金征收占比")[1]
    assert (cash["村(社区)"], cash["现金征收占比(%)"]) == ("糯良村", 40)


def test_a_township_worksheet_holds_every_village_and_the_total(world):
    book = township_book(world)

    assert [line["村(社区)"] for line in table(book, "征缴进度")[1]] == ["糯良村", "班考村", "合计"]
    assert {line["村(社区)"] for line in table(book, "公示告知书")[1]} == {"糯良村", "班考村"}


def test_no_full_id_number_appears_anywhere_in_the_workbook(world):
    numbers = set(CashReceipt.objects.values_list("resident__id_number", flat=True))
    book = township_book(world)

    cells = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert numbers and not any(number in cell for number in numbers for cell in cells)
    assert not any(re.search(r"\d{17}[\dX]", cell) for cell in cells)


def grow(township, size: int, first: int = 300) -> None:
    """`size` villages of the township, numbered from `first`, each with two groups with two
    notices, two agents with cash and a breach, and a progress row."""
    for number in range(first, first + size):
        village = make_village(township, number, f"新村{number}")
        for group_number in (1, 2):
            group = make_group(village, group_number)
            notice(group, "2023-04", posted=datetime.date(2023, 5, 21))
            notice(group, "2023-05")
        for agent_number in (1, 2):
            agent = agent_of(village, f"agent-{number}-{agent_number}", datetime.date(2023, 1, 5))
            held(agent, village, "300", datetime.date(2023, 6, 1))
            breach(agent, datetime.date(2023, 6, 20))
        snapshot(village, 100, 40, amount="3000", cash_amount="300", cash_paid=1)


def test_the_number_of_queries_does_not_grow_with_villages_agents_and_notices(township):
    def measured() -> tuple[int, tuple[int, int, int]]:
        with CaptureQueriesContext(connection) as captured:
            worksheet = inspection_worksheet(region=township, year=2023, day=DAY)
            write_inspection_workbook(worksheet=worksheet, out=io.BytesIO())
        sizes = (len(worksheet.units), len(worksheet.agents), len(worksheet.notices))
        return len(captured), sizes

    grow(township, 1)
    small, small_sizes = measured()
    grow(township, 4, first=400)
    large, large_sizes = measured()

    assert (small_sizes, large_sizes) == ((1, 2, 4), (5, 10, 20))
    assert small == large


# --- the download ----------------------------------------------------------------------------


def url(region, **query):
    address = reverse("collection:inspection_sheet", args=[region.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def tax_user(county):
    return make_user("tax-cangyuan", User.Role.TAX, county)


@pytest.fixture
def auditor(county):
    return make_user("shenji", User.Role.AUDITOR, county)


@pytest.mark.parametrize("who", ["county_user", "tax_user", "auditor", "township_user"])
def test_the_county_the_tax_bureau_auditors_and_the_township_itself_download_it(
    request, client, world, village, who
):
    client.force_login(request.getfixturevalue(who))

    for region in (world, village):
        response = client.get(url(region, year=2023, day="2023-07-03"))

        assert response.status_code == 200 and response["Content-Type"] == XLSX
        body = b"".join(response.streaming_content)
        book = openpyxl.load_workbook(io.BytesIO(body))
        assert book.sheetnames == [
            "检查汇总", "公示告知书", "承诺书", "双限", "征缴进度", "现金征收占比",
        ]  # fmt: skip
    assert "截至20230703）.xlsx" in unquote(response["Content-Disposition"])


@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("stranger", "township"),
        ("stranger", "village"),
        ("neighbour_user", "township"),
        ("neighbour_user", "village"),
        ("township_user", "other_township"),
        ("township_user", "other_village"),
    ],
)
def test_a_township_or_village_outside_the_users_region_is_not_found(
    db, request, client, who, where
):
    client.force_login(request.getfixturevalue(who))

    response = client.get(url(request.getfixturevalue(where)))

    assert response.status_code == 404


def test_a_county_or_a_villager_group_has_no_worksheet(client, county_user, county, village):
    client.force_login(county_user)

    assert client.get(url(county)).status_code == 404
    assert client.get(url(make_group(village, 1))).status_code == 404


def test_a_village_agent_may_not_download_the_worksheet_of_their_own_village(client, village):
    agent = agent_of(village, "agent-li", datetime.date(2023, 1, 5))
    client.force_login(agent)

    assert client.get(url(village)).status_code == 403


def test_the_worksheet_asks_for_a_login(client, township):
    response = client.get(url(township))

    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_progress_page_links_to_the_worksheet_of_the_township_and_of_each_village(
    client, township_user, world, village, second_village
):
    client.force_login(township_user)

    response = client.get(reverse("collection:progress", args=[world.code]), {"year": 2023})

    text = response.content.decode()
    for region in (world, village, second_village):
        assert reverse("collection:inspection_sheet", args=[region.code]) in text
