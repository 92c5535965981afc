"""Reconciliation results built directly, so that the pages and resolutions can be tested
without running a reconciliation: runs, township totals, statement lines, synced records and
discrepancies of the shapes `reconcile_month` writes."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from collection.models import Payment
from collection.services.payments import payment_record
from conftest import make_user
from enrollment.models import Resident
from pension.models import Region, User
from reconciliation.models import (
    ApiKey,
    BankLine,
    Discrepancy,
    ReconciliationRun,
    Statement,
    SyncedRecord,
    TaxLine,
    TownshipTotal,
)

MAY = datetime.date(2023, 5, 1)
PAID_ON = datetime.date(2023, 5, 10)
_numbers = itertools.count(1)


def make_run(
    county: Region, month: datetime.date = MAY, *, run_by: User | None = None, current=True
) -> ReconciliationRun:
    if current:
        ReconciliationRun.objects.filter(county=county, month=month, is_current=True).update(
            is_current=False
        )
    return ReconciliationRun.objects.create(
        county=county,
        month=month,
        status=ReconciliationRun.Status.DONE,
        is_current=current,
        run_by=run_by,
    )


def make_total(run: ReconciliationRun, township: Region, **counts) -> TownshipTotal:
    """A township's line; the three ledgers agree unless `counts` says otherwise."""
    values = {
        "tax_count": 2, "tax_sum": Decimal("600.00"), "bank_count": 2,
        "bank_sum": Decimal("600.00"), "system_count": 2, "system_sum": Decimal("600.00"),
        "matched": 2, "discrepancies": 0,
    }  # fmt: skip
    values.update(counts)
    return TownshipTotal.objects.create(run=run, township=township, **values)


def make_statement(county: Region, source: str = Statement.Source.TAX) -> Statement:
    n = next(_numbers)
    return Statement.objects.create(
        source=source, county=county, month=MAY, filename=f"{n}.xlsx", sha256=f"{n:064d}"
    )


def make_tax_line(
    county: Region,
    *,
    voucher_no: str,
    resident: Resident | None = None,
    id_number: str = "",
    name: str = "",
    amount: str = "300.00",
    contribution_year: int = 2023,
    paid_on: datetime.date = PAID_ON,
) -> TaxLine:
    return TaxLine.objects.create(
        statement=make_statement(county),
        month=paid_on.replace(day=1),
        voucher_no=voucher_no,
        id_number=id_number or resident.id_number,
        name=name or resident.name,
        contribution_year=contribution_year,
        amount=Decimal(amount),
        paid_on=paid_on,
        region_code=resident.village_id if resident else county.code,
    )


def make_bank_line(
    county: Region, *, serial_no: str, voucher_no: str = "", resident=None, amount="300.00"
) -> BankLine:
    return BankLine.objects.create(
        statement=make_statement(county, Statement.Source.BANK),
        month=MAY,
        serial_no=serial_no,
        voucher_no=voucher_no,
        id_number=resident.id_number if resident else "",
        amount=Decimal(amount),
        traded_on=PAID_ON,
        region_code=resident.village_id if resident else county.code,
    )


def make_api_key(county: Region) -> ApiKey:
    n = next(_numbers)
    account = make_user(f"tax{n}", User.Role.TAX, county)
    return ApiKey.objects.create(
        name=f"税务接口{n}", county=county, account=account, prefix=f"k{n}", digest="0" * 64
    )


def make_synced_record(
    county: Region,
    *,
    voucher_no: str,
    resident: Resident | None = None,
    id_number: str = "",
    name: str = "",
    amount: str = "300.00",
    kind: str = SyncedRecord.Kind.NORMAL,
    contribution_year: int = 2023,
    channel: str = Payment.Channel.WECHAT,
    hold_reason: str = "证件号码不在册",
) -> SyncedRecord:
    return SyncedRecord.objects.create(
        voucher_no=voucher_no,
        id_number=id_number or resident.id_number,
        name=name or resident.name,
        contribution_year=contribution_year,
        tier=Decimal(amount),
        amount=Decimal(amount),
        kind=kind,
        paid_on=PAID_ON,
        channel=channel,
        tax_office="沧源县税务局",
        county=county,
        region_code=resident.village_id if resident else county.code,
        resident=resident,
        status=SyncedRecord.Status.HELD,
        hold_reason=hold_reason,
        key=make_api_key(county),
    )


def make_discrepancy(
    county: Region,
    category: str,
    *,
    record_key: str = "",
    resident: Resident | None = None,
    month: datetime.date = MAY,
    **fields,
) -> Discrepancy:
    n = next(_numbers)
    values = {
        "record_key": record_key or f"tax:V{n:06d}",
        "county": county,
        "region_code": resident.village_id if resident else county.code,
        "month": month,
        "category": category,
        "detail": Discrepancy.Category(category).label,
        "id_number": resident.id_number if resident else "",
        "name": resident.name if resident else "",
    }
    values.update(fields)
    return Discrepancy.objects.create(**values)


def tax_not_posted(county: Region, resident: Resident, *, voucher_no: str = "", held=False, **kw):
    """Money the tax bureau collected for `resident` that the system has not recorded; with
    `held`, the sync API's record of it is held as well."""
    voucher_no = voucher_no or f"TX{next(_numbers):08d}"
    line = make_tax_line(county, voucher_no=voucher_no, resident=resident, **kw)
    synced = make_synced_record(county, voucher_no=voucher_no, resident=resident) if held else None
    return make_discrepancy(
        county,
        Discrepancy.Category.TAX_NOT_POSTED,
        record_key=f"tax:{voucher_no}",
        resident=resident,
        voucher_no=voucher_no,
        contribution_year=line.contribution_year,
        tax_amount=line.amount,
        tax_line=line,
        synced_record=synced,
    )


def record_payment(resident: Resident, voucher_no: str, amount: str = "300.00", **kw) -> Payment:
    values = {
        "resident": resident,
        "contribution_year": 2023,
        "amount": amount,
        "kind": Payment.Kind.PERSONAL,
        "channel": Payment.Channel.TOWNSHIP_OFFICE,
        "source": Payment.Source.COUNTER,
        "voucher_no": voucher_no,
        "paid_at": datetime.datetime(2023, 5, 10, 12, tzinfo=datetime.UTC),
    }
    values.update(kw)
    payment, _ = payment_record(**values)
    return payment


def duplicate(county: Region, resident: Resident) -> tuple[Discrepancy, Payment]:
    """A second personal payment of 2023 for `resident`, awaiting refund, as its case."""
    record_payment(resident, "GT-FIRST")
    second = record_payment(resident, "GT-SECOND")
    case = make_discrepancy(
        county,
        Discrepancy.Category.DUPLICATE,
        record_key=f"payment:{second.pk}",
        resident=resident,
        voucher_no=second.voucher_no,
        contribution_year=2023,
        system_amount=second.amount,
        payment=second,
    )
    return case, second
