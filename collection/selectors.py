"""Reads of schedules and payments for pages, exports and the API."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet

from collection.models import Payment
from enrollment.models import Resident

# Who is still expected to pay in a year (as on the notices' unpaid lists), and the payments
# that count as paid (as in progress): a personal or a proxy payment, not a duplicate or
# reversed one.
EXPECTED_TO_PAY = (Resident.Status.ELIGIBLE, Resident.Status.ENROLLED)
PAID_KINDS = (Payment.Kind.PERSONAL, Payment.Kind.PROXY)


def resident_payments(*, resident: Resident) -> QuerySet[Payment]:
    return resident.payments.select_related("recorded_by", "reverses").order_by(
        "-contribution_year", "-paid_at"
    )


def unpaid_residents(*, region_code: str, year: int) -> QuerySet[Resident]:
    """催缴名单: residents of the region expected to pay for `year` with no counted personal or
    proxy payment for it, by village, villager group and name, with their phone for the
    campaign calls. One query for any number of rows (the village and group come joined)."""
    paid = Payment.objects.counted().filter(
        resident_id=OuterRef("pk"), contribution_year=year, kind__in=PAID_KINDS
    )
    return (
        Resident.objects.in_region(region_code)
        .filter(status__in=EXPECTED_TO_PAY)
        .exclude(Exists(paid))
        .select_related("village", "group")
        .order_by("village_id", "group_id", "name", "pk")
    )


def unpaid_counts(*, region_codes: list[str], year: int) -> dict[str, int]:
    """How many are on each village's 催缴名单 (village code -> count), in one grouped query."""
    if not region_codes:
        return {}
    paid = Payment.objects.counted().filter(
        resident_id=OuterRef("pk"), contribution_year=year, kind__in=PAID_KINDS
    )
    rows = (
        Resident.objects.in_any_region(region_codes)
        .filter(status__in=EXPECTED_TO_PAY)
        .exclude(Exists(paid))
        .values("village_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["village_id"]: row["n"] for row in rows}


def payment_list(*, user) -> QuerySet[Payment]:
    """The payments a user may list (their region's residents'), with what a row shows joined;
    collection.filters.PaymentFilter narrows and orders them for the page and the export."""
    return Payment.objects.visible_to(user).select_related(
        "resident__village__parent", "recorded_by", "reverses"
    )
