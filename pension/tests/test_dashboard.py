"""The county dashboard and the township workspace: one page of tiles the apps contribute."""

import datetime
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collection.models import CashLimitBreach, Notice, Payment, VillageProgress
from collection.services.progress import progress_rebuild
from conftest import make_group, make_user, make_village
from enrollment.models import Finding, SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory
from pension.models import Region, User
from reconciliation.models import Discrepancy, ReconciliationRun

SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2023, 7, 20, 9, tzinfo=SHANGHAI)):
        yield


def dashboard(client, user, region, **query):
    client.force_login(user)
    return client.get(reverse("dashboard", args=[region.code]), query)


def tile(response, key):
    return dict(response.context["tiles_by_key"])[key]


def snapshot(village, expected, paid, day=datetime.date(2023, 7, 1)):
    return VillageProgress.objects.create(
        village=village, year=2023, day=day, expected=expected, paid=paid
    )


@pytest.fixture
def ranked_county(county, village, other_village):
    """Every township of the county with one village at its own rate; 糯良乡 last, 勐来乡
    first."""
    townships = Region.objects.filter(level="township", code__startswith="530927")
    for rank, township in enumerate(townships.order_by("code")):
        if township.code == "530927203":
            snapshot(village, 100, 10)
            snapshot(village, 100, 5, day=datetime.date(2023, 6, 1))
        elif township.code == "530927204":
            snapshot(other_village, 100, 95)
        else:
            snapshot(make_village(township, 200, f"{township.name}村"), 100, 80 - rank)
    return county


# --- who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("stranger", "county"),
        ("township_user", "county"),
        ("township_user", "other_township"),
        ("neighbour_user", "township"),
        ("county_user", "village"),
    ],
)
def test_a_dashboard_outside_the_users_region_or_below_a_township_is_not_found(
    db, request, client, who, where
):
    response = dashboard(client, request.getfixturevalue(who), request.getfixturevalue(where))

    assert response.status_code == 404


def test_the_dashboard_asks_for_a_login(client, county):
    response = client.get(reverse("dashboard", args=[county.code]))

    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_navigation_leads_each_user_to_their_own_county_or_township(
    client, county_user, township_user
):
    client.force_login(county_user)
    to_county = client.get(reverse("dashboard_home"))
    client.force_login(township_user)
    to_township = client.get(reverse("dashboard_home"), {"year": 2023})

    assert to_county["Location"] == reverse("dashboard", args=["530927"])
    assert to_township["Location"] == reverse("dashboard", args=["530927203"]) + "?year=2023"


def test_an_unreasonable_year_falls_back_to_this_year(client, county_user, county):
    response = dashboard(client, county_user, county, year="1999")

    assert response.context["year"] == 2023


def test_a_year_whose_schedule_is_not_entered_yet_opens_on_the_latest_campaign(
    client, county_user, county
):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)):
        response = dashboard(client, county_user, county)
        asked = dashboard(client, county_user, county, year="2026")

    assert response.context["year"] == 2023  # Yunnan's 2023 schedule is the latest shipped
    assert response.context["day"] == datetime.date(2023, 12, 31)
    assert asked.context["year"] == 2026


# --- progress ----------------------------------------------------------------------------------


def test_the_county_sees_its_townships_ranked_with_the_bottom_three_marked_and_linked(
    client, county_user, ranked_county
):
    response = dashboard(client, county_user, ranked_county, year=2023)

    report = tile(response, "progress")["report"]
    assert report.units[0].name == "勐来乡" and report.units[-1].name == "糯良乡"
    assert [unit.bottom for unit in report.units][-4:] == [False, True, True, True]
    html = response.content.decode()
    assert 'data-unit="530927203" data-bottom="true"' in html
    assert reverse("dashboard", args=["530927203"]) + "?year=2023" in html


