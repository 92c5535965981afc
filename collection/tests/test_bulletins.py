"""The weekly bulletin: the dashboard's figures for the same moment, ranked with the bottom three
named, kept as it was made, and made every Monday for the week to Sunday."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collection.models import Bulletin, CashLimitBreach, Notice, VillageProgress
from collection.services.bulletins import (
    BulletinRefused,
    bulletin_compose,
    bulletin_figures,
    bulletin_publish,
    bulletin_week_day,
)
from collection.tasks import publish_weekly_bulletins
from conftest import make_group, make_user, make_village
from pension.models import AuditEntry, Region, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUNDAY = datetime.date(2023, 7, 16)
WEEK_BEFORE = datetime.date(2023, 7, 9)
MONDAY_MORNING = datetime.datetime(2023, 7, 17, 7, tzinfo=SHANGHAI)
# 沧源's townships in code order (migration data); the tests give some of them one village.
TOWNSHIPS = ["530927101", "530927102", "530927103", "530927104", "530927202", "530927203"]


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY_MORNING):
        yield


def township(code: str) -> Region:
    return Region.objects.get(code=code)


def snapshot(village, day, expected, paid, **fields):
    return VillageProgress.objects.create(
        village=village, year=2023, day=day, expected=expected, paid=paid, **fields
    )


def villages_at(rates: dict[str, int], day=SUNDAY, number=200) -> dict[str, Region]:
    """One village in each township named, with 100 expected and `rate` of them paid."""
    made = {}
    for code, rate in rates.items():
        village = make_village(township(code), number, f"{township(code).name}{number}村")
        snapshot(village, day, 100, rate)
        made[code] = village
    return made


def publish(county, day=SUNDAY, actor=None):
    with time_machine.travel(MONDAY_MORNING):
        return bulletin_publish(county=county, day=day, actor=actor)


def names(units):
    return [unit["name"] for unit in units]


# --- the dashboard's figures -------------------------------------------------------------------


@pytest.fixture
def campaign(county):
    """Three weeks of progress in five townships, with proxy, cash, an agent over a limit and
    a notice overdue."""
    codes = TOWNSHIPS[:5]
    villages = {}
    for n, code in enumerate(codes):
        village = make_village(township(code), 200, f"村{n}")
        villages[code] = village
        for day, paid in ((SUNDAY - datetime.timedelta(14), 20), (WEEK_BEFORE, 30), (SUNDAY, 40)):
            snapshot(
                village, day, 100, paid + 10 * n, proxy_qualifying=5, proxy_qualifying_paid=n,
                amount=Decimal("1000.00"), cash_amount=Decimal(100 * n),
            )  # fmt: skip
    agent = make_user("yanka", User.Role.AGENT, None)
    agent.villages.add(villages[codes[0]])
    CashLimitBreach.objects.create(
        agent=agent, day=SUNDAY, kind="amount", oldest_collected_on=datetime.date(2023, 7, 1),
        unremitted=Decimal("12000.00"),
    )  # fmt: skip
    group = make_group(villages[codes[1]])
    Notice.objects.create(group=group, kind="monthly", period="2023-06",
                          due_on=datetime.date(2023, 7, 10))  # fmt: skip
    # Posted after Sunday: overdue on Sunday all the same.
    Notice.objects.create(
        group=group, kind="monthly", period="2023-05", due_on=datetime.date(2023, 6, 10),
        generated_at=datetime.datetime(2023, 7, 17, 9, tzinfo=SHANGHAI),
    )  # fmt: skip
    return county


def dashboard_on(client, user, region, day):
    client.force_login(user)
    with time_machine.travel(datetime.datetime.combine(day, datetime.time(20), SHANGHAI)):
        response = client.get(reverse("dashboard", args=[region.code]), {"year": 2023})
    return dict(response.context["tiles_by_key"])


def test_the_bulletin_shows_the_dashboards_figures_for_the_same_day(client, county_user, campaign):
    bulletin, _ = publish(campaign)
    tiles = dashboard_on(client, county_user, campaign, SUNDAY)

    figures = bulletin_figures(bulletin)
    report = tiles["progress"]["report"]
    assert [
        (u["code"], u["expected"], u["paid"], u["rate"], u["rank"], u["bottom"], u["gap"])
        for u in figures["townships"]
    ] == [(u.code, u.expected, u.paid, u.rate, u.rank, u.bottom, u.gap) for u in report.units]
    assert (figures["total"]["paid"], figures["total"]["rate"]) == (
        report.total.paid, report.total.rate,
    )  # fmt: skip
    assert figures["snapshot_day"] == report.snapshot_day == SUNDAY
    proxy = tiles["proxy"]
    assert (figures["proxy"]["qualifying"], figures["proxy"]["done"]) == (
        proxy["qualifying"], proxy["done"],
    )  # fmt: skip
    assert figures["proxy"]["missing"] == proxy["missing"] == 15  # 25 qualifying, 0+1+2+3+4 done
    assert figures["total"]["cash_share"] == tiles["cash"]["total"].cash_share
    assert [a["name"] for a in figures["agents"]["rows"]] == [
        entry.agent.display_name for entry in tiles["agents"]["agents"]
    ]
    assert figures["agents"]["check_day"] == tiles["agents"]["day"] == SUNDAY
    assert figures["notices"]["overdue"] == tiles["notices"]["overdue"] == 2
    forecast = tiles["forecast"]["forecast"]
    assert [u["forecast"]["projected_rate"] for u in figures["townships"]] == [
        f.projected_rate for f in forecast.units
    ]
    assert figures["forecast"]["total"]["projected_rate"] == forecast.total.projected_rate
    assert figures["forecast"]["missing"] == [f.unit.name for f in forecast.missing]


def test_each_village_has_the_forecast_its_townships_dashboard_shows(client, county_user, campaign):
    slow = make_village(township(TOWNSHIPS[5]), 200, "慢村")
    snapshot(slow, SUNDAY - datetime.timedelta(14), 100, 10)
    snapshot(slow, SUNDAY, 100, 24)  # a payer a day: 70 of 100 by 31 August, short of 90%
    bulletin, _ = publish(campaign)
    figures = bulletin_figures(bulletin)

    for code in (*TOWNSHIPS[:2], TOWNSHIPS[5]):
        tiles = dashboard_on(client, county_user, township(code), SUNDAY)
        expected = {
            f.unit.code: (f.projected_rate, f.needed_per_day, f.will_miss)
            for f in tiles["forecast"]["forecast"].units
        }
        shown = {
            u["code"]: (u["forecast"]["projected_rate"], u["forecast"]["needed_per_day"],
                        u["forecast"]["will_miss"])
            for u in figures["villages"]
            if u["code"].startswith(code)
        }  # fmt: skip
        assert shown == expected
    # The others gain 20 of 100 in 14 days: 100% by 31 August at that pace.
    assert figures["forecast"]["missing_villages"] == [
        {"name": "慢村", "rate": Decimal("24.00"), "township": "糯良乡"}
    ]


def test_each_unit_shows_its_change_since_the_same_day_a_week_before(campaign):
    bulletin, _ = publish(campaign)

    figures = bulletin_figures(bulletin)
    first = next(u for u in figures["townships"] if u["code"] == TOWNSHIPS[0])  # 30 → 40
    assert (first["previous_rate"], first["rate"]) == (Decimal("30.00"), Decimal("40.00"))
    assert (first["rate_change"], first["paid_change"]) == (Decimal("10.00"), 10)
    assert figures["previous_day"] == WEEK_BEFORE
    assert figures["total"]["paid_change"] == 50


def test_the_agent_over_a_limit_is_named_with_the_village_and_the_money(campaign):
    figures = bulletin_figures(publish(campaign)[0])

    assert figures["agents"]["rows"] == [
        {"name": "yanka", "villages": ["村0"], "kinds": ["现金留存超过金额"],
         "unremitted": Decimal("12000.00")},
    ]  # fmt: skip


# --- ranking, bottom three and commendation -----------------------------------------------------


def test_the_bottom_three_townships_and_villages_are_named(county):
    villages_at(dict(zip(TOWNSHIPS, (90, 80, 70, 60, 50, 40), strict=True)))

    figures = bulletin_figures(publish(county)[0])

    bottom = [township(code).name for code in TOWNSHIPS[3:]]
    assert names(figures["bottom_townships"]) == bottom
    assert names(figures["bottom_villages"]) == [f"{name}200村" for name in bottom]
    assert [u["township"] for u in figures["bottom_villages"]] == bottom


def test_units_tied_across_the_line_stay_above_it_so_fewer_than_three_are_named(county):
    villages_at(dict(zip(TOWNSHIPS[:5], (90, 70, 70, 60, 50), strict=True)))

    figures = bulletin_figures(publish(county)[0])

    ranks = [(u["rank"], u["bottom"]) for u in figures["townships"] if u["rank"]]
    assert ranks == [(1, False), (2, False), (2, False), (4, True), (5, True)]
    assert names(figures["bottom_townships"]) == [township(c).name for c in TOWNSHIPS[3:5]]


def test_units_tied_at_the_bottom_are_all_named(county):
    villages_at(dict(zip(TOWNSHIPS[:5], (90, 80, 60, 60, 60), strict=True)))

    figures = bulletin_figures(publish(county)[0])

    assert names(figures["bottom_townships"]) == [township(c).name for c in TOWNSHIPS[2:5]]
    assert {u["rank"] for u in figures["townships"] if u["bottom"]} == {3}


def test_villages_are_ranked_across_the_county_not_within_their_township(county):
    villages_at({TOWNSHIPS[0]: 95, TOWNSHIPS[1]: 20})
    villages_at({TOWNSHIPS[0]: 10, TOWNSHIPS[1]: 90}, number=201)
    villages_at({TOWNSHIPS[2]: 50})

    figures = bulletin_figures(publish(county)[0])

    assert [(u["name"], u["rank"]) for u in figures["villages"]] == [
        (f"{township(TOWNSHIPS[0]).name}200村", 1), (f"{township(TOWNSHIPS[1]).name}201村", 2),
        (f"{township(TOWNSHIPS[2]).name}200村", 3), (f"{township(TOWNSHIPS[1]).name}200村", 4),
        (f"{township(TOWNSHIPS[0]).name}201村", 5),
    ]  # fmt: skip
    assert names(figures["bottom_villages"]) == [
        f"{township(TOWNSHIPS[2]).name}200村", f"{township(TOWNSHIPS[1]).name}200村",
        f"{township(TOWNSHIPS[0]).name}201村",
    ]  # fmt: skip


def test_units_at_98_percent_or_more_are_commended_and_those_just_below_are_not(county):
    villages_at({TOWNSHIPS[0]: 98, TOWNSHIPS[1]: 100})
    below = make_village(township(TOWNSHIPS[2]), 200, "差一点村")
    snapshot(below, SUNDAY, 10000, 9799)  # 97.99%

    figures = bulletin_figures(publish(county)[0])

    commended = [(u["level"], u["name"], u["rate"]) for u in figures["commended"]]
    first, second = township(TOWNSHIPS[0]).name, township(TOWNSHIPS[1]).name
    assert commended == [
        ("township", second, Decimal("100.00")), ("township", first, Decimal("98.00")),
        ("village", f"{second}200村", Decimal("100.00")),
        ("village", f"{first}200村", Decimal("98.00")),
    ]  # fmt: skip


# --- kept as made ------------------------------------------------------------------------------


def test_a_kept_bulletin_opens_as_it_was_made_whatever_is_counted_later(county):
    villages = villages_at({TOWNSHIPS[0]: 40})
    bulletin, created = publish(county)
    VillageProgress.objects.filter(village=villages[TOWNSHIPS[0]]).update(paid=90)

    again, created_again = publish(county)

    assert created and not created_again and again.pk == bulletin.pk
    assert bulletin_figures(Bulletin.objects.get(pk=bulletin.pk))["total"]["paid"] == 40
    assert Bulletin.objects.count() == 1
    assert bulletin_compose(county=county, year=2023, day=SUNDAY)["total"]["paid"] == 90


def test_bulletins_are_numbered_one_after_another_in_a_county_and_year(county):
    villages_at({TOWNSHIPS[0]: 40}, day=WEEK_BEFORE)

    first, _ = publish(county, day=WEEK_BEFORE)
    second, _ = publish(county, day=SUNDAY)

    assert (first.number, second.number) == (1, 2)
    assert AuditEntry.objects.filter(action="bulletin.publish").count() == 2


@pytest.mark.parametrize(
    ("who", "day", "reason"),
    [
        ("township", SUNDAY, "只有县人社局人员可以生成进展通报"),
        ("auditor", SUNDAY, "只有县人社局人员可以生成进展通报"),
        ("county", datetime.date(2023, 7, 18), "通报日期不能晚于今天：2023-07-18"),
        ("county", datetime.date(2023, 1, 1), "还没有征缴进度统计"),
        ("outsider", SUNDAY, "不在您的辖区内"),
    ],
)
def test_a_refused_bulletin_says_why_and_writes_nothing(county, other_county, who, day, reason):
    villages_at({TOWNSHIPS[0]: 40})
    actor = {
        "township": make_user("nuoliang", User.Role.TOWNSHIP, township(TOWNSHIPS[5])),
        "auditor": make_user("shenji", User.Role.AUDITOR, county),
        "county": make_user("cangyuan", User.Role.COUNTY, county),
        "outsider": make_user("linxia", User.Role.COUNTY, other_county),
    }[who]

    with pytest.raises(BulletinRefused, match=reason):
        publish(county, day=day, actor=actor)

    assert not Bulletin.objects.exists()
    assert not AuditEntry.objects.filter(action="bulletin.publish").exists()


def test_a_year_without_a_schedule_has_no_bulletin(county):
    with pytest.raises(BulletinRefused, match="尚未配置2019年度缴费方案"):
        publish(county, day=datetime.date(2019, 7, 14))

    assert not Bulletin.objects.exists()


def test_making_the_content_costs_the_same_queries_however_many_units_and_agents(county):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            bulletin_compose(county=county, year=2023, day=SUNDAY)
        return len(captured)

    villages = villages_at({TOWNSHIPS[0]: 40})
    agent = make_user("a0", User.Role.AGENT, None)
    agent.villages.add(villages[TOWNSHIPS[0]])
    CashLimitBreach.objects.create(
        agent=agent, day=SUNDAY, kind="days", oldest_collected_on=datetime.date(2023, 7, 1),
        unremitted=Decimal("900.00"),
    )  # fmt: skip
    few = queries()
    for n, code in enumerate(TOWNSHIPS):
        for number in range(201, 205):
            village = make_village(township(code), number, f"村{n}{number}")
            snapshot(village, SUNDAY, 100, number - 150)
            agent = make_user(f"a{n}{number}", User.Role.AGENT, None)
            agent.villages.add(village)
            CashLimitBreach.objects.create(
                agent=agent, day=SUNDAY, kind="days",
                oldest_collected_on=datetime.date(2023, 7, 1), unremitted=Decimal("900.00"),
            )  # fmt: skip

    assert queries() == few


# --- every Monday ------------------------------------------------------------------------------


def test_the_week_runs_to_the_sunday_before(county):
    assert bulletin_week_day(datetime.date(2023, 7, 17)) == SUNDAY
    assert bulletin_week_day(datetime.date(2023, 7, 23)) == SUNDAY
    assert bulletin_week_day(datetime.date(2023, 7, 24)) == datetime.date(2023, 7, 23)


def test_on_monday_each_county_with_progress_gets_last_weeks_bulletin_once(county, monday):
    villages_at({TOWNSHIPS[0]: 40})

    made = publish_weekly_bulletins.delay().get()
    again = publish_weekly_bulletins.delay().get()

    assert (made, again) == (1, 0)
    bulletin = Bulletin.objects.get()
    assert (bulletin.county, bulletin.day, bulletin.number, bulletin.created_by) == (
        county, SUNDAY, 1, None,
    )  # fmt: skip


def test_the_monday_task_is_scheduled_for_monday_morning(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="collection.tasks.publish_weekly_bulletins")
    assert (task.crontab.day_of_week, task.crontab.hour, task.crontab.minute) == ("1", "7", "0")


# --- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def kept(county):
    villages_at(dict(zip(TOWNSHIPS, (99, 80, 70, 60, 50, 40), strict=True)))
    return publish(county)[0]


def test_the_printable_bulletin_names_the_bottom_three_and_says_how_it_forecasts(
    client, county_user, kept
):
    client.force_login(county_user)

    response = client.get(reverse("collection:bulletin_detail", args=[kept.pk]))

    html = response.content.decode()
    assert "城乡居民基本养老保险征缴工作进展通报" in html and "2023年第1期" in html
    bottom = response.context["figures"]["bottom_townships"]
    assert len(bottom) == 3
    for unit in bottom:
        assert f"{unit['name']}（{unit['rate']}%）" in html
    assert "线性推算" in html and "予以通报表扬" in html


def test_the_workbook_holds_the_pages_figures_sheet_by_sheet(client, county_user, kept):
    client.force_login(county_user)

    response = client.get(reverse("collection:bulletin_download", args=[kept.pk]))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == [
        "概况", "乡镇进度", "村进度", "表扬与批评", "应代尽代", "双限超限", "公示逾期",
    ]  # fmt: skip
    rows = list(book["乡镇进度"].iter_rows(min_row=3, values_only=True))
    figures = bulletin_figures(kept)
    assert [(r[0], r[1], r[3], r[4]) for r in rows[:-1]] == [
        (u["rank"], u["name"], u["paid"], float(u["rate"]) if u["rate"] else None)
        for u in figures["townships"]
    ]
    assert rows[-1][1] == "合计" and rows[-1][3] == figures["total"]["paid"]
    marks = [r[-1] for r in rows[:-1] if r[-1]]
    assert marks == ["表扬", "后三名", "后三名", "后三名"]


def test_the_county_bureau_makes_a_bulletin_from_the_list(client, county_user, county):
    villages_at({TOWNSHIPS[0]: 40})
    client.force_login(county_user)

    with time_machine.travel(MONDAY_MORNING):
        page = client.get(reverse("collection:bulletin_list"))
        response = client.post(
            reverse("collection:bulletin_publish"), {"county": county.code, "day": "2023-07-16"}
        )

    bulletin = Bulletin.objects.get()
    assert [(p["county"], p["year"], p["day"]) for p in page.context["publishers"]] == [
        (county, 2023, SUNDAY)
    ]
    assert response.url == reverse("collection:bulletin_detail", args=[bulletin.pk])
    assert bulletin.created_by == county_user


def test_after_a_campaign_year_the_form_offers_its_last_sunday_and_makes_that_years_bulletin(
    client, county_user, county
):
    villages_at({TOWNSHIPS[0]: 40}, day=datetime.date(2023, 12, 31))
    client.force_login(county_user)

    with time_machine.travel(datetime.datetime(2025, 3, 5, 9, tzinfo=SHANGHAI)):
        page = client.get(reverse("collection:bulletin_list"))
        client.post(
            reverse("collection:bulletin_publish"),
            {"county": county.code, "year": "2023", "day": "2023-12-31"},
        )

    (publisher,) = page.context["publishers"]
    assert (publisher["year"], publisher["day"]) == (2023, datetime.date(2023, 12, 31))
    assert 2023 in publisher["years"]
    assert Bulletin.objects.get().year == 2023


def test_the_tax_bureau_reads_bulletins_but_may_not_make_one(client, county, kept):
    tax = make_user("shuiwu", User.Role.TAX, county)
    client.force_login(tax)

    page = client.get(reverse("collection:bulletin_list"))
    response = client.post(
        reverse("collection:bulletin_publish"), {"county": county.code, "day": "2023-07-09"},
        follow=True,
    )  # fmt: skip

    assert list(page.context["bulletins"]) == [kept] and page.context["publishers"] == []
    assert "只有县人社局人员可以生成进展通报" in response.content.decode()
    assert Bulletin.objects.count() == 1


@pytest.mark.parametrize("url", ["collection:bulletin_detail", "collection:bulletin_download"])
def test_a_bulletin_is_not_found_outside_the_county(client, township_user, other_county, kept, url):
    for user in (township_user, make_user("linxia", User.Role.COUNTY, other_county)):
        client.force_login(user)
        assert client.get(reverse(url, args=[kept.pk])).status_code == 404
