"""The demo's reconciliation: one month of 沧源's tax and bank statements, made from the demo's
own payments with a few differences of every kind planted in them, imported through the
statement importer and reconciled, so that the reconciliation pages and the worklist have a
month to show. Also the county tax bureau's API key, printed once.
"""

from __future__ import annotations

import csv
import datetime
import random
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from collection.models import Payment, Tier
from enrollment.models import Resident
from pension.idnumber import check_digit
from pension.models import Region
from reconciliation.models import ApiKey, Statement
from reconciliation.services.keys import api_key_create
from reconciliation.services.reconcile import reconcile_month
from reconciliation.services.statements import statement_import

DEMO_COUNTY = "530927"
TAX_HEADER = ["电子税票号码", "证件号码", "姓名", "缴费年度", "缴费档次", "实缴金额", "入库日期"]
BANK_HEADER = ["银行流水号", "电子税票号码", "证件号码", "交易金额", "交易日期"]


@dataclass
class DemoReconciliation:
    created: bool = False
    month: datetime.date | None = None
    tax_rows: int = 0
    bank_rows: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    api_key: str = ""


def reconciliation_demo_seed(*, seed: int = 2023) -> DemoReconciliation:
    """Statements and a reconciliation for the demo county's busiest month, once."""
    county = Region.objects.get(code=DEMO_COUNTY)
    result = DemoReconciliation()
    if not ApiKey.objects.filter(county=county).exists():
        result.api_key = api_key_create(county=county, name="沧源县税务局征收系统").secret
    if Statement.objects.filter(county=county).exists():
        return result
    payments = (
        Payment.objects.counted()
        .in_region(DEMO_COUNTY)
        .filter(kind__in=[Payment.Kind.PERSONAL, Payment.Kind.BACK])
    )
    busiest = (
        payments.annotate(month=TruncMonth("paid_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("-n", "month")
        .first()
    )
    if busiest is None:
        return result
    month = timezone.localtime(busiest["month"]).date().replace(day=1)
    tax, bank = _statements(payments=payments, month=month, rng=random.Random(seed))
    with tempfile.TemporaryDirectory() as folder:
        for source, header, rows in (("tax", TAX_HEADER, tax), ("bank", BANK_HEADER, bank)):
            path = Path(folder) / f"{month:%Y-%m} {source}.csv"
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(header)
                writer.writerows(rows)
            with path.open("rb") as handle:
                statement_import(source=source, county=county, month=month, source_file=handle)
    run = reconcile_month(county=county, month=month)
    result.created, result.month = True, month
    result.tax_rows, result.bank_rows = len(tax), len(bank)
    result.categories = {k: v for k, v in run.summary.get("categories", {}).items() if v}
    return result


def _statements(*, payments, month: datetime.date, rng: random.Random) -> tuple[list, list]:
    """The month's tax and bank rows: every payment, less and plus a few planted cases."""
    end = (month + datetime.timedelta(days=32)).replace(day=1)
    start_at = timezone.make_aware(datetime.datetime.combine(month, datetime.time()))
    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time()))
    rows = list(
        payments.filter(paid_at__gte=start_at, paid_at__lt=end_at)
        .order_by("paid_at", "id")
        .values_list(
            "voucher_no", "resident__id_number", "resident__name", "contribution_year",
            "amount", "paid_at",
        )
    )  # fmt: skip
    tax = [
        [voucher, id_number, name, year, amount, amount, timezone.localtime(paid_at).date()]
        for voucher, id_number, name, year, amount, paid_at in rows
    ]
    rng.shuffle(tax)
    day = month + datetime.timedelta(days=14)
    planted = tax[:8]
    del tax[:2]  # 系统已入账、税务无记录
    tiers = sorted(
        Tier.objects.filter(
            schedule__province_id=DEMO_COUNTY[:2], schedule__year=month.year, government_only=False
        ).values_list("amount", flat=True)
    )
    paid = {}
    for line in planted[2:4]:  # 金额不一致: the tax line says another tier than was paid
        paid[line[0]] = line[5]
        line[4] = line[5] = next(t for t in tiers if t != line[5])
    unpaid = list(
        Resident.objects.in_region(DEMO_COUNTY)
        .filter(status=Resident.Status.ENROLLED)
        .exclude(payments__contribution_year=month.year)
        .order_by("id")
        .values_list("id_number", "name")[:3]
    )
    year = month.year
    extra = [
        # 税务已征收、系统未入账
        [f"9{DEMO_COUNTY}{year}{n:08d}", id_number, name, year, Decimal("300.00"),
         Decimal("300.00"), day]
        for n, (id_number, name) in enumerate(unpaid[:2], start=1)
    ]  # fmt: skip
    if len(unpaid) > 2:  # 金额不是缴费档次
        id_number, name = unpaid[2]
        extra.append([f"9{DEMO_COUNTY}{year}00000003", id_number, name, year,
                      Decimal("300.00"), Decimal("250.00"), day])  # fmt: skip
    for n in (4, 5):  # 身份证号码与姓名不符: a number nobody on file holds
        first17 = f"{DEMO_COUNTY}19800101{900 + n:03d}"
        extra.append([f"9{DEMO_COUNTY}{year}{n:08d}", first17 + check_digit(first17), "查无此人",
                      year, Decimal("300.00"), Decimal("300.00"), day])  # fmt: skip
    twice = planted[4]  # 同一年度重复缴费: the same person's year paid again, a new voucher
    last_day = end - datetime.timedelta(days=1)
    extra.append([f"9{DEMO_COUNTY}{year}00000006", *twice[1:4], twice[4], twice[5], last_day])
    tax += extra
    bank = [
        [f"YH{month:%Y%m}{n:07d}", voucher, id_number, amount, paid_on]
        for n, (voucher, id_number, _name, _year, _tier, amount, paid_on) in enumerate(tax)
    ]
    for line in planted[2:4]:  # the bank moved what was paid, not what the tax line says
        next(b for b in bank if b[1] == line[0])[3] = paid[line[0]]
    del bank[len(bank) - len(extra) - 2 : len(bank) - len(extra)]  # 税务有记录、银行无流水
    bank.append([f"YH{month:%Y%m}9999999", "", tax[0][1], Decimal("260.00"), day])  # 银行无税务
    return tax, bank
