"""Statements, payments and synced records for the reconciliation tests, built small and by hand.

July 2023 in 沧源 (530927) is the month under test; 300 is one of Yunnan's 2023 tiers, 350 is not.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from collection.models import Payment
from enrollment.models import Resident
from enrollment.tests.factories import ResidentFactory
from pension.models import Region, User
from reconciliation.models import ApiKey, SyncedRecord
from reconciliation.services.statements import StatementImportResult, statement_import

MONTH = datetime.date(2023, 7, 1)
TAX_HEADER = ("电子税票号码", "证件号码", "姓名", "缴费年度", "缴费档次", "实缴金额", "入库日期")
BANK_HEADER = ("银行流水号", "电子税票号码", "证件号码", "交易金额", "交易日期")


def csv_file(header: tuple[str, ...], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def tax_row(
    person: Resident | str,
    voucher: str,
    amount: str = "300.00",
    day: str = "2023-07-05",
    *,
    year: str = "2023",
    name: str | None = None,
    tier: str = "",
) -> tuple:
    number = person if isinstance(person, str) else person.id_number
    if name is None:
        name = "" if isinstance(person, str) else person.name
    return (voucher, number, name or "无名", year, tier, amount, day)


def bank_row(
    person: Resident | str,
    serial: str,
    voucher: str = "",
    amount: str = "300.00",
    day: str = "2023-07-06",
) -> tuple:
    number = person if isinstance(person, str) else person.id_number
    return (serial, voucher, number, amount, day)


def import_tax(county: Region, *rows, month=MONTH, **options) -> StatementImportResult:
    return statement_import(
        source="tax", county=county, month=month, source_file=csv_file(TAX_HEADER, rows),
        filename="税务征收明细.csv", **options,
    )  # fmt: skip


def import_bank(county: Region, *rows, month=MONTH, **options) -> StatementImportResult:
    return statement_import(
        source="bank", county=county, month=month, source_file=csv_file(BANK_HEADER, rows),
        filename="银行流水.csv", **options,
    )  # fmt: skip


def beijing(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def pay(
    resident: Resident,
    voucher: str,
    amount: str = "300.00",
    day: datetime.date = datetime.date(2023, 7, 5),
    **extra,
) -> Payment:
    """A payment as the ledger holds it, written directly: these tests are about matching, not
    about the rules a payment is recorded under."""
    values = {
        "resident": resident,
        "contribution_year": 2023,
        "amount": Decimal(amount),
        "kind": Payment.Kind.PERSONAL,
        "channel": Payment.Channel.WECHAT,
        "source": Payment.Source.TAX_SYNC,
        "voucher_no": voucher,
        "paid_at": beijing(day),
    }
    values.update(extra)
    return Payment.objects.create(**values)


def paid_everywhere(county: Region, resident: Resident, voucher: str, amount: str = "300.00"):
    """One contribution in all three ledgers, as it should be."""
    payment = pay(resident, voucher, amount)
    import_tax(county, tax_row(resident, voucher, amount))
    import_bank(county, bank_row(resident, f"B{voucher}", voucher, amount))
    return payment


# Fixtures carry their name in `name=` so that a test module can import them without its
# parameters shadowing the import.
@pytest.fixture(name="tax_account")
def tax_account_fixture(county) -> User:
    return User.objects.create_user(
        username="cangyuan-tax", password="x-9-correct", role=User.Role.TAX, region=county
    )


@pytest.fixture(name="api_key")
def api_key_fixture(county, tax_account) -> ApiKey:
    return ApiKey.objects.create(
        name="税务征管系统", county=county, account=tax_account, prefix="tk_test", digest="0" * 64
    )


def held_record(
    api_key: ApiKey,
    voucher: str,
    id_number: str,
    name: str,
    amount: str = "300.00",
    *,
    resident: Resident | None = None,
    reason: str = "证件号码不在本县参保人中",
    day: datetime.date = datetime.date(2023, 7, 8),
) -> SyncedRecord:
    return SyncedRecord.objects.create(
        voucher_no=voucher, id_number=id_number, name=name, contribution_year=2023,
        tier=Decimal(amount), amount=Decimal(amount), kind=SyncedRecord.Kind.NORMAL,
        paid_on=day, channel=Payment.Channel.WECHAT, tax_office="国家税务总局沧源县税务局",
        county=api_key.county, region_code=resident.village_id if resident else api_key.county_id,
        resident=resident, status=SyncedRecord.Status.HELD, hold_reason=reason, key=api_key,
    )  # fmt: skip


@pytest.fixture(name="neighbour")
def neighbour_fixture(other_village) -> Resident:
    """A resident of the county's other township."""
    return ResidentFactory(village=other_village, birth_date=datetime.date(1975, 2, 3))
