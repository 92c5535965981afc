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
from dataclasses import dataclass
from typing import Any

from pension.models import Region

DASHBOARD_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP)


@dataclass(frozen=True)
class DashboardRequest:
    """What every tile is asked for: one county or township, a contribution year, a day."""

    region: Region
    year: int
    day: datetime.date

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


def register_dashboard_tile(tile: DashboardTile) -> None:
    _tiles[tile.key] = tile


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
    "DashboardRequest",
    "DashboardTile",
    "dashboard_render",
    "dashboard_tiles",
    "register_dashboard_tile",
]