def test_the_chart_draws_the_rate_of_each_snapshot_day_and_the_schedules_milestones_as_steps(
    client, township_user, township, ranked_county
):
    response = dashboard(client, township_user, township, year=2023)

    chart = tile(response, "progress")["chart"]
    assert chart["points"] == [["2023-06-01", 5.0], ["2023-07-01", 10.0]]
    milestones = tile(response, "progress")["report"].milestones
    assert milestones, "the shipped 2023 Yunnan schedule has milestones"
    assert chart["milestones"][0] == ["2023-01-01", 0]
    assert chart["milestones"][1:-1] == [[m.due_on.isoformat(), float(m.rate)] for m in milestones]
    assert chart["milestones"][-1] == ["2023-12-31", float(milestones[-1].rate)]
    sent = response.content.decode().split('id="chart-progress" type="application/json">')[1]
    assert json.loads(sent.split("</script>")[0]) == chart


def test_a_township_ranks_nothing_and_lists_its_villages(client, township_user, ranked_county):
    response = dashboard(client, township_user, Region.objects.get(code="530927203"))

    units = tile(response, "progress")["report"].units
    assert [unit.name for unit in units] == ["糯良村"] and units[0].rank is None


# --- the other tiles ---------------------------------------------------------------------------


def finding(region, kind=Finding.Kind.NOT_ENROLLED, n=1, **decided):
    for _ in range(n):
        number = ResidentFactory.build(village=region, area="530927").id_number
        Finding.objects.create(kind=kind, id_number=number, region=region, **decided)


def test_open_findings_are_counted_by_kind_in_the_region_only_and_link_to_their_list(
    client, township_user, township, village, other_village
):
    finding(village, n=2)
    finding(village, Finding.Kind.DECEASED)
    finding(
        village, status=Finding.Status.RESOLVED, resolved_by=township_user,
        resolved_at=datetime.datetime(2023, 7, 1, tzinfo=SHANGHAI),
    )  # fmt: skip
    finding(other_village, n=5)

    response = dashboard(client, township_user, township)

    assert tile(response, "findings") == {
        "kinds": [("not_enrolled", "应参保未参保", 2), ("deceased", "死亡待注销", 1)],
        "total": 3,
    }
    link = reverse("enrollment:finding_list") + "?kind=not_enrolled&amp;region=530927203"
    assert link in response.content.decode()


def proxy_payment(resident, voucher, paid_on):
    Payment.objects.create(
        resident=resident, contribution_year=2023, amount=Decimal("200.00"), kind="proxy",
        channel="government", source="proxy_batch", voucher_no=voucher,
        paid_at=datetime.datetime.combine(paid_on, datetime.time(10), tzinfo=SHANGHAI),
    )  # fmt: skip


def test_proxy_payments_done_are_set_against_the_residents_who_qualify_as_counted_nightly(
    client, county_user, county, village
):
    listed = []
    for _ in range(3):
        resident = ResidentFactory(village=village, area="530927")
        SpecialGroupMembership.objects.create(
            resident=resident, category="dibao", department="民政",
            list_date=datetime.date(2023, 3, 1), valid_from=datetime.date(2023, 3, 1),
        )  # fmt: skip
        listed.append(resident)
    unlisted = ResidentFactory(village=village, area="530927")
    proxy_payment(listed[0], "P1", datetime.date(2023, 5, 1))
    proxy_payment(listed[1], "P2", datetime.date(2023, 7, 25))  # after the count's day
    proxy_payment(unlisted, "P3", datetime.date(2023, 5, 1))  # paid, but in no group
    progress_rebuild(county=county, year=2023, day=datetime.date(2023, 7, 20))

    response = dashboard(client, county_user, county)

    assert tile(response, "proxy") == {
        "snapshot_day": datetime.date(2023, 7, 20), "qualifying": 3, "done": 1, "missing": 2,
    }  # fmt: skip
    row = VillageProgress.objects.get(village=village)
    assert (row.proxy_qualifying, row.proxy_qualifying_paid, row.proxy_paid) == (3, 1, 2)


