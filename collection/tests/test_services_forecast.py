"""The forecast on a constructed history: a known pace gives a known projection."""

import datetime
from decimal import Decimal

import pytest

from collection.models import VillageProgress
from collection.services.forecast import FORECAST_DAYS, progress_forecast
from collection.services.progress import progress_report
from conftest import make_village

# 沧源's milestones of 2023 (migration 0003): 60% by 30 June, 90% by 31 August, ...
DAY = datetime.date(2023, 6, 16)  # 14 days before the 60% milestone
BEFORE = DAY - datetime.timedelta(days=FORECAST_DAYS)


def snapshot(village, day, expected, paid):
    VillageProgress.objects.create(
        village=village, year=2023, day=day, expected=expected, paid=paid
    )


@pytest.fixture
def villages(township):
    return [make_village(township, 200 + n, f"村{n}") for n in range(2)]


def test_a_village_projects_its_pace_of_the_last_14_days_to_the_next_milestone(township, villages):
    steady, slow = villages
    snapshot(steady, BEFORE, 1000, 300)  # 20 a day over 14 days
    snapshot(steady, DAY, 1000, 580)
    snapshot(slow, BEFORE, 1000, 400)  # 5 a day
    snapshot(slow, DAY, 1000, 470)

    forecast = progress_forecast(region=township, year=2023, day=DAY)

    by_code = {f.unit.code: f for f in forecast.units}
    good, late = by_code[steady.code], by_code[slow.code]
    assert (good.milestone.due_on, good.days_left, good.window_days) == (
        datetime.date(2023, 6, 30), 14, 14,
    )  # fmt: skip
    assert (good.pace, good.projected_paid, good.projected_rate) == (
        Decimal("20.0"), 860, Decimal("86.00"),
    )  # fmt: skip
    assert not good.will_miss and good.needed_per_day == 2  # 600 - 580 = 20 over 14 days
    assert (late.pace, late.projected_paid, late.projected_rate) == (
        Decimal("5.0"), 540, Decimal("54.00"),
    )  # fmt: skip
    assert late.will_miss and late.needed_per_day == 10  # 130 short over 14 days
    assert forecast.missing == [late]
    assert (forecast.total.pace, forecast.total.projected_rate) == (
        Decimal("25.0"), Decimal("70.00"),
    )  # fmt: skip


def test_the_forecast_reads_the_same_figures_as_the_dashboard(township, villages):
    for n, village in enumerate(villages):
        snapshot(village, BEFORE, 500, 100 + n)
        snapshot(village, DAY, 500, 250 + n)

    forecast = progress_forecast(region=township, year=2023, day=DAY)
    report = progress_report(region=township, year=2023, day=DAY)

    assert [(f.unit.code, f.unit.paid, f.unit.rate) for f in forecast.units] == [
        (u.code, u.paid, u.rate) for u in report.units
    ]


def test_without_an_earlier_snapshot_there_is_no_pace_and_nothing_is_flagged(township, villages):
    snapshot(villages[0], DAY, 1000, 100)

    forecast = progress_forecast(region=township, year=2023, day=DAY)

    first = forecast.units[0]
    assert (first.pace, first.projected_rate, first.will_miss) == (None, None, False)
    assert first.needed_per_day == 36  # 500 short of 600 over 14 days, rounded up


def test_a_shorter_history_measures_the_pace_over_the_days_it_has(township, villages):
    snapshot(villages[0], DAY - datetime.timedelta(days=20), 1000, 100)
    snapshot(villages[0], DAY - datetime.timedelta(days=10), 1000, 200)
    snapshot(villages[0], DAY, 1000, 300)

    first = progress_forecast(region=township, year=2023, day=DAY).units[0]

    # the snapshot on or before 14 days back is the one of 20 days back
    assert (first.window_days, first.pace) == (20, Decimal("10.0"))


def test_after_the_last_milestone_nothing_is_projected_or_needed(township, villages):
    late = datetime.date(2023, 11, 15)
    snapshot(villages[0], late - datetime.timedelta(days=14), 100, 90)
    snapshot(villages[0], late, 100, 97)

    first = progress_forecast(region=township, year=2023, day=late).units[0]

    assert first.milestone is None and first.needed_per_day == 0 and not first.will_miss


def test_a_fast_village_is_projected_to_everyone_expected_and_no_further(township, villages):
    snapshot(villages[0], BEFORE, 100, 10)
    snapshot(villages[0], DAY, 100, 80)  # 5 a day: 150 by the milestone at that pace

    first = progress_forecast(region=township, year=2023, day=DAY).units[0]

    assert (first.projected_paid, first.projected_rate) == (100, Decimal("100.00"))
