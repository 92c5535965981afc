"""The collection app's dashboard tiles (pension.dashboard): progress against the milestones
with the ranking, the forecast to the next milestone, proxy payments done against qualifying
(应代尽代), the share collected in cash, residents due a pension and not paid it (应发尽发),
agents over their 双限 limits and notices overdue. Reads only, a fixed number of queries each:
the first five from the nightly progress table, never the residents."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from collection.models import Notice
from collection.services.agents import agents_in_breach
from collection.services.forecast import FORECAST_DAYS, progress_forecast
from collection.services.notices import notices_overdue
from collection.services.progress import (
    ProgressReport,
    cash_share_ranking,
    progress_report,
    progress_series,
)
from collection.services.schedules import schedule_years
from enrollment.models import Resident
from pension.dashboard import (
    DashboardRequest,
    DashboardTile,
    register_campaign_years,
    register_dashboard_tile,
)

TODO_VILLAGES = 5  # the villages a township's to-do list names
NOTICE_WARNING_DAYS = 7  # notices due within this many days are on the to-do list
CASH_UNITS = 5  # the units with the highest cash share the tile names


def _report(request: DashboardRequest) -> ProgressReport:
    return request.once(
        "progress_report",
        lambda: progress_report(region=request.region, year=request.year, day=request.day),
    )


def progress_tile(request: DashboardRequest) -> dict[str, Any]:
    """The rate over the year's snapshot days with the milestones as steps, and the ranking
    of the county's townships (bottom three marked) or a township's villages."""
    report = _report(request)
    start = datetime.date(request.year, 1, 1)
    end = datetime.date(request.year, 12, 31)
    points = [
        [point.day.isoformat(), float(point.rate)]
        for point in progress_series(region=request.region, year=request.year, until=request.day)
        if point.rate is not None
    ]
    steps = [[start.isoformat(), 0]]
    steps += [[m.due_on.isoformat(), float(m.rate)] for m in report.milestones]
    if report.milestones:
        steps.append([end.isoformat(), float(report.milestones[-1].rate)])
    marks = [
        {
            "name": _("%(month)s月%(day)s日 %(rate)s%%")
            % {"month": m.due_on.month, "day": m.due_on.day, "rate": f"{m.rate.normalize():f}"},
            "xAxis": m.due_on.isoformat(),
        }
        for m in report.milestones
    ]
    return {
        "report": report,
        "chart": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "points": points,
            "milestones": steps if report.milestones else [],
            "milestone_marks": marks,
            "labels": {"rate": _("完成率"), "milestones": _("进度节点")},
        },
    }


def forecast_tile(request: DashboardRequest) -> dict[str, Any] | None:
    """Where each unit will stand at the next milestone at its pace of the last 14 days, and
    the units that will miss it at that pace; nothing once the year's milestones are past."""
    forecast = progress_forecast(
        region=request.region, year=request.year, day=request.day, report=_report(request)
    )
    if forecast.total.milestone is None:
        return None
    return {"forecast": forecast, "days": FORECAST_DAYS}


def cash_tile(request: DashboardRequest) -> dict[str, Any]:
    """现金征收占比: the share of the personal payments' money collected in cash, in the whole
    and for the units with the highest share (the ones to inspect first)."""
    report = _report(request)
    units = cash_share_ranking(report.units)[:CASH_UNITS]
    return {"report": report, "total": report.total, "units": units}


def proxy_tile(request: DashboardRequest) -> dict[str, Any]:
    """应代尽代: residents in a qualifying group this year, and how many of them have the
    government's payment for it, as the nightly progress table counted them."""
    report = _report(request)
    total = report.total
    return {
        "snapshot_day": report.snapshot_day,
        "qualifying": total.proxy_qualifying,
        "done": total.proxy_qualifying_paid,
        "missing": total.proxy_qualifying - total.proxy_qualifying_paid,
    }


def benefits_tile(request: DashboardRequest) -> dict[str, Any]:
    """应发尽发: residents due a pension and not receiving it, as counted nightly."""
    report = _report(request)
    return {"snapshot_day": report.snapshot_day, "due": report.total.benefits_due}


def agents_tile(request: DashboardRequest) -> dict[str, Any]:
    """Agents of the region found over a 双限 limit by the latest daily check up to the day."""
    day, agents = agents_in_breach(region_code=request.region.code, day=request.day)
    return {"day": day, "agents": agents}


def notices_tile(request: DashboardRequest) -> dict[str, Any]:
    """Notices of the region's villager groups due before the day and not generated by then."""
    return {"overdue": notices_overdue(region_code=request.region.code, day=request.day).count()}


def todo_tile(request: DashboardRequest) -> dict[str, Any] | None:
    """A township's to-do list: the villages with the most residents still to pay (from the
    progress table), residents eligible but not enrolled, notices due within a week."""
    if request.is_county:
        return None
    report = _report(request)
    villages = sorted(
        ((max(unit.expected - unit.paid, 0), unit) for unit in report.units),
        key=lambda pair: (-pair[0], pair[1].code),
    )
    eligible = (
        Resident.objects.in_region(request.region.code)
        .filter(status=Resident.Status.ELIGIBLE)
        .count()
    )
    due_soon = Notice.objects.filter(
        group__code__startswith=request.region.code,
        generated_at__isnull=True,
        due_on__gte=request.day,
        due_on__lte=request.day + datetime.timedelta(days=NOTICE_WARNING_DAYS),
    ).count()
    return {
        "villages": [(left, unit) for left, unit in villages if left][:TODO_VILLAGES],
        "eligible": eligible,
        "notices_due_soon": due_soon,
        "warning_days": NOTICE_WARNING_DAYS,
    }


def register() -> None:
    register_campaign_years(lambda region: schedule_years(province_code=region.code[:2]))
    for tile in (
        DashboardTile("todo", 5, "collection/dashboard/todo.html", todo_tile, wide=True),
        DashboardTile("progress", 10, "collection/dashboard/progress.html", progress_tile,
                      wide=True),
        DashboardTile("forecast", 15, "collection/dashboard/forecast.html", forecast_tile,
                      wide=True),
        DashboardTile("proxy", 20, "collection/dashboard/proxy.html", proxy_tile),
        DashboardTile("cash", 30, "collection/dashboard/cash.html", cash_tile),
        DashboardTile("benefits", 40, "collection/dashboard/benefits.html", benefits_tile),
        DashboardTile("agents", 50, "collection/dashboard/agents.html", agents_tile),
        DashboardTile("notices", 60, "collection/dashboard/notices.html", notices_tile),
    ):  # fmt: skip
        register_dashboard_tile(tile)
