"""The weekly progress bulletin (每周进展通报): a county's campaign as of a day, kept as sent.

The Linxia plan has the social-security centre issue a progress bulletin every week; the
Cangyuan notice has the townships and villages ranked, the bottom three criticised by name and
the units at 98% or more commended. A bulletin holds, as of its day:

- every township's and every village's progress against the milestone, with the change since
  the same day a week before, ranked, the bottom three of each named (ties as the dashboard's
  ranking has them: units tied across the line all stay above it);
- the units at or above COMMEND_RATE, for commendation;
- the proxy payments still missing (应代尽代), the agents over a 双限 limit and the notices
  overdue;
- the forecast to the next milestone at the pace of the last 14 days, of every township and
  village.

Every figure is read with the service the dashboard's tile uses for the same region, year and
day, so a bulletin and the dashboard agree. Its content is frozen when it is made (JSON, kept in
`Bulletin.content`): a past bulletin opens again as it was sent out, whatever was recorded since.
Making the bulletin of a day that has one already returns the one on file.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import Bulletin, Milestone
from collection.services.agents import agents_in_breach
from collection.services.forecast import (
    FORECAST_DAYS,
    Forecast,
    progress_forecast,
    village_report,
)
from collection.services.notices import notices_overdue
from collection.services.progress import (
    ProgressUnit,
    progress_report,
    progress_village_report,
)
from collection.services.schedules import schedule_for
from pension.dashboard import dashboard_default_year
from pension.models import Region, User
from pension.services import audit_record

COMMEND_RATE = Decimal("98")  # the Cangyuan notice commends units reaching 98%
WEEK = datetime.timedelta(days=7)
CONTENT_VERSION = 1
TOWNSHIP_LENGTH = Region.CODE_LENGTH[Region.Level.TOWNSHIP]
# How the frozen content stores what is not JSON: these keys hold Decimals as text and dates in
# ISO form; `bulletin_figures` turns them back.
DECIMAL_KEYS = frozenset(
    {"rate", "previous_rate", "rate_change", "cash_share", "unremitted", "pace",
     "projected_rate", "amount", "cash_amount"}
)  # fmt: skip
DATE_KEYS = frozenset(
    {"day", "snapshot_day", "previous_day", "previous_snapshot_day", "due_on", "check_day"}
)


class BulletinRefused(Exception):
    """A bulletin that may not be made; the message is in Chinese."""


def bulletin_refusal(*, actor: User | None, county: Region) -> str:
    """Why `actor` may not make `county`'s bulletin, or "" when they may: the county bureau of
    the county (and the Monday task, no actor). Auditors and the tax bureau read bulletins."""
    if county.level != Region.Level.COUNTY:
        return _("进展通报按县生成：%(name)s不是县级区划") % {"name": county.name}
    if actor is None or actor.is_superuser:
        return ""
    if actor.role != User.Role.COUNTY:
        return _("只有县人社局人员可以生成进展通报")
    if not actor.can_see_region(county.code):
        return _("%(name)s不在您的辖区内") % {"name": county.name}
    return ""


def bulletin_week_day(today: datetime.date) -> datetime.date:
    """The day the week's bulletin runs to: the Sunday before `today` (on a Monday, yesterday)."""
    return today - datetime.timedelta(days=today.isoweekday())


def bulletin_default_period(*, county: Region, today: datetime.date) -> tuple[int, datetime.date]:
    """The year and day the bulletin form offers: the dashboard's year for the county, and the
    last Sunday, or the last Sunday of that year when its campaign is over."""
    year = dashboard_default_year(county, today.year)
    return year, bulletin_week_day(min(today, datetime.date(year + 1, 1, 1)))


# --- the content -----------------------------------------------------------------------------


def _milestone(milestone: Milestone | None) -> dict[str, Any] | None:
    if milestone is None:
        return None
    return {"due_on": milestone.due_on, "rate": milestone.rate, "label": milestone.label}


def _unit(unit: ProgressUnit, previous: ProgressUnit | None) -> dict[str, Any]:
    previous_rate = previous.rate if previous is not None else None
    change = None
    if unit.rate is not None and previous_rate is not None:
        change = unit.rate - previous_rate
    return {
        "code": unit.code,
        "name": unit.name,
        "expected": unit.expected,
        "paid": unit.paid,
        "rate": unit.rate,
        "previous_rate": previous_rate,
        "rate_change": change,
        "paid_change": unit.paid - previous.paid if previous is not None else None,
        "rank": unit.rank,
        "bottom": unit.bottom,
        "goal": unit.goal_text,
        "gap": unit.gap,
        "flagged": unit.flagged,
        "proxy_qualifying": unit.proxy_qualifying,
        "proxy_missing": max(unit.proxy_qualifying - unit.proxy_qualifying_paid, 0),
        "amount": unit.amount,
        "cash_amount": unit.cash_amount,
        "cash_share": unit.cash_share,
    }