def test_residents_due_a_benefit_are_counted_nightly(client, county_user, county, village):
    for born in (datetime.date(1950, 1, 1), datetime.date(1980, 1, 1)):
        ResidentFactory(village=village, area="530927", birth_date=born, contribution_years=15)
    progress_rebuild(county=county, year=2023, day=datetime.date(2023, 7, 20))
    ResidentFactory(
        village=village, area="530927", birth_date=datetime.date(1951, 1, 1), contribution_years=15
    )  # fmt: skip  (after the night's count)

    response = dashboard(client, county_user, county)

    assert tile(response, "benefits") == {"snapshot_day": datetime.date(2023, 7, 20), "due": 1}


def test_agents_over_a_limit_on_the_latest_check_are_listed(
    client, township_user, township, village, other_village
):
    agent = make_user("yanka", User.Role.AGENT, None)
    agent.villages.add(village)
    elsewhere = make_user("yanshuai", User.Role.AGENT, None)
    elsewhere.villages.add(other_village)
    for who, day in ((agent, datetime.date(2023, 7, 19)), (elsewhere, datetime.date(2023, 7, 19))):
        CashLimitBreach.objects.create(
            agent=who, day=day, kind="days", oldest_collected_on=datetime.date(2023, 7, 1),
            unremitted=Decimal("900.00"),
        )  # fmt: skip
    CashLimitBreach.objects.create(
        agent=agent, day=datetime.date(2023, 7, 10), kind="amount",
        oldest_collected_on=datetime.date(2023, 7, 1), unremitted=Decimal("12000.00"),
    )  # fmt: skip

    response = dashboard(client, township_user, township)

    agents = tile(response, "agents")
    assert agents["day"] == datetime.date(2023, 7, 19)
    assert [(a.agent, a.kinds) for a in agents["agents"]] == [(agent, ["现金留存超过天数"])]


def test_notices_due_before_today_and_not_generated_are_overdue(
    client, township_user, township, village, other_village
):
    group, elsewhere = make_group(village), make_group(other_village)
    for where, period, due, generated in (
        (group, "2023-06", datetime.date(2023, 7, 10), None),
        (
            group,
            "2023-05",
            datetime.date(2023, 6, 10),
            datetime.datetime(2023, 6, 9, tzinfo=SHANGHAI),
        ),
        (group, "2023-07", datetime.date(2023, 8, 10), None),
        (elsewhere, "2023-06", datetime.date(2023, 7, 10), None),
    ):
        Notice.objects.create(group=where, kind="monthly", period=period, due_on=due,
                              generated_at=generated)  # fmt: skip

    response = dashboard(client, township_user, township)

    assert tile(response, "notices") == {"overdue": 1}


def test_comparisons_never_run_are_overdue(client, township_user, township):
    response = dashboard(client, township_user, township)

    overdue = tile(response, "comparisons")["overdue"]
    assert overdue[0]["key"] == "registry" and overdue[0]["last"] is None


def discrepancy(run, key, category, region_code, status=Discrepancy.Status.OPEN):
    return Discrepancy.objects.create(
        record_key=key, county_id="530927", month=run.month, category=category,
        region_code=region_code, status=status, first_run=run, last_run=run,
    )  # fmt: skip


def test_the_latest_reconciled_months_open_differences_are_counted_for_the_region(
    client, county_user, township_user, county, township, village, other_village
):
    old = ReconciliationRun.objects.create(
        county=county, month=datetime.date(2023, 5, 1), status="done", is_current=True
    )
    run = ReconciliationRun.objects.create(
        county=county, month=datetime.date(2023, 6, 1), status="done", is_current=True
    )
    discrepancy(old, "tax:old", "tax_not_posted", village.code)
    discrepancy(run, "tax:1", "tax_not_posted", village.code)
    discrepancy(run, "tax:2", "amount_differs", village.code)
    discrepancy(run, "tax:3", "amount_differs", village.code, Discrepancy.Status.CLEARED)
    discrepancy(run, "tax:4", "amount_differs", other_village.code)

    county_tile = tile(dashboard(client, county_user, county), "reconciliation")
    township_response = dashboard(client, township_user, township)
    township_tile = tile(township_response, "reconciliation")

    assert county_tile["run"] == run and county_tile["open"] == 3
    assert township_tile["categories"] == [
        ("tax_not_posted", "税务已征收、系统未入账", 1),
        ("amount_differs", "金额不一致", 1),
    ]
    assert (
        "month=2023-06&amp;status=open&amp;township=530927203" in township_response.content.decode()
    )


