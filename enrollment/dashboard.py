"""The enrollment app's dashboard tiles (pension.dashboard): open findings by kind and the
comparisons overdue. Reads only."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from enrollment.models import Finding
from enrollment.selectors import overdue_comparisons
from pension.dashboard import DashboardRequest, DashboardTile, register_dashboard_tile


def findings_tile(request: DashboardRequest) -> dict[str, Any]:
    rows = (
        Finding.objects.in_region(request.region.code)
        .open()
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["kind"]: row["n"] for row in rows}
    kinds = [
        (value, label, counts[value]) for value, label in Finding.Kind.choices if value in counts
    ]
    return {"kinds": kinds, "total": sum(counts.values())}


def comparisons_tile(request: DashboardRequest) -> dict[str, Any]:
    return {"overdue": overdue_comparisons(region=request.region, on=request.day)}


def register() -> None:
    for tile in (
        DashboardTile("findings", 30, "enrollment/dashboard/findings.html", findings_tile),
        DashboardTile("comparisons", 70, "enrollment/dashboard/comparisons.html",
                      comparisons_tile),
    ):  # fmt: skip
        register_dashboard_tile(tile)
