"""The forecast (进度预测): where each unit will stand at the next milestone at its current pace.

The pace is plain and linear, and every page that shows a forecast says so: the residents who
became paid over the last FORECAST_DAYS days of snapshots, per day. Carried on to the next
milestone's date it gives the projected rate; beside it, the payers a day a unit needs from the
snapshot day on to reach the milestone. A unit whose projection falls short is flagged before
the date, while there is still time to act.

Both ends of the window are read with `progress_report`, so the figures are the dashboard's.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from collection.models import Milestone
from collection.services.progress import (
    PERCENT,
    ProgressReport,
    ProgressUnit,
    progress_report,
    progress_village_report,
)
from pension.models import Region

FORECAST_DAYS = 14
PACE = Decimal("0.1")


@dataclass(frozen=True)
class Forecast:
    """One unit's projection to `milestone` (None when no milestone is still to come)."""

    unit: ProgressUnit
    milestone: Milestone | None
    days_left: int  # from the snapshot day to the milestone's date
    pace: Decimal | None  # payers a day over the window; None without an earlier snapshot
    window_days: int  # the days the pace was measured over (up to FORECAST_DAYS)
    projected_paid: int | None
    projected_rate: Decimal | None
    needed_per_day: int  # payers a day from now on to reach the milestone; 0 when reached

    @property
    def will_miss(self) -> bool:
        """At its pace the unit stays below the coming milestone's rate."""
        return (
            self.milestone is not None
            and self.projected_rate is not None
            and self.projected_rate < self.milestone.rate
        )


@dataclass(frozen=True)
class ForecastReport:
    region: Region
    year: int
    day: datetime.date
    report: ProgressReport
    total: Forecast
    units: list[Forecast]

    @property
    def missing(self) -> list[Forecast]:
        return [forecast for forecast in self.units if forecast.will_miss]


def progress_forecast(
    *,
    region: Region,
    year: int,
    day: datetime.date,
    report: ProgressReport | None = None,
    read: Callable[..., ProgressReport] = progress_report,
) -> ForecastReport:
    """The forecast of a county's townships or a township's villages, and of the whole, from
    the snapshot on or before `day` and the one FORECAST_DAYS days before it. `report` is the
    day's progress report when the caller has it already (the dashboard); `read` reads a
    report for a region, year and day (a county's villages: `village_report`)."""
    now = report or read(region=region, year=year, day=day)
    snapshot = now.snapshot_day or day
    then = read(region=region, year=year, day=snapshot - datetime.timedelta(days=FORECAST_DAYS))
    coming = next((m for m in now.milestones if m.due_on > snapshot), None)
    earlier = {unit.code: unit for unit in then.units}
    window = (snapshot - then.snapshot_day).days if then.snapshot_day else 0

    def forecast(unit: ProgressUnit, before: ProgressUnit | None) -> Forecast:
        return _forecast(unit, before if window > 0 else None, coming, snapshot, window)

    return ForecastReport(
        region=region, year=year, day=day, report=now,
        total=forecast(now.total, then.total),
        units=[forecast(unit, earlier.get(unit.code)) for unit in now.units],
    )  # fmt: skip


def village_report(*, region: Region, year: int, day: datetime.date) -> ProgressReport:
    """`read` for the forecast of every village of a county (the weekly bulletin's)."""
    return progress_village_report(county=region, year=year, day=day)


def _forecast(
    unit: ProgressUnit,
    before: ProgressUnit | None,
    milestone: Milestone | None,
    snapshot: datetime.date,
    window: int,
) -> Forecast:
    days_left = max((milestone.due_on - snapshot).days, 0) if milestone else 0
    pace = None
    if before is not None:
        pace = (Decimal(max(unit.paid - before.paid, 0)) / window).quantize(PACE)
    projected_paid = projected_rate = None
    if pace is not None:
        # No more than everyone expected to pay (or than have paid already, past a target).
        projected_paid = min(
            unit.paid + int((pace * days_left).to_integral_value(ROUND_DOWN)),
            max(unit.expected, unit.paid),
        )
        if unit.expected > 0:
            projected_rate = (Decimal(projected_paid) * 100 / unit.expected).quantize(
                PERCENT, rounding=ROUND_DOWN
            )
    needed_per_day = 0
    if milestone is not None and unit.expected > 0 and days_left > 0:
        goal = int((Decimal(unit.expected) * milestone.rate / 100).to_integral_value(ROUND_CEILING))
        short = max(goal - unit.paid, 0)
        needed_per_day = int((Decimal(short) / days_left).to_integral_value(ROUND_CEILING))
    return Forecast(
        unit=unit, milestone=milestone, days_left=days_left, pace=pace,
        window_days=window if before is not None else 0, projected_paid=projected_paid,
        projected_rate=projected_rate, needed_per_day=needed_per_day,
    )  # fmt: skip
