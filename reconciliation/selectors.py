"""Reads of reconciliation results for the month page, the worklist and their exports, with
their joins and region scope already applied."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import Payment
from pension.models import AuditEntry, Region, User
from reconciliation.models import (
    BankLine,
    Discrepancy,
    ReconciliationRun,
    SyncedRecord,
    TaxLine,
    TownshipTotal,
)

ZERO = Decimal("0.00")


def last_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the month before `today`: the month a county reconciles by default."""
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def default_month(*, county: Region | None) -> datetime.date:
    """The month the page opens on: the county's latest reconciled month when it is later than
    nothing, else last month (the month to reconcile next)."""
    if county is not None:
        latest = (
            ReconciliationRun.objects.filter(county=county, is_current=True)
            .order_by("-month")
            .values_list("month", flat=True)
            .first()
        )
        if latest is not None:
            return latest
    return last_month()


def reconciliation_counties(*, user: User) -> QuerySet[Region]:
    """The counties whose reconciliation the user may open: every county for a superuser
    without a region, else the county their region (or their villages) lies in."""
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return counties.none()
    if user.is_superuser and not user.region_id:
        return counties.order_by("code")
    codes = {code[:6] for code in user.scope_codes() if len(code) >= 6}
    return counties.filter(code__in=codes).order_by("code")


def visible_townships(*, user: User) -> QuerySet[Region]:
    return Region.objects.visible_to(user).filter(level=Region.Level.TOWNSHIP).order_by("code")


# --- the month page ---------------------------------------------------------------------------