# --- the forecast ------------------------------------------------------------------------------


def test_the_dashboard_flags_the_villages_that_will_miss_the_next_milestone_at_their_pace(
    client, township_user, township, village
):
    steady = make_village(township, 201, "贺岭村")
    # 20 July; the next milestone is 90% on 31 August, 42 days after the snapshot of 20 July
    for unit, before, now in ((village, 300, 370), (steady, 300, 720)):
        snapshot(unit, 1000, before, day=datetime.date(2023, 7, 6))
        snapshot(unit, 1000, now, day=datetime.date(2023, 7, 20))

    response = dashboard(client, township_user, township)

    forecast = tile(response, "forecast")["forecast"]
    assert [(f.unit.name, f.pace, f.projected_rate) for f in forecast.missing] == [
        ("糯良村", Decimal("5.0"), Decimal("58.00"))
    ]
    page = response.content.decode()
    assert "线性推算" in page and 'data-figure="forecast-missing"' in page
    assert "贺岭村" not in page.split('data-figure="forecast-missing"')[1].split("</table>")[0]


def test_after_the_last_milestone_the_forecast_tile_is_not_shown(
    client, township_user, township, village
):
    snapshot(village, 100, 99, day=datetime.date(2023, 11, 10))

    with time_machine.travel(datetime.datetime(2023, 11, 20, 9, tzinfo=SHANGHAI)):
        response = dashboard(client, township_user, township, year=2023)

    assert "forecast" not in dict(response.context["tiles_by_key"])


# --- cost --------------------------------------------------------------------------------------


def test_the_dashboard_costs_the_same_queries_however_much_there_is_to_show(
    client, county_user, county, village, other_village
):
    def queries() -> int:
        client.force_login(county_user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("dashboard", args=[county.code])).status_code == 200
        return len(captured)

    snapshot(village, 10, 1)
    finding(village)
    small = queries()
    for township in Region.objects.filter(level="township", code__startswith="530927"):
        snapshot(make_village(township, 201, f"{township.name}二村"), 100, 50)
    finding(other_village, Finding.Kind.DECEASED, n=4)
    for _ in range(5):
        ResidentFactory(village=village, area="530927")

    assert queries() == small


# --- the township's to-do list -----------------------------------------------------------------


def test_a_township_is_told_which_villages_have_most_left_to_pay_and_what_else_is_due(
    client, township_user, township, village
):
    second = make_village(township, 201, "贺岭村")
    done = make_village(township, 202, "南撒村")
    snapshot(village, 100, 90)
    snapshot(second, 100, 40)
    snapshot(done, 50, 50)
    ResidentFactory(village=village, area="530927", status="eligible")
    group = make_group(village)
    Notice.objects.create(group=group, kind="monthly", period="2023-06",
                          due_on=datetime.date(2023, 7, 25))  # fmt: skip
    Notice.objects.create(group=group, kind="monthly", period="2023-07",
                          due_on=datetime.date(2023, 8, 20))  # fmt: skip

    response = dashboard(client, township_user, township)

    todo = tile(response, "todo")
    assert [(left, unit.name) for left, unit in todo["villages"]] == [
        (60, "贺岭村"),
        (10, "糯良村"),
    ]
    assert (todo["eligible"], todo["notices_due_soon"]) == (1, 1)
    assert reverse("collection:unpaid", args=[second.code]) + "?year=2023" in (
        response.content.decode()
    )


def test_the_county_has_no_to_do_list_of_its_own(client, county_user, county):
    response = dashboard(client, county_user, county)

    assert "todo" not in dict(response.context["tiles_by_key"])