def _forecast(forecast: Forecast) -> dict[str, Any]:
    return {
        "name": forecast.unit.name,
        "days_left": forecast.days_left,
        "pace": forecast.pace,
        "window_days": forecast.window_days,
        "projected_rate": forecast.projected_rate,
        "needed_per_day": forecast.needed_per_day,
        "will_miss": forecast.will_miss,
    }


def _named(
    units: Iterable[dict[str, Any]], township: str | None = None, **extra: Any
) -> list[dict[str, Any]]:
    """Units named in the bulletin: name, rate and township (the unit's own, or `township`)."""
    return [
        {"name": unit["name"], "rate": unit["rate"],
         "township": unit.get("township", "") if township is None else township, **extra}
        for unit in units
    ]  # fmt: skip


def bulletin_compose(*, county: Region, year: int, day: datetime.date) -> dict[str, Any]:
    """The bulletin's figures for `county` as of `day`, frozen as `Bulletin.content` keeps them
    (Decimals as text, dates in ISO form). Reads only, a fixed number of queries: the progress
    table, the 双限 checks and the notices."""
    if county.level != Region.Level.COUNTY:
        raise BulletinRefused(_("进展通报按县生成：%(name)s不是县级区划") % {"name": county.name})
    previous_day = day - WEEK
    report = progress_report(region=county, year=year, day=day)
    before = progress_report(region=county, year=year, day=previous_day)
    villages = progress_village_report(county=county, year=year, day=day)
    villages_before = progress_village_report(county=county, year=year, day=previous_day)
    forecast = progress_forecast(region=county, year=year, day=day, report=report)
    village_forecast = progress_forecast(
        region=county, year=year, day=day, report=villages, read=village_report
    )

    earlier = {unit.code: unit for unit in before.units}
    townships = [_unit(unit, earlier.get(unit.code)) for unit in report.units]
    names = {unit["code"]: unit["name"] for unit in townships}
    earlier = {unit.code: unit for unit in villages_before.units}
    village_rows = []
    for unit in villages.units:
        row = _unit(unit, earlier.get(unit.code))
        row["township"] = names.get(unit.code[:TOWNSHIP_LENGTH], "")
        village_rows.append(row)

    projections = {f.unit.code: _forecast(f) for f in forecast.units}
    for row in townships:
        row["forecast"] = projections.get(row["code"])
    village_projections = {f.unit.code: _forecast(f) for f in village_forecast.units}
    for row in village_rows:
        row["forecast"] = village_projections.get(row["code"])

    check_day, breaching = agents_in_breach(region_code=county.code, day=day)
    villages_of = _agent_villages([entry.agent.pk for entry in breaching])
    overdue = dict(
        notices_overdue(region_code=county.code, day=day)
        .annotate(township=Substr("group_id", 1, TOWNSHIP_LENGTH))
        .values("township")
        .annotate(count=Count("pk"))
        .values_list("township", "count")
    )
    total = _unit(report.total, before.total)
    commended = [
        *_named((u for u in townships if _commended(u)), level="township", township=""),
        *_named((u for u in village_rows if _commended(u)), level="village", township=None),
    ]
    content = {
        "version": CONTENT_VERSION,
        "county": {"code": county.code, "name": county.name},
        "year": year,
        "day": day,
        "snapshot_day": report.snapshot_day,
        "previous_day": previous_day,
        "previous_snapshot_day": before.snapshot_day,
        "milestone": _milestone(report.milestone),
        "next_milestone": _milestone(report.next_milestone),
        "goal": report.total.goal_text,
        "total": total,
        "townships": townships,
        "villages": village_rows,
        "bottom_townships": _named((u for u in townships if u["bottom"]), township=""),
        "bottom_villages": _named(u for u in village_rows if u["bottom"]),
        "commended": commended,
        "proxy": {
            "qualifying": report.total.proxy_qualifying,
            "done": report.total.proxy_qualifying_paid,
            "missing": report.total.proxy_qualifying - report.total.proxy_qualifying_paid,
            "townships": [
                {"name": u["name"], "missing": u["proxy_missing"]}
                for u in sorted(townships, key=lambda u: (-u["proxy_missing"], u["code"]))
                if u["proxy_missing"]
            ],
        },
        "agents": {
            "check_day": check_day,
            "rows": [
                {
                    "name": entry.agent.display_name,
                    "villages": villages_of.get(entry.agent.pk, []),
                    "kinds": entry.kinds,
                    "unremitted": entry.unremitted,
                }
                for entry in breaching
            ],
        },
        "notices": {
            "overdue": sum(overdue.values()),
            "townships": [
                {"name": names.get(code, code), "overdue": count}
                for code, count in sorted(overdue.items())
            ],
        },
        "forecast": {
            "days": FORECAST_DAYS,
            "milestone": _milestone(forecast.total.milestone),
            "total": _forecast(forecast.total),
            "missing": [projections[f.unit.code]["name"] for f in forecast.missing],
            "missing_villages": _named(
                row for row in village_rows if row["forecast"] and row["forecast"]["will_miss"]
            ),
        },
    }
    return _frozen(content)