@dataclass
class MonthRow:
    """One township's line of the month table (or the total line), with its differences."""

    code: str
    name: str
    tax_count: int = 0
    tax_sum: Decimal = ZERO
    bank_count: int = 0
    bank_sum: Decimal = ZERO
    system_count: int = 0
    system_sum: Decimal = ZERO
    matched: int = 0
    discrepancies: int = 0

    @property
    def bank_differs(self) -> bool:
        return (self.bank_count, self.bank_sum) != (self.tax_count, self.tax_sum)

    @property
    def system_differs(self) -> bool:
        return (self.system_count, self.system_sum) != (self.tax_count, self.tax_sum)

    @property
    def agrees(self) -> bool:
        return not (self.bank_differs or self.system_differs)

    @property
    def bank_gap(self) -> Decimal:
        return self.bank_sum - self.tax_sum

    @property
    def system_gap(self) -> Decimal:
        return self.system_sum - self.tax_sum

    def add(self, other: MonthRow) -> None:
        for name in (
            "tax_count", "tax_sum", "bank_count", "bank_sum", "system_count", "system_sum",
            "matched", "discrepancies",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class MonthTable:
    """A county's month as the user may see it: the current run's townships and their total,
    the open cases by category, and every run of the month."""

    county: Region
    month: datetime.date
    run: ReconciliationRun | None
    rows: list[MonthRow]
    total: MonthRow
    open_counts: list[tuple[str, str, int]]
    runs: list[ReconciliationRun] = field(default_factory=list)

    @property
    def disagreeing(self) -> int:
        return sum(1 for row in self.rows if not row.agrees)


def month_rows(*, run: ReconciliationRun, user: User) -> list[MonthRow]:
    """The run's township lines the user may see; township staff see their own township."""
    totals = (
        TownshipTotal.objects.filter(run=run, township__in=visible_townships(user=user))
        .select_related("township")
        .order_by("township_id")
    )
    return [
        MonthRow(
            code=t.township_id,
            name=t.township.name,
            tax_count=t.tax_count,
            tax_sum=t.tax_sum,
            bank_count=t.bank_count,
            bank_sum=t.bank_sum,
            system_count=t.system_count,
            system_sum=t.system_sum,
            matched=t.matched,
            discrepancies=t.discrepancies,
        )
        for t in totals
    ]


def current_run(*, county: Region, month: datetime.date) -> ReconciliationRun | None:
    return (
        ReconciliationRun.objects.filter(county=county, month=month, is_current=True)
        .select_related("run_by")
        .first()
    )


def month_runs(*, county: Region, month: datetime.date, user: User) -> list[ReconciliationRun]:
    """Every run of the month, newest first, each with the counts of the townships the user
    sees summed in the same query (`tax_count`, `system_count`, `matched`, `found`)."""
    mine = Q(totals__township__in=visible_townships(user=user))

    def total(name: str) -> Coalesce:
        return Coalesce(Sum(f"totals__{name}", filter=mine), 0)

    runs = (
        ReconciliationRun.objects.filter(county=county, month=month)
        .select_related("run_by")
        .annotate(
            tax_total=total("tax_count"),
            bank_total=total("bank_count"),
            system_total=total("system_count"),
            matched_total=total("matched"),
            found_total=total("discrepancies"),
        )
        .order_by("-started_at", "-id")
    )
    return list(runs)


def open_discrepancy_counts(
    *, user: User, county: Region, month: datetime.date | None = None
) -> list[tuple[str, str, int]]:
    """(category, label, open cases) for every category, in one grouped query."""
    rows = Discrepancy.objects.visible_to(user).filter(
        county=county, status=Discrepancy.Status.OPEN
    )
    if month is not None:
        rows = rows.filter(month=month)
    counts = dict(rows.values_list("category").annotate(n=Count("id")).order_by())
    return [(value, label, counts.get(value, 0)) for value, label in Discrepancy.Category.choices]


def month_table(*, county: Region, month: datetime.date, user: User) -> MonthTable:
    run = current_run(county=county, month=month)
    rows = month_rows(run=run, user=user) if run is not None else []
    total = MonthRow(code=county.code, name=_("合计"))
    for row in rows:
        total.add(row)
    return MonthTable(
        county=county,
        month=month,
        run=run,
        rows=rows,
        total=total,
        open_counts=open_discrepancy_counts(user=user, county=county, month=month),
        runs=month_runs(county=county, month=month, user=user),
    )


# --- the worklist ------------------------------------------------------------------------------


def _region_name(code_expression) -> Subquery:
    return Subquery(Region.objects.filter(code=code_expression).values("name")[:1])


def discrepancy_list(*, user: User) -> QuerySet[Discrepancy]:
    """The cases the user sees, each with its village (or county) and township names, so that
    a page of them and a whole export cost one query."""
    # A county-level case's first nine characters are the county's code, which names no
    # township, so it gets no township name.
    township = Region.objects.filter(
        code=Substr(OuterRef("region_code"), 1, 9), level=Region.Level.TOWNSHIP
    )
    return (
        Discrepancy.objects.visible_to(user)
        .annotate(
            region_name=_region_name(OuterRef("region_code")),
            township_name=Subquery(township.values("name")[:1]),
        )
        .select_related("resolved_by")
        .order_by("-month", "category", "id")
    )


@dataclass
class Ledgers:
    """What each of the three ledgers holds for one case: the tax side (statement line and the
    record the sync API sent), the bank's lines and the system's payments."""

    tax_line: TaxLine | None
    synced_record: SyncedRecord | None
    bank_lines: list[BankLine]
    payments: list[Payment]


def discrepancy_ledgers(*, discrepancy: Discrepancy) -> Ledgers:
    """The records the case names, and those of its county sharing its voucher, from each
    ledger; a voucher that happens to recur in another county shows nothing of it."""
    county = discrepancy.county_id
    voucher = discrepancy.voucher_no
    tax_line = discrepancy.tax_line
    if tax_line is None and voucher:
        tax_line = TaxLine.objects.filter(voucher_no=voucher, region_code__startswith=county)
        tax_line = tax_line.first()
    synced = discrepancy.synced_record
    if synced is None and voucher:
        synced = SyncedRecord.objects.filter(voucher_no=voucher, county_id=county).first()
    bank_filter = Q(pk=discrepancy.bank_line_id) if discrepancy.bank_line_id else Q(pk__in=[])
    payment_filter = Q(pk=discrepancy.payment_id) if discrepancy.payment_id else Q(pk__in=[])
    if voucher:
        bank_filter |= Q(voucher_no=voucher, region_code__startswith=county)
        payment_filter |= Q(voucher_no=voucher, resident__village__code__startswith=county)
    if discrepancy.resolution_payment_id:
        payment_filter |= Q(pk=discrepancy.resolution_payment_id)
    payments = (
        Payment.objects.filter(payment_filter)
        .select_related("resident", "recorded_by", "reverses", "duplicate_of")
        .order_by("paid_at", "id")
    )
    return Ledgers(
        tax_line=tax_line,
        synced_record=synced,
        bank_lines=list(BankLine.objects.filter(bank_filter).order_by("traded_on", "id")),
        payments=list(payments),
    )


def discrepancy_history(*, discrepancy: Discrepancy) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.for_object(discrepancy).select_related("actor")
