"""The reconciliation app's dashboard tile (pension.dashboard): the differences of the county's
latest reconciled month still open, by category, for the county or one of its townships."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from pension.dashboard import DashboardRequest, DashboardTile, register_dashboard_tile
from reconciliation.models import Discrepancy, ReconciliationRun


def reconciliation_tile(request: DashboardRequest) -> dict[str, Any]:
    county = request.region.code[:6]
    run = (
        ReconciliationRun.objects.filter(county_id=county, is_current=True)
        .order_by("-month")
        .only("month", "finished_at", "summary")
        .first()
    )
    if run is None:
        return {"run": None}
    rows = (
        Discrepancy.objects.filter(
            county_id=county,
            month=run.month,
            status=Discrepancy.Status.OPEN,
            region_code__startswith=request.region.code,
        )
        .values("category")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["category"]: row["n"] for row in rows}
    categories = [
        (value, label, counts[value])
        for value, label in Discrepancy.Category.choices
        if value in counts
    ]
    return {"run": run, "categories": categories, "open": sum(counts.values())}


def register() -> None:
    register_dashboard_tile(
        DashboardTile(
            "reconciliation", 80, "reconciliation/dashboard/reconciliation.html",
            reconciliation_tile,
        )
    )  # fmt: skip
