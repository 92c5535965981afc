"""The dashboard's tiles: each app contributes what it knows, the kernel only lays them out.

The county bureau's dashboard and a township's workspace show progress, findings, proxy
payments, agents, notices and the reconciliation side by side, but those belong to four apps
whose dependencies point one way. So the kernel keeps a registry: an app registers its tiles
when it is ready (its AppConfig.ready), and the dashboard page asks each tile for its context
for one region, year and day. A tile answers None when it has nothing to show there (no
reconciliation of a township, say) and is left out.

A tile's context is read-only and costs a fixed number of queries, whatever the county's size:
the page is guarded by a query-count test and timed by bench/dashboard.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pension.models import Region

DASHBOARD_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP)


@dataclass(frozen=True)
class DashboardRequest:
    """What every tile is asked for: one county or township, a contribution year, a day."""

    region: Region
    year: int
    day: datetime.date
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()` the first time a tile asks for `key`, the same answer after: two tiles
        reading one report (the progress table) read it once per page."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def is_county(self) -> bool:
        return self.region.level == Region.Level.COUNTY


@dataclass(frozen=True)
class DashboardTile:
    key: str
    order: int
    template_name: str
    context: Callable[[DashboardRequest], dict[str, Any] | None]
    wide: bool = False  # spans the page's width (the progress chart and ranking)


_tiles: dict[str, DashboardTile] = {}
# Which years a region has a campaign for (the collection app knows: its schedules), latest
# first; the dashboard opens on this year when it is one of them, else on the latest.
_campaign_years: list[Callable[[Region], list[int]]] = []


def register_dashboard_tile(tile: DashboardTile) -> None:
    _tiles[tile.key] = tile


def register_campaign_years(provider: Callable[[Region], list[int]]) -> None:
    _campaign_years.append(provider)


# The scheme began in 2009 (新农保); next year's contributions may be taken in December.
FIRST_YEAR = 2009


def campaign_year(value: object, region: Region, this_year: int) -> int:
    """The contribution year a page was asked for (`?year=`) when it is a sensible one, else
    the region's default (dashboard_default_year): one rule for every page with a year."""
    text = str(value or "").strip()
    if text.isdigit() and FIRST_YEAR <= int(text) <= this_year + 1:
        return int(text)
    return dashboard_default_year(region, this_year)


def dashboard_default_year(region: Region, this_year: int) -> int:
    """This year, unless the region has campaigns and none for this year: then the latest one
    not after next year (a county whose new schedule is not entered yet keeps last year's)."""
    years = sorted({y for provider in _campaign_years for y in provider(region)}, reverse=True)
    years = [y for y in years if y <= this_year + 1]
    return this_year if this_year in years or not years else years[0]


def dashboard_tiles() -> list[DashboardTile]:
    return sorted(_tiles.values(), key=lambda tile: tile.order)


def dashboard_render(request: DashboardRequest) -> list[tuple[DashboardTile, dict[str, Any]]]:
    """Every tile with something to show for the request, with its context, in order."""
    shown = []
    for tile in dashboard_tiles():
        context = tile.context(request)
        if context is not None:
            shown.append((tile, context))
    return shown


__all__ = [
    "DASHBOARD_LEVELS",
    "FIRST_YEAR",
    "DashboardRequest",
    "DashboardTile",
    "campaign_year",
    "dashboard_default_year",
    "dashboard_render",
    "dashboard_tiles",
    "register_campaign_years",
    "register_dashboard_tile",
]