def _commended(unit: dict[str, Any]) -> bool:
    return unit["rate"] is not None and unit["rate"] >= COMMEND_RATE


def _agent_villages(agent_ids: list[int]) -> dict[int, list[str]]:
    """Each agent's village names, in one query."""
    villages: dict[int, list[str]] = {}
    rows = (
        User.villages.through.objects.filter(user_id__in=agent_ids)
        .order_by("user_id", "region_id")
        .values_list("user_id", "region__name")
    )
    for user_id, name in rows:
        villages.setdefault(user_id, []).append(name)
    return villages


def _frozen(value: Any) -> Any:
    """Content as JSON holds it: Decimals as text, dates in ISO form."""
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_frozen(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _revived(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {name: _revived(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_revived(item, key) for item in value]
    if value is None or not isinstance(value, str):
        return value
    if key in DECIMAL_KEYS:
        return Decimal(value)
    if key in DATE_KEYS:
        return datetime.date.fromisoformat(value)
    return value


def bulletin_figures(bulletin: Bulletin) -> dict[str, Any]:
    """A kept bulletin's content with its Decimals and dates back, and its number, for the page
    and the sheet."""
    return {**_revived(bulletin.content), "number": bulletin.number}


# --- making and keeping ----------------------------------------------------------------------


def bulletin_publish(
    *, county: Region, day: datetime.date, actor: User | None, year: int | None = None
) -> tuple[Bulletin, bool]:
    """Make and keep `county`'s bulletin as of `day` (for the contribution year of the day
    unless told), numbered on from the county's last one of the year; (bulletin, True). The
    bulletin of a day already on file is returned as it was kept; (bulletin, False).

    Refused, with nothing written: a user who may not, a day after today, a year without a
    contribution schedule, or no progress counted on or before the day.
    """
    refusal = bulletin_refusal(actor=actor, county=county)
    if refusal:
        raise BulletinRefused(refusal)
    year = year or day.year
    if day > timezone.localdate():
        raise BulletinRefused(_("通报日期不能晚于今天：%(day)s") % {"day": f"{day:%Y-%m-%d}"})
    existing = Bulletin.objects.filter(county=county, year=year, day=day).first()
    if existing is not None:
        return existing, False
    if schedule_for(province_code=county.code[:2], year=year) is None:
        raise BulletinRefused(
            _("%(name)s所在省份尚未配置%(year)s年度缴费方案，无法生成进展通报")
            % {"name": county.name, "year": year}
        )
    content = bulletin_compose(county=county, year=year, day=day)
    if content["snapshot_day"] is None:
        raise BulletinRefused(
            _("%(name)s在%(day)s及以前还没有征缴进度统计，无法生成进展通报")
            % {"name": county.name, "day": f"{day:%Y-%m-%d}"}
        )
    with transaction.atomic():
        # One county's bulletins are numbered one at a time: lock the county's row.
        Region.objects.select_for_update().filter(pk=county.pk).first()
        existing = Bulletin.objects.filter(county=county, year=year, day=day).first()
        if existing is not None:
            return existing, False
        last = Bulletin.objects.filter(county=county, year=year).aggregate(n=Max("number"))["n"]
        bulletin = Bulletin.objects.create(
            county=county, year=year, day=day, number=(last or 0) + 1, content=content,
            created_by=actor if actor is not None and actor.pk else None,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="bulletin.publish",
            target=bulletin,
            region_code=county.code,
            changes={"year": year, "day": day.isoformat(), "number": bulletin.number},
        )
    return bulletin, True


def bulletins_publish_weekly(*, today: datetime.date) -> int:
    """Monday's work: every county with progress counted gets the bulletin of the week that
    ended on Sunday; returns the bulletins made. A second run makes none."""
    day = bulletin_week_day(today)
    made = 0
    for county in Region.objects.filter(level=Region.Level.COUNTY).order_by("code"):
        try:
            made += bulletin_publish(county=county, day=day, actor=None)[1]
        except BulletinRefused:
            continue  # no schedule or no progress yet for this county
    return made
