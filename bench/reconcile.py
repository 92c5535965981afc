"""Benchmark of the monthly reconciliation for a county of a million contributions.

    python bench/reconcile.py                      # 1,000,000 tax and bank records
    python bench/reconcile.py --records 100000     # a quicker run

PostgreSQL only. The script creates its own database (``pension_bench_reconcile`` unless
--database says otherwise) on the server of DATABASE_URL, migrates it and loads one county
(沧源 530927, whose 2023 Yunnan schedule ships with the project): the demo villages, one resident
per contribution and the payments the system holds for July 2023. It writes the tax bureau's
collection detail and the bank's flow for July as CSV, about N rows each, with about 1% of the
records planted in the eight discrepancy categories, evenly, each one known by its record key.

Timed, in a fresh process: importing the tax CSV, importing the bank CSV and reconciling July;
their sum is the figure with the target. Then, not in the total: the month reconciled again
(it must replace the result and find the same cases) and the tax file imported again (it must
change nothing). Every planted case must be found in its category and no other case invented.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402  (bench/common.py, beside this script)
    admin_connection,
    check_database_name,
    create_database,
    database_url,
    django_setup,
    drop_database,
    mb,
    peak_mb,
    print_slow_statements,
    reference_loop,
    run_child,
    server_summary,
    server_url,
    since,
    statement_times,
)

COUNTY = "530927"
MONTH = datetime.date(2023, 7, 1)
YEAR = 2023
TARGET_SECONDS = 15.0
TARGET_RECORDS = 1_000_000
TIERS = ("200.00", "300.00", "500.00", "1000.00", "2000.00")  # of Yunnan's 2023 schedule
NOT_A_TIER = "350.00"
PLANTED_EVERY = 100  # one record in a hundred is planted: about 1%
CATEGORIES = (
    "tax_not_posted", "posted_no_tax", "bank_no_tax", "tax_no_bank",
    "amount_differs", "not_a_tier", "duplicate", "id_mismatch",
)  # fmt: skip
TAX_HEADER = ("电子税票号码", "证件号码", "姓名", "缴费年度", "缴费档次", "实缴金额", "入库日期")
BANK_HEADER = ("银行流水号", "电子税票号码", "证件号码", "交易金额", "交易日期")
RESIDENT_FIELDS = [
    "id_number", "name", "sex", "birth_date", "village_id", "group_id", "household_no",
    "status", "status_date",
]  # fmt: skip


# --- The county and its month ------------------------------------------------------------------


class Plan:
    """The generated month: residents, payments, both statements, and what was planted where
    (record key -> category; a planted payment is known by its voucher until it has an id)."""

    def __init__(self) -> None:
        self.regions: list[tuple] = []
        self.residents: list[tuple] = []
        self.payments: list[tuple] = []  # (id_number, voucher, amount, day, duplicate of)
        self.tax: list[tuple] = []
        self.bank: list[tuple] = []
        self.planted: dict[str, str] = {}
        self.planted_payments: dict[str, str] = {}  # voucher -> category


def build(records: int, seed: int) -> Plan:
    from collection.demo import GIVEN, SURNAMES, demo_regions
    from pension.idnumber import check_digit

    rng = random.Random(seed)
    plan = Plan()
    plan.regions = [row for row in demo_regions() if row[0].startswith(COUNTY)]
    groups: dict[str, list[str]] = {}
    for code, _name, level, parent in plan.regions:
        if level == "group":
            groups.setdefault(parent, []).append(code)
    villages = sorted(groups)
    surnames = SURNAMES[COUNTY]
    base = datetime.date(1964, 1, 1)
    span = 16_000  # days of birth dates, each with up to 1,000 order numbers

    def id_number(i: int, area: str = COUNTY) -> str:
        first17 = f"{area}{base + datetime.timedelta(days=i % span):%Y%m%d}{i // span:03d}"
        return first17 + check_digit(first17)

    # Two planted kinds remove a tax row and one adds one; a few more people keep both
    # statements at about N rows.
    people = records + records // (PLANTED_EVERY * len(CATEGORIES))
    for i in range(people):
        number = id_number(i)
        name = rng.choice(surnames) + rng.choice(GIVEN) + rng.choice(GIVEN)
        village = villages[i % len(villages)]
        born = base + datetime.timedelta(days=i % span)
        plan.residents.append(
            (number, name, "M" if (i // span) % 2 else "F", born, village,
             rng.choice(groups[village]), f"{village[-6:]}{i % 997:04d}", "enrolled",
             datetime.date(2023, 1, 1))
        )  # fmt: skip
        voucher, serial = f"3{i:019d}", f"B{i:015d}"
        amount = TIERS[i % len(TIERS)]
        day = (MONTH + datetime.timedelta(days=i % 31)).isoformat()
        category = None
        if i % PLANTED_EVERY == PLANTED_EVERY // 2:
            category = CATEGORIES[(i // PLANTED_EVERY) % len(CATEGORIES)]
        tax = (voucher, number, name, str(YEAR), amount, amount, day)
        bank = (serial, voucher, number, amount, day)
        payment = (number, voucher, amount, day, "")
        key = f"tax:{voucher}"
        if category is None:
            plan.tax.append(tax)
            plan.bank.append(bank)
            plan.payments.append(payment)
        elif category == "tax_not_posted":
            plan.tax.append(tax)
            plan.bank.append(bank)
            plan.planted[key] = category
        elif category == "tax_no_bank":
            plan.tax.append(tax)
            plan.payments.append(payment)
            plan.planted[key] = category
        elif category == "posted_no_tax":
            plan.payments.append(payment)
            plan.planted_payments[voucher] = category
        elif category == "bank_no_tax":
            plan.bank.append((serial, "", number, amount, day))
            plan.planted[f"bank:{serial}"] = category
        elif category == "amount_differs":
            plan.tax.append(tax)
            plan.bank.append(bank)
            other = TIERS[(i + 1) % len(TIERS)]
            plan.payments.append((number, voucher, other, day, ""))
            plan.planted[key] = category
        elif category == "not_a_tier":
            plan.tax.append((voucher, number, name, str(YEAR), "", NOT_A_TIER, day))
            plan.bank.append((serial, voucher, number, NOT_A_TIER, day))
            plan.payments.append((number, voucher, NOT_A_TIER, day, ""))
            plan.planted[key] = category
        elif category == "duplicate":
            # Paid twice in the month: the second payment is on file as awaiting refund.
            early = MONTH.isoformat()
            later = (MONTH + datetime.timedelta(days=20)).isoformat()
            plan.tax.append((voucher, number, name, str(YEAR), amount, amount, early))
            plan.bank.append((serial, voucher, number, amount, early))
            plan.payments.append((number, voucher, amount, early, ""))
            second, second_serial = f"4{i:019d}", f"C{i:015d}"
            plan.tax.append((second, number, name, str(YEAR), amount, amount, later))
            plan.bank.append((second_serial, second, number, amount, later))
            plan.payments.append((number, second, amount, later, voucher))
            plan.planted[f"tax:{second}"] = category
        elif category == "id_mismatch":
            if (i // (PLANTED_EVERY * len(CATEGORIES))) % 2:
                # A number the county has no resident for: no payment could be posted.
                stranger = id_number(i, "530926")
                plan.tax.append((voucher, stranger, name, str(YEAR), amount, amount, day))
                plan.bank.append((serial, voucher, stranger, amount, day))
            else:
                plan.tax.append((voucher, number, "另" + name, str(YEAR), amount, amount, day))
                plan.bank.append(bank)
                plan.payments.append(payment)
            plan.planted[key] = category
    return plan


def load(plan: Plan) -> int:
    """Regions, residents and payments (COPY and INSERT ... SELECT); returns the payments."""
    from django.db import connection, transaction

    from collection.models import Payment
    from enrollment.models import Resident
    from pension import staging
    from pension.bulk import bulk_insert
    from pension.models import Region

    stage_columns = [
        ("id_number", "varchar(18)"), ("voucher_no", "varchar(40)"), ("amount", "numeric(12,2)"),
        ("day", "date"), ("duplicate_of", "varchar(40)"),
    ]  # fmt: skip
    insert = """
        INSERT INTO collection_payment
            (resident_id, county_code, contribution_year, amount, subsidy, kind, channel, source,
             voucher_no, paid_at, recorded_at, note, duplicate_of_id)
        SELECT r.id, left(r.village_id, 6), %s, s.amount, 0, 'personal', 'wechat', 'tax_sync',
               s.voucher_no,
               (s.day + time '10:00') AT TIME ZONE 'Asia/Shanghai', now(), '', f.id
        FROM bench_payments s JOIN enrollment_resident r USING (id_number)
        LEFT JOIN collection_payment f ON f.source = 'tax_sync' AND f.voucher_no = s.duplicate_of
        WHERE (s.duplicate_of = '') = %s
    """
    with transaction.atomic(), connection.cursor() as cursor:
        Region.objects.bulk_create(
            [Region(code=c, name=n, level=lvl, parent_id=p) for c, n, lvl, p in plan.regions],
            batch_size=5000,
            ignore_conflicts=True,
        )
        bulk_insert(Resident, RESIDENT_FIELDS, plan.residents)
        rows = ((n, v, a, d, dup) for n, v, a, d, dup in plan.payments)
        with staging.staging_table("bench_payments", stage_columns, rows):
            cursor.execute(insert, [YEAR, True])  # first payments, then the duplicates
            cursor.execute(insert, [YEAR, False])
        payments = Payment.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (FREEZE, ANALYZE)")
    return payments


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# --- The timed run, in a fresh process --------------------------------------------------------


class Phases:
    """Times what statement_times cannot see: the COPY of the file's rows (read and checked in
    Python while PostgreSQL stores them) into the line table, or into a staging table when the
    month has lines on file already, and the commit."""

    def __init__(self) -> None:
        self.load = 0.0
        self.commit = 0.0

    def install(self) -> None:
        from django.db import connection

        from reconciliation.services import statements as service

        phases, staging_table, copy_into = self, service.staging_table, service.copy_into

        @contextmanager
        def timed_staging(name, *args, **kwargs) -> Iterator[str]:
            started = time.perf_counter()
            with staging_table(name, *args, **kwargs) as table:
                phases.load += since(started)
                yield table

        def timed_copy(*args, **kwargs) -> None:
            started = time.perf_counter()
            try:
                copy_into(*args, **kwargs)
            finally:
                phases.load += since(started)

        original_commit = connection._commit

        def timed_commit():
            started = time.perf_counter()
            try:
                return original_commit()
            finally:
                phases.commit += since(started)

        service.staging_table = timed_staging
        service.copy_into = timed_copy
        connection._commit = timed_commit

    def take(self) -> tuple[float, float]:
        taken = (self.load, self.commit)
        self.load = self.commit = 0.0
        return taken


def child(tax_path: str, bank_path: str) -> dict[str, object]:
    from pension.models import Region
    from reconciliation.services.reconcile import reconcile_month
    from reconciliation.services.statements import statement_import

    county = Region.objects.get(code=COUNTY)
    figures: dict[str, object] = {"start_mb": peak_mb(), "load": os.getloadavg()[0]}
    steps = []
    phases = Phases()
    phases.install()

    def step(label: str, function, **kwargs):
        phases.take()
        with statement_times() as statements:
            started = time.perf_counter()
            result = function(**kwargs)
            seconds = since(started)
        load, commit = phases.take()
        steps.append({"label": label, "seconds": seconds, "statements": statements,
                      "peak_mb": peak_mb(), "load": load, "commit": commit})  # fmt: skip
        return result

    tax = step("import tax CSV", statement_import, source="tax", county=county, month=MONTH,
               source_file=tax_path)  # fmt: skip
    bank = step("import bank CSV", statement_import, source="bank", county=county, month=MONTH,
                source_file=bank_path)  # fmt: skip
    run = step("reconcile", reconcile_month, county=county, month=MONTH)
    figures["imports"] = [_import_figures(tax), _import_figures(bank)]
    figures["summary"] = run.summary
    figures["steps"] = steps
    figures["peak_mb"] = peak_mb()
    # Not part of the total: the second run of the month and the same file again.
    again = step("reconcile again", reconcile_month, county=county, month=MONTH)
    same = step("import tax CSV again", statement_import, source="tax", county=county,
                month=MONTH, source_file=tax_path)  # fmt: skip
    figures["again"] = {"summary": again.summary, "run": again.pk, "first_run": run.pk,
                        "same_file": _import_figures(same)}  # fmt: skip
    return figures


def _import_figures(result) -> dict[str, object]:
    return {
        "rows": result.rows, "created": result.created, "unchanged": result.unchanged,
        "rejected": len(result.rejected), "total": f"{result.total:.2f}",
        "same_file": result.same_file, "applied": result.applied,
    }  # fmt: skip


# --- Report ------------------------------------------------------------------------------------


def check(plan: Plan, figures: dict) -> bool:
    """Every planted case found in its category, nothing else found; the second run agrees."""
    from reconciliation.models import Discrepancy, ReconciliationRun

    expected = dict(plan.planted)
    vouchers = plan.planted_payments
    for payment_id, voucher in payment_ids(vouchers):
        expected[f"payment:{payment_id}"] = vouchers[voucher]
    found = dict(Discrepancy.objects.values_list("record_key", "category"))
    ok = True
    print("  per category (planted / found):")
    for category in CATEGORIES:
        planted = {k for k, c in expected.items() if c == category}
        got = {k for k, c in found.items() if c == category}
        missed, invented = planted - got, got - planted
        verdict = "OK" if not missed and not invented else "MISMATCH"
        ok = ok and verdict == "OK"
        print(
            f"    {category:<15} {len(planted):>7,} / {len(got):>7,}  {verdict}"
            + (f"  missed {sorted(missed)[:3]}" if missed else "")
            + (f"  invented {sorted(invented)[:3]}" if invented else "")
        )
    extra = set(found) - set(expected)
    print(
        f"  none invented: {'yes' if not extra else f'NO, {len(extra):,} cases not planted'}; "
        f"every planted one found: {'yes' if set(expected) <= set(found) else 'NO'}"
    )
    summary = figures["summary"]
    counted = {c: n for c, n in summary["categories"].items() if n}
    if counted != {c: sum(1 for v in expected.values() if v == c) for c in counted}:
        print(f"  summary categories disagree with the planted ones: {counted}")
        ok = False
    again = figures["again"]
    runs = ReconciliationRun.objects.filter(county_id=COUNTY, month=MONTH)
    current = [r.pk for r in runs if r.is_current]
    repeat_ok = (
        again["summary"]["categories"] == summary["categories"]
        and current == [again["run"]]
        and runs.count() == 2
        and Discrepancy.objects.count() == len(found)
        and Discrepancy.objects.filter(first_run_id=again["first_run"], last_run_id=again["run"])
        .count() == len(found)
    )  # fmt: skip
    same = again["same_file"]
    print(
        f"  second run of the month: same cases {'yes' if repeat_ok else 'NO'}, "
        f"{len(current)} current run of {runs.count()} kept; tax file again: "
        f"{'answered by its statement, nothing written' if same['same_file'] else 'REIMPORTED'}"
    )
    return ok and repeat_ok and same["same_file"]


def floor(plan: Plan) -> dict[str, float]:
    """What PostgreSQL alone needs for the statements, no application code on the way: the
    lines of both files, already checked and formatted, copied into their tables as a first
    import would store them (then rolled back), and copied into a bare temporary table, as a
    staging table would take them. Seconds, both files together."""
    import io

    from django.db import connection, transaction

    # Rolled back, so no statement row is needed; the keys are the files' own with a letter
    # before them, as the lines of the files are on file already.
    statement = -1
    tax = [(statement, MONTH, f"F{v}", n, name, y, t or None, a, d, COUNTY)
           for v, n, name, y, t, a, d in plan.tax]  # fmt: skip
    bank = [(statement, MONTH, f"F{s}", v, n, a, d, COUNTY) for s, v, n, a, d in plan.bank]
    files = [
        ("reconciliation_taxline", "statement_id, month, voucher_no, id_number, name, "
         "contribution_year, tier, amount, paid_on, region_code", tax),
        ("reconciliation_bankline", "statement_id, month, serial_no, voucher_no, id_number, "
         "amount, traded_on, region_code", bank),
    ]  # fmt: skip
    texts = [
        "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows)
        for _table, _columns, rows in files
    ]
    figures = {"stored": 0.0, "staged": 0.0}
    for (table, columns, _rows), text in zip(files, texts, strict=True):
        for figure, target in (("stored", table), ("staged", f"{table}_floor")):
            with transaction.atomic(), connection.cursor() as cursor:
                if figure == "staged":
                    cursor.execute(
                        f"CREATE TEMPORARY TABLE {target} (LIKE {table} INCLUDING IDENTITY)"
                    )
                started = time.perf_counter()
                cursor.cursor.copy_expert(f"COPY {target} ({columns}) FROM STDIN",
                                          io.StringIO(text))  # fmt: skip
                figures[figure] += since(started)
                transaction.set_rollback(True)
    return figures


def payment_ids(vouchers: dict[str, str]):
    from collection.models import Payment

    return Payment.objects.filter(voucher_no__in=list(vouchers)).values_list("id", "voucher_no")


def report(plan: Plan, figures: dict, records: int) -> bool:
    steps = figures["steps"]
    timed = steps[:3]
    total = sum(s["seconds"] for s in timed)
    for step, result in zip(timed[:2], figures["imports"], strict=True):
        print(
            f"{step['label']}: {result['rows']:,} rows, {result['created']:,} new, "
            f"{result['rejected']:,} rejected, sum {result['total']} in {step['seconds']:.2f} s "
            f"({result['rows'] / step['seconds']:,.0f} rows/s), peak {step['peak_mb']:.0f} MB"
        )
        print(f"    {step['load']:6.2f} s  read and check the file while COPY stores the lines")
        print(f"    {step['commit']:6.2f} s  the commit")
        print_slow_statements(step["statements"], step["seconds"] - step["load"] - step["commit"])
    summary = figures["summary"]
    print(
        f"reconcile: tax {summary['tax']['count']:,} ({summary['tax']['sum']}), bank "
        f"{summary['bank']['count']:,} ({summary['bank']['sum']}), system "
        f"{summary['system']['count']:,} ({summary['system']['sum']}); matched "
        f"{summary['matched']:,}, cases {sum(summary['categories'].values()):,} in "
        f"{timed[2]['seconds']:.2f} s, peak {timed[2]['peak_mb']:.0f} MB"
    )
    print_slow_statements(timed[2]["statements"], timed[2]["seconds"])
    met = total <= TARGET_SECONDS
    target = (
        f"target ≤ {TARGET_SECONDS:.0f} s {'met' if met else 'MISSED'}"
        if records >= TARGET_RECORDS
        else f"the target of ≤ {TARGET_SECONDS:.0f} s is for {TARGET_RECORDS:,} records"
    )
    print(
        f"total: {total:.2f} s (import tax {timed[0]['seconds']:.2f} s + import bank "
        f"{timed[1]['seconds']:.2f} s + reconcile {timed[2]['seconds']:.2f} s), {target}; "
        f"peak memory {figures['peak_mb']:.0f} MB (Django loaded: {figures['start_mb']:.0f} MB; "
        f"load average {figures['load']:.1f})"
    )
    again, same = steps[3], steps[4]
    print(
        f"not in the total: reconcile again {again['seconds']:.2f} s, "
        f"tax file again {same['seconds']:.2f} s"
    )
    ok = check(plan, figures)
    base = floor(plan)
    print(
        f"PostgreSQL alone, both files' lines already checked: {base['stored']:.2f} s to store "
        f"them in the line tables with their indexes (rolled back), {base['staged']:.2f} s into "
        f"bare temporary tables; what is left of the {TARGET_SECONDS:.0f} s for reading the "
        f"files and reconciling: {TARGET_SECONDS - base['stored']:.2f} s"
    )
    return ok and (met or records < TARGET_RECORDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=TARGET_RECORDS)
    parser.add_argument("--database", default="pension_bench_reconcile")
    parser.add_argument("--keep", action="store_true", help="keep the database and the files")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tax", help=argparse.SUPPRESS)
    parser.add_argument("--bank", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        django_setup(os.environ["DATABASE_URL"])
        print(json.dumps(child(args.tax, args.bank), ensure_ascii=False, default=str))
        return

    name = args.database
    check_database_name(name)
    server = server_url()
    admin = admin_connection(server)
    print(
        f"reconcile benchmark: {args.records:,} records of {COUNTY} for {MONTH:%Y-%m}, "
        f"{server_summary(admin)} at {urlsplit(server).hostname or 'localhost'}, database {name}",
        flush=True,
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python "
        f"{sys.version.split()[0]}: 10 million additions in {reference_loop():.2f} s "
        "(to compare machines: lower is faster)",
        flush=True,
    )
    started = time.perf_counter()
    create_database(admin, name)
    url = database_url(server, name)
    django_setup(url)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    plan = build(args.records, args.seed)
    payments = load(plan)
    workdir = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    tax_path, bank_path = workdir / "税务征收明细-2023-07.csv", workdir / "银行流水-2023-07.csv"
    write_csv(tax_path, TAX_HEADER, plan.tax)
    write_csv(bank_path, BANK_HEADER, plan.bank)
    planted = len(plan.planted) + len(plan.planted_payments)
    print(
        f"setup: {len(plan.residents):,} residents, {payments:,} payments; tax CSV "
        f"{len(plan.tax):,} rows ({mb(tax_path.stat().st_size)}), bank CSV {len(plan.bank):,} "
        f"rows ({mb(bank_path.stat().st_size)}); planted {planted:,} cases "
        f"({planted / len(plan.tax):.1%}), about {planted // len(CATEGORIES):,} per category; "
        f"in {since(started):.1f} s (not timed)",
        flush=True,
    )
    plan.residents.clear()
    plan.payments.clear()
    connections.close_all()
    ok = False
    try:
        figures = run_child(__file__, url, "--child", "--tax", str(tax_path), "--bank",
                            str(bank_path))  # fmt: skip
        ok = report(plan, figures, args.records)
    finally:
        connections.close_all()
        if args.keep:
            print(f"kept: database {name}, files in {workdir}")
        else:
            drop_database(admin, name)
            for path in (tax_path, bank_path):
                path.unlink(missing_ok=True)
            workdir.rmdir()
        admin.close()
    met = ", target met" if args.records >= TARGET_RECORDS else ""
    print(f"every planted case found, none invented{met}" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
