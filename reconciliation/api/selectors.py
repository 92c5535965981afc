"""The API's reads: a resident as the tax bureau needs them, the payable list (费源) of a county,
and a province's schedule. Each is a fixed number of queries whatever the data's size; the region
scope is the key's account's, through `visible_to`."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Value

from collection.models import ContributionSchedule, Payment
from collection.services.schedules import (
    resident_qualifies_for_proxy,
    schedule_for,
    tiers_open_to,
)
from enrollment.models import Resident, SpecialGroupMembership
from pension import idnumber
from pension.models import Region, User

# Residents the tax bureau collects from: enrolled, or eligible and enrolled by paying. Sealed,
# deceased, cancelled, excluded, receiving and under-age residents are not on the list.
PAYABLE_STATUSES = (Resident.Status.ELIGIBLE, Resident.Status.ENROLLED)

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_COUNTY_SHAPE = re.compile(r"[0-9]{6}")
_PROVINCE_SHAPE = re.compile(r"[0-9]{2}")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _id_number_of(raw: str) -> str | None:
    """The stored form of a number as a client types it (15 digits upgraded), or None."""
    number = idnumber.normalise(raw[:40])
    if not _ID_SHAPE.fullmatch(number):
        return None
    return idnumber.upgrade_15(number) if len(number) == 15 else number


def resident_card(*, user: User, id_number: str, year: int) -> dict[str, Any] | None:
    """Status, region, this year's tiers, proxy and payments by year; None outside scope."""
    number = _id_number_of(id_number)
    if number is None:
        return None
    resident = (
        Resident.objects.visible_to(user)
        .select_related("village__parent", "group")
        .filter(id_number=number)
        .first()
    )
    if resident is None:
        return None
    schedule = schedule_for(province_code=resident.village_id[:2], year=year)
    proxy = schedule is not None and resident_qualifies_for_proxy(
        resident=resident, schedule=schedule
    )
    tiers = tiers_open_to(resident=resident, year=year)
    village = resident.village
    township = village.parent
    return {
        "id_number": resident.id_number,
        "name": resident.name,
        "status": resident.status,
        "status_label": resident.get_status_display(),
        "region": {
            "village": {"code": village.code, "name": village.name},
            "township": {"code": township.code, "name": township.name} if township else None,
            "group": (
                {"code": resident.group.code, "name": resident.group.name}
                if resident.group
                else None
            ),
        },
        "year": year,
        "tiers": [
            {
                "amount": _money(t.amount),
                "subsidy": _money(t.subsidy),
                "government_only": t.government_only,
            }
            for t in tiers
        ],
        "proxy": proxy,
        "payments": _payments_by_year(resident),
    }


def _payments_by_year(resident: Resident) -> list[dict[str, Any]]:
    years: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"amount": Decimal("0.00"), "kinds": [], "vouchers": []}
    )
    rows = (
        Payment.objects.counted()
        .filter(resident=resident)
        .order_by("contribution_year", "paid_at", "id")
        .values_list("contribution_year", "amount", "kind", "voucher_no")
    )
    for year, amount, kind, voucher in rows:
        entry = years[year]
        entry["amount"] += amount
        if kind not in entry["kinds"]:
            entry["kinds"].append(kind)
        entry["vouchers"].append(voucher)
    return [
        {"year": year, **entry, "amount": _money(entry["amount"])}
        for year, entry in sorted(years.items())
    ]


def county_in_scope(*, user: User, code: str) -> Region | None:
    if not _COUNTY_SHAPE.fullmatch(code or ""):
        return None
    return Region.objects.visible_to(user).filter(code=code, level=Region.Level.COUNTY).first()


def payables(
    *, user: User, county: Region, year: int, updated_since: datetime.datetime | None = None
) -> QuerySet:
    """The county's payable list for `year`, as dict rows, for cursor pagination by id.

    `proxy`: the government pays for the resident this year (a qualifying category of the
    year's schedule, backed by a department list dated that year). `paid`: a counted payment
    of the year is on file. Both are EXISTS subqueries, so a page is one query.
    """
    schedule = (
        ContributionSchedule.objects.for_province_year(county.province_code, year)
        .only("id", "year", "qualifying_categories")
        .first()
    )
    categories = (schedule.qualifying_categories or []) if schedule is not None else []
    proxy = (
        Exists(
            SpecialGroupMembership.objects.filter(
                resident=OuterRef("pk"),
                category__in=categories,
                valid_from__lte=datetime.date(year, 12, 31),
            ).backed_in_year(year)
        )
        if categories
        else Value(False, output_field=BooleanField())
    )
    paid = Exists(Payment.objects.counted().filter(resident=OuterRef("pk"), contribution_year=year))
    rows = (
        Resident.objects.visible_to(user)
        .in_region(county)
        .filter(status__in=PAYABLE_STATUSES)
        .annotate(proxy=proxy, paid=paid)
    )
    if updated_since is not None:
        rows = rows.filter(updated_at__gte=updated_since)
    return rows.values(
        "id", "id_number", "name", "village_id", "group_id", "status", "updated_at", "proxy",
        "paid",
    )  # fmt: skip


def payable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id_number": row["id_number"],
        "name": row["name"],
        "village": row["village_id"],
        "group": row["group_id"],
        "status": row["status"],
        "proxy": row["proxy"],
        "paid": row["paid"],
        "updated_at": row["updated_at"],
    }


def province_in_scope(*, user: User, province: str) -> bool:
    """A key reads its own province's schedules: the tax bureau of a county has no business
    with another province's policy, and a key of another county answers 404 like elsewhere."""
    if not _PROVINCE_SHAPE.fullmatch(province or ""):
        return False
    if user.is_superuser:
        return True
    return any(code.startswith(province) for code in user.scope_codes())


def schedule_card(*, user: User, province: str, year: int) -> dict[str, Any] | None:
    if not province_in_scope(user=user, province=province) or not 2000 <= year <= 2100:
        return None
    schedule = (
        ContributionSchedule.objects.for_province_year(province, year)
        .select_related("province")
        .prefetch_related("tiers", "milestones")
        .first()
    )
    if schedule is None:
        return None
    # The labels are evaluated here, in the API's language: the body is rendered after the view.
    labels = {code: str(label) for code, label in SpecialGroupMembership.Category.choices}
    return {
        "province": {"code": schedule.province.code, "name": schedule.province.name},
        "year": schedule.year,
        "tiers": [
            {
                "amount": _money(t.amount),
                "subsidy": _money(t.subsidy),
                "government_only": t.government_only,
            }
            for t in schedule.tiers.all()
        ],
        "proxy_amount": _money(schedule.proxy_amount),
        "qualifying_categories": [
            {"code": code, "label": labels.get(code, code)}
            for code in schedule.qualifying_categories or []
        ],
        "window": {"start": schedule.window_start, "end": schedule.window_end},
        "proxy_due": schedule.proxy_due,
        "subsidy_status": schedule.subsidy_status,
        "milestones": [
            {"due_on": m.due_on, "rate": f"{m.rate:.2f}", "label": m.label}
            for m in schedule.milestones.all()
        ],
    }
