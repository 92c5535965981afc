"""Benchmark of one county's bulk work in a province: does it slow down with other counties on file?

    python bench/province.py                                           # 5 counties of 1,000,000
    python bench/province.py --counties 3 --residents-per-county 50000  # a quick check
    python bench/province.py --partitioned-copy --explain              # plus the partitioning test

PostgreSQL only. The script creates its own database (``pension_bench_province`` unless
--database says otherwise) on the server of DATABASE_URL, migrates it and loads the first county,
沧源 530927 (Yunnan), as bench/registry.py builds it: N residents of every status, the police
registry export to compare with them, and, as in bench/collection.py and bench/reconcile.py, the
payments of 2023 and 2022, 低保 listings with some proxy payments, and the tax bureau's and the
bank's statements of July 2023 with about 1% of the records planted as discrepancies. Every
2023 personal payment is dated in July, so the month reconciled holds the county's whole year.

Once the first county is loaded and VACUUM (FREEZE, ANALYZE)d, the database is copied as it
stands (``<database>_alone``). Then the other counties, one after the other, each of the same
size with real county codes of Yunnan (临沧 and 普洱, their villages and groups laid out as
沧源's): residents, payments and files, and each county's own registry import, statement
imports, reconciliation and progress (printed as it goes, not part of the comparison), then
VACUUM (FREEZE, ANALYZE) again.

The comparison: the first county's registry import, its progress rebuild for 31 July and its
reconciliation of July (both statement imports and the run), through the project's services,
on the same files, once from the county alone and once with the province on file, each in a
fresh copy of its database (``<database>_run``) and a fresh interpreter; the two taken in turn
--repeat times, the quickest of each kept. Both are printed side by side, statement by
statement, with the table sizes.

With --partitioned-copy: copies of the resident and payment tables, one plain and one
partitioned by LIST on a county_code column, loaded with the same rows, and the reads that
matter for one county timed on both.
"""

# The SQL of the partitioning test is composed from the script's own table names and county
# codes, never from input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import csv
import datetime
import gc
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import reconcile as reconcile_bench  # noqa: E402  (bench/reconcile.py, beside this script)
import registry as registry_bench  # noqa: E402  (bench/registry.py, beside this script)
from common import (  # noqa: E402  (bench/common.py, beside this script)
    admin_connection,
    check_database_name,
    create_database,
    database_url,
    django_setup,
    drop_database,
    mb,
    peak_mb,
    reference_loop,
    run_child,
    server_summary,
    server_url,
    since,
    statement_times,
)

FIRST = "530927"  # 沧源, shipped by the migrations, as bench/registry.py builds it
# Real county codes of Yunnan for the other counties. 双江 530925 and 耿马 530926 are left out:
# they are the birthplaces of 沧源's residents born next door, so their own residents' ID
# numbers could repeat those of 沧源's.
OTHER_COUNTIES = [
    ("530902", "临翔区", "5309"),
    ("530921", "凤庆县", "5309"),
    ("530922", "云县", "5309"),
    ("530923", "永德县", "5309"),
    ("530924", "镇康县", "5309"),
    ("530802", "思茅区", "5308"),
    ("530821", "宁洱哈尼族彝族自治县", "5308"),
    ("530822", "墨江哈尼族自治县", "5308"),
    ("530823", "景东彝族自治县", "5308"),
    ("530824", "景谷傣族彝族自治县", "5308"),
    ("530825", "镇沅彝族哈尼族拉祜族自治县", "5308"),
    ("530826", "江城哈尼族彝族自治县", "5308"),
    ("530827", "孟连傣族拉祜族佤族自治县", "5308"),
    ("530828", "澜沧拉祜族自治县", "5308"),
    ("530829", "西盟佤族自治县", "5308"),
]
PREFECTURES = {"5308": "普洱市"}  # 临沧市 5309 ships with the migrations

AS_OF = datetime.date(2023, 3, 31)  # the registry snapshot, as bench/registry.py
YEAR = reconcile_bench.YEAR
MONTH = reconcile_bench.MONTH  # July 2023
DAY = datetime.date(2023, 7, 31)  # progress on the last day of the month reconciled
TIER = "300.00"
OTHER_TIER = "500.00"  # the amount of a planted amount_differs record
UNPAID_PER_MILLE = 120  # enrolled residents without a 2023 payment, per thousand
PLANTED_EVERY = 100  # one paid resident in a hundred carries a planted discrepancy
PAID_PLANTS = ("posted_no_tax", "tax_no_bank", "amount_differs")
UNPAID_EVERY = 20  # one unpaid resident in twenty has a statement record all the same
UNPAID_PLANTS = ("tax_not_posted", "bank_no_tax")
STEPS = (
    ("registry", "registry import (csv)"),
    ("progress", "progress rebuild"),
    ("tax", "tax statement import"),
    ("bank", "bank statement import"),
    ("reconcile", "reconcile month"),
)
SIZED_TABLES = (
    "enrollment_resident", "collection_payment", "reconciliation_taxline",
    "reconciliation_bankline", "enrollment_finding", "pension_auditentry",
    "enrollment_specialgroupmembership", "reconciliation_discrepancy",
)  # fmt: skip


# --- The counties -----------------------------------------------------------------------------


def county_regions(code: str, name: str, prefecture: str) -> list[tuple[str, str, str, str]]:
    """Region rows (code, name, level, parent) of a county laid out as 沧源: its own row, its
    townships, villages and groups, with 530927 replaced by `code` in every code."""
    from collection.demo import demo_regions
    from pension.models import Region

    rows = []
    if prefecture in PREFECTURES:
        rows.append((prefecture, PREFECTURES[prefecture], Region.Level.PREFECTURE, prefecture[:2]))
    rows.append((code, name, Region.Level.COUNTY, prefecture))
    for township, township_name in (
        Region.objects.filter(code__startswith=FIRST, level=Region.Level.TOWNSHIP)
        .order_by("code")
        .values_list("code", "name")
    ):
        rows.append((code + township[6:], township_name, Region.Level.TOWNSHIP, code))
    for region, region_name, level, parent in demo_regions():
        if region.startswith(FIRST):
            rows.append((code + region[6:], region_name, level, code + parent[6:]))
    return rows


class CountyPlanBuilder(registry_bench.PlanBuilder):
    """bench/registry.py's county under another county code: the same statuses, households
    and planted changes; every resident is born in the county itself."""

    def __init__(self, *, county: str, regions: list[tuple], **kwargs) -> None:
        from pension.models import Region

        super().__init__(**kwargs)
        self.county = county
        self.regions = [row for row in regions if len(row[0]) >= 12]
        villages = [row for row in self.regions if row[2] == Region.Level.VILLAGE]
        self.villages = [code for code, _name, _level, _parent in villages]
        self.village_weights = [1 if name.endswith("社区") else 3 for _c, name, _l, _p in villages]
        self.groups = {}
        for code, _name, level, parent in self.regions:
            if level == Region.Level.GROUP:
                self.groups.setdefault(parent, []).append(code)

    def id_number(self, born: datetime.date, male: bool) -> str:
        from pension.idnumber import check_digit

        ymd = f"{born.year:04d}{born.month:02d}{born.day:02d}"
        while True:
            order = self.rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{self.county}{ymd}{order:03d}"
            if first17 not in self.used:
                self.used.add(first17)
                return first17 + check_digit(first17)


# One enrolled resident in eight (UNPAID_PER_MILLE) has not paid for 2023; the others paid 300
# yuan in July. The voucher is the tax bureau's: 20 digits, unique in the province.
PAYMENTS_SQL = """
INSERT INTO collection_payment
    (resident_id, county_code, contribution_year, amount, subsidy, kind, channel, source,
     voucher_no, paid_at, recorded_at, note)
SELECT r.id, left(r.village_id, 6), %(year)s, t.amount, t.subsidy, %(kind)s, %(channel)s,
       %(source)s,
       %(prefix)s || lpad(r.id::text, 19, '0'),
       %(start)s::timestamptz + (r.id %% %(days)s) * interval '1 day'
           + (r.id %% 600) * interval '1 minute', now(), ''
FROM enrollment_resident r
JOIN collection_tier t ON t.schedule_id = %(schedule)s AND NOT t.government_only
     AND t.amount = %(amount)s
WHERE r.village_id LIKE %(like)s AND r.status = ANY(%(statuses)s)
  AND (r.id * 7919) %% 1000 >= %(skip)s
"""


def load_county(
    code: str, regions: list[tuple], residents: list[tuple], workdir: Path
) -> dict[str, object]:
    """Regions, residents, listings and payments of one county, then its two statements of
    July written as CSV from what is on file; returns the counts and the seconds."""
    from django.db import connection, transaction

    from collection.models import ContributionSchedule
    from enrollment.models import Resident
    from pension.bulk import bulk_insert
    from pension.models import Region

    schedule = ContributionSchedule.objects.get(province_id=code[:2], year=YEAR)
    like = f"{code}%"
    figures: dict[str, object] = {}
    started = time.perf_counter()
    with transaction.atomic():
        Region.objects.bulk_create(
            [Region(code=c, name=n, level=lvl, parent_id=p) for c, n, lvl, p in regions],
            batch_size=5000,
            ignore_conflicts=True,
        )
        figures["residents"] = bulk_insert(Resident, registry_bench.RESIDENT_FIELDS, residents)
    figures["copy"] = since(started)
    started = time.perf_counter()
    common = {"schedule": schedule.pk, "like": like}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            PAYMENTS_SQL,
            {**common, "year": YEAR, "kind": "personal", "channel": "wechat",
             "source": "tax_sync", "prefix": "3", "start": f"{MONTH} 09:00+08", "days": 31,
             "amount": TIER, "statuses": ["enrolled"], "skip": UNPAID_PER_MILLE},
        )  # fmt: skip
        paid = cursor.rowcount
        cursor.execute(
            PAYMENTS_SQL,
            {**common, "year": YEAR - 1, "kind": "personal", "channel": "wechat",
             "source": "tax_sync", "prefix": "2", "start": "2022-01-05 09:00+08", "days": 300,
             "amount": TIER, "statuses": ["enrolled", "receiving"], "skip": 300},
        )  # fmt: skip
        last_year = cursor.rowcount
        # 低保 listings for one enrolled or eligible resident in ten, the proxy payment (the
        # schedule's 100 yuan, posted in April) for half of them.
        cursor.execute(
            """
            INSERT INTO enrollment_specialgroupmembership
                (resident_id, category, department, list_date, valid_from, created_at)
            SELECT r.id, 'dibao', 'civil_affairs', '2023-03-15', '2023-03-15', now()
            FROM enrollment_resident r
            WHERE r.village_id LIKE %s AND r.status IN ('enrolled', 'eligible') AND r.id %% 10 = 3
            """,
            [like],
        )
        listed = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO collection_payment
                (resident_id, county_code, contribution_year, amount, subsidy, kind, channel,
                 source, voucher_no, paid_at, recorded_at, note)
            SELECT r.id, left(r.village_id, 6), %s, %s, 0, 'proxy', 'government', 'proxy_batch',
                   'P' || lpad(r.id::text, 19, '0'), '2023-04-15 10:00+08', now(), ''
            FROM enrollment_resident r
            WHERE r.village_id LIKE %s AND r.status = 'enrolled' AND r.id %% 20 = 3
            """,
            [YEAR, schedule.proxy_amount, like],
        )
        proxy = cursor.rowcount
        cursor.execute(
            "ANALYZE enrollment_resident, collection_payment, enrollment_specialgroupmembership"
        )
    figures.update(paid=paid, last_year=last_year, listed=listed, proxy=proxy)
    figures["payments"] = since(started)
    started = time.perf_counter()
    figures["tax_path"] = str(workdir / f"税务征收明细-{code}-{MONTH:%Y-%m}.csv")
    figures["bank_path"] = str(workdir / f"银行流水-{code}-{MONTH:%Y-%m}.csv")
    figures.update(write_statements(code, figures["tax_path"], figures["bank_path"]))
    figures["files"] = since(started)
    return figures


def write_statements(code: str, tax_path: str, bank_path: str) -> dict[str, object]:
    """The county's July statements from its enrolled residents and their July payments,
    streamed from a server-side cursor: every paid resident has a tax and a bank record except
    the planted ones (one in PLANTED_EVERY: a payment no statement has, a tax record the bank
    lacks, a tax and bank amount of another tier), and one unpaid resident in UNPAID_EVERY has
    a record all the same (tax and bank without a payment, or a bank line alone)."""
    from django.db import connection, transaction

    header_tax, header_bank = reconcile_bench.TAX_HEADER, reconcile_bench.BANK_HEADER
    planted = dict.fromkeys(PAID_PLANTS + UNPAID_PLANTS, 0)
    tax_rows = bank_rows = paid_seen = unpaid_seen = 0
    with (
        transaction.atomic(),
        open(tax_path, "w", encoding="utf-8-sig", newline="") as tax_file,
        open(bank_path, "w", encoding="utf-8-sig", newline="") as bank_file,
    ):
        tax, bank = csv.writer(tax_file), csv.writer(bank_file)
        tax.writerow(header_tax)
        bank.writerow(header_bank)
        connection.ensure_connection()
        cursor = connection.connection.cursor(name="bench_statement_rows")
        cursor.itersize = 20_000
        cursor.execute(
            """
            SELECT r.id, r.id_number, r.name, p.voucher_no, p.amount,
                   (p.paid_at AT TIME ZONE 'Asia/Shanghai')::date
            FROM enrollment_resident r
            LEFT JOIN collection_payment p ON p.resident_id = r.id
                 AND p.contribution_year = %s AND p.kind = 'personal'
            WHERE r.village_id LIKE %s AND r.status = 'enrolled'
            ORDER BY r.id
            """,
            [YEAR, f"{code}%"],
        )
        for rid, number, name, voucher, amount, day in cursor:
            if voucher is None:
                unpaid_seen += 1
                if unpaid_seen % UNPAID_EVERY:
                    continue
                kind = UNPAID_PLANTS[(unpaid_seen // UNPAID_EVERY) % len(UNPAID_PLANTS)]
                planted[kind] += 1
                day = MONTH + datetime.timedelta(days=rid % 31)
                serial = f"B{rid:019d}"
                if kind == "tax_not_posted":
                    voucher = f"4{rid:019d}"
                    tax.writerow((voucher, number, name, YEAR, TIER, TIER, day))
                    bank.writerow((serial, voucher, number, TIER, day))
                    tax_rows += 1
                else:  # bank_no_tax: a bank line without a voucher
                    bank.writerow((serial, "", number, TIER, day))
                bank_rows += 1
                continue
            paid_seen += 1
            amount = f"{amount:.2f}"
            serial = f"C{rid:019d}"
            kind = None
            if paid_seen % PLANTED_EVERY == PLANTED_EVERY // 2:
                kind = PAID_PLANTS[(paid_seen // PLANTED_EVERY) % len(PAID_PLANTS)]
                planted[kind] += 1
            if kind == "posted_no_tax":
                continue
            if kind == "amount_differs":
                amount = OTHER_TIER
            tax.writerow((voucher, number, name, YEAR, amount, amount, day))
            tax_rows += 1
            if kind != "tax_no_bank":
                bank.writerow((serial, voucher, number, amount, day))
                bank_rows += 1
        cursor.close()
    return {"tax_rows": tax_rows, "bank_rows": bank_rows, "planted": planted}


def build_county(
    code: str, regions: list[tuple], n: int, seed: int, workdir: Path
) -> tuple[dict[str, object], registry_bench.Plan]:
    """Generate, load and write the files of one county; the plan keeps what was planted in
    the registry export, its rows are dropped once loaded and written."""
    started = time.perf_counter()
    if code == FIRST:
        builder = registry_bench.PlanBuilder(residents=n, as_of=AS_OF, seed=seed)
    else:
        builder = CountyPlanBuilder(
            county=code, regions=regions, residents=n, as_of=AS_OF, seed=seed
        )
    plan = builder.build()
    del builder
    generated = since(started)
    registry_path = workdir / f"registry-{code}.csv"
    registry_bench.write_csv(registry_path, plan)
    plan.export.clear()
    figures = load_county(code, regions, plan.residents, workdir)
    plan.residents.clear()
    gc.collect()
    figures.update(generate=generated, registry_path=str(registry_path), seconds=since(started))
    return figures, plan


# --- The operations, timed --------------------------------------------------------------------


class Phases:
    """What the statement timings cannot see, per operation: filling the staging table or the
    line table with COPY while the file is read and checked, and the commit. Both come from
    the clocks of bench/registry.py and bench/reconcile.py."""

    def __init__(self) -> None:
        self.registry = registry_bench.PhaseClock()
        self.registry.install()
        self.statements = reconcile_bench.Phases()
        self.statements.install()

    def take(self, key: str) -> tuple[float, float]:
        load, commit = self.statements.take()  # every commit goes through its clock
        if key == "registry":
            load = self.registry.load
        self.registry.load = 0.0
        return load, commit


def county_operations(
    code: str, files: dict[str, object], phases: Phases | None = None
) -> dict[str, object]:
    """The county's registry import, progress rebuild, statement imports and reconciliation,
    in this order, each with its statements; what each found, to compare between rounds."""
    from collection.models import VillageProgress
    from collection.services.progress import progress_rebuild
    from enrollment.services.jobs import registry_import
    from pension.models import Region
    from reconciliation.services.reconcile import reconcile_month
    from reconciliation.services.statements import statement_import

    county = Region.objects.get(code=code)
    steps: dict[str, dict[str, object]] = {}

    def step(key: str, function, **kwargs):
        if phases is not None:
            phases.take(key)
        with statement_times() as statements:
            started = time.perf_counter()
            result = function(**kwargs)
            seconds = since(started)
        load, commit = phases.take(key) if phases is not None else (0.0, 0.0)
        steps[key] = {"seconds": seconds, "statements": statements, "load": load,
                      "commit": commit}  # fmt: skip
        return result

    registry_path = str(files["registry_path"])
    outcome = step(
        "registry", registry_import, source=registry_path, region=county, as_of=AS_OF,
        filename=Path(registry_path).name,
    )  # fmt: skip
    rows = step("progress", progress_rebuild, county=county, year=YEAR, day=DAY)
    tax = step("tax", statement_import, source="tax", county=county, month=MONTH,
               source_file=str(files["tax_path"]))  # fmt: skip
    bank = step("bank", statement_import, source="bank", county=county, month=MONTH,
                source_file=str(files["bank_path"]))  # fmt: skip
    run = step("reconcile", reconcile_month, county=county, month=MONTH)
    progress = VillageProgress.objects.in_region(code).filter(year=YEAR, day=DAY)
    summary = run.summary
    return {
        "steps": steps,
        "registry": {
            "rows": outcome.rows, "counts": outcome.counts, "rejected": len(outcome.rejected),
            "applied": outcome.applied,
        },
        "progress": {
            "rows": rows,
            "paid": sum(progress.values_list("paid", flat=True)),
            "expected": sum(progress.values_list("expected", flat=True)),
        },
        "statements": {
            "tax": [tax.rows, tax.created, len(tax.rejected)],
            "bank": [bank.rows, bank.created, len(bank.rejected)],
        },
        "reconcile": {
            "matched": summary["matched"],
            "categories": {c: n for c, n in summary["categories"].items() if n},
            "tax": summary["tax"]["count"],
            "system": summary["system"]["count"],
        },
    }  # fmt: skip


def child(code: str, files: dict[str, object]) -> dict[str, object]:
    figures: dict[str, object] = {"start_mb": peak_mb(), "load": os.getloadavg()[0]}
    figures.update(county_operations(code, files, Phases()))
    figures["peak_mb"] = peak_mb()
    return figures


def timed_rounds(
    admin,
    templates: list[tuple[str, str]],
    run_name: str,
    run_url: str,
    files: dict,
    repeat: int,
) -> list[dict[str, object]]:
    """`repeat` runs of the first county's operations from each template (label, database),
    the templates taken in turn so that whatever else the machine does falls on both alike;
    each run in a fresh copy of its template and a fresh interpreter. For each template and
    operation, the figures of its quickest run: a slower run is another process's doing."""
    runs: dict[str, list[dict[str, object]]] = {label: [] for label, _db in templates}
    for number in range(1, max(1, repeat) + 1):
        for label, template in templates:
            copy = create_database(admin, run_name, template=template)
            print(f"{machine_line('machine now')}; copied in {copy:.1f} s", flush=True)
            figures = run_child(__file__, run_url, "--child", json.dumps(files))
            report_steps(f"{label}, run {number}", figures)
            runs[label].append(figures)
            drop_database(admin, run_name)
    found = ("registry", "progress", "reconcile")
    bests = []
    for label, _db in templates:
        done = runs[label]
        best = dict(done[0])
        best["steps"] = {
            key: min((run["steps"][key] for run in done), key=lambda step: step["seconds"])
            for key, _label in STEPS
        }
        best["peak_mb"] = max(run["peak_mb"] for run in done)
        best["load"] = max(run["load"] for run in done)
        best["runs_agree"] = all(run[k] == done[0][k] for run in done for k in found)
        bests.append(best)
    return bests


# --- Sizes and the machine --------------------------------------------------------------------


def table_sizes() -> dict[str, tuple[int, int]]:
    """Rows (the statistics' count, exact after VACUUM) and bytes with indexes, of each table
    in SIZED_TABLES and of the whole database (rows 0)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
               FROM pg_class c WHERE c.relname = ANY(%s) AND c.relkind = 'r'""",
            [list(SIZED_TABLES)],
        )
        sizes = {name: (max(rows, 0), size) for name, rows, size in cursor.fetchall()}
        cursor.execute("SELECT pg_database_size(current_database())")
        sizes["database"] = (0, cursor.fetchone()[0])
    return sizes


def vacuum() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (FREEZE, ANALYZE)")
    return since(started)


def machine_line(prefix: str = "machine") -> str:
    return (
        f"{prefix}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python "
        f"{sys.version.split()[0]}: 10 million additions in {reference_loop():.2f} s "
        "(to compare machines: lower is faster)"
    )


# --- Report -----------------------------------------------------------------------------------


def ratio(before: float, after: float) -> str:
    return f"×{after / before:.2f}" if before > 0 else "–"


def report_steps(label: str, figures: dict[str, object]) -> None:
    steps = figures["steps"]
    parts = ", ".join(f"{key} {steps[key]['seconds']:.2f} s" for key, _label in STEPS)
    print(f"  {label}: {parts}", flush=True)


def outcome_lines(figures: dict[str, object], expected: dict[str, object]) -> list[str]:
    """What one round found, and whether it is what was planted."""
    registry = figures["registry"]
    counts = {k: registry["counts"].get(k, 0) for k in registry_bench.KINDS}
    registry_ok = counts == expected["registry"] and registry["rejected"] == expected["rejected"]
    cases = figures["reconcile"]["categories"]
    cases_ok = cases == {k: n for k, n in expected["planted"].items() if n}
    progress = figures["progress"]
    return [
        f"registry: {registry['rows']:,} rows, "
        + ", ".join(f"{k} {n:,}" for k, n in counts.items())
        + f", rejected {registry['rejected']:,}: "
        + ("as planted" if registry_ok else "NOT AS PLANTED"),
        f"progress: {progress['rows']:,} villages, paid {progress['paid']:,} of "
        f"{progress['expected']:,}",
        f"reconciliation: tax {figures['reconcile']['tax']:,}, system "
        f"{figures['reconcile']['system']:,}, matched {figures['reconcile']['matched']:,}, cases "
        + ", ".join(f"{k} {n:,}" for k, n in sorted(cases.items()))
        + f": {'as planted' if cases_ok else 'NOT AS PLANTED'}",
    ]


def shape(sql: str) -> str:
    """A statement without its numbers (ids and names of the run written into the SQL)."""
    return re.sub(r"\d+", "#", sql)


def compare_statements(alone: list, together: list, threshold: float) -> None:
    """The statements of one operation side by side, when both rounds ran the same ones."""
    same = len(alone) == len(together) and all(
        shape(a[1]) == shape(b[1]) for a, b in zip(alone, together, strict=True)
    )
    if not same:
        first = next(
            (
                i
                for i, (a, b) in enumerate(zip(alone, together, strict=False))
                if shape(a[1]) != shape(b[1])
            ),
            min(len(alone), len(together)),
        )
        print(
            f"    (the rounds ran different statements: {len(alone)} and {len(together)}, "
            f"from the {first + 1}th on)"
        )
        for name, found in (("alone", alone), ("together", together)):
            for took, sql in found:
                if took >= threshold:
                    print(f"    {name:8} {took:6.2f} s  {sql}")
        return
    quick = [0.0, 0.0, 0]
    for (a, sql), (b, _sql) in zip(alone, together, strict=True):
        if a >= threshold or b >= threshold:
            print(f"    {a:6.2f} s {b:6.2f} s {ratio(a, b):>6}  {sql}")
        else:
            quick[0] += a
            quick[1] += b
            quick[2] += 1
    if quick[2]:
        print(
            f"    {quick[0]:6.2f} s {quick[1]:6.2f} s {ratio(quick[0], quick[1]):>6}  "
            f"{quick[2]} statements under {threshold} s each"
        )


def report_rounds(
    alone: dict, together: dict, expected: dict, counties: int, residents: int, name: str
) -> bool:
    print()
    print(
        f"{FIRST} {name}: alone, and with {counties - 1} other counties on file "
        f"({counties * residents:,} residents)"
    )
    print(f"  {'':28} {'alone':>9} {'with ' + str(counties):>9} {'ratio':>7}")
    sums = [0.0, 0.0]
    for key, label in STEPS:
        a = alone["steps"][key]["seconds"]
        b = together["steps"][key]["seconds"]
        sums[0] += a
        sums[1] += b
        print(f"  {label:28} {a:7.2f} s {b:7.2f} s {ratio(a, b):>7}")
    rec = [sum(r["steps"][k]["seconds"] for k in ("tax", "bank", "reconcile"))
           for r in (alone, together)]  # fmt: skip
    print(f"  {'reconciliation (3 above)':28} {rec[0]:7.2f} s {rec[1]:7.2f} s {ratio(*rec):>7}")
    print(f"  {'all five':28} {sums[0]:7.2f} s {sums[1]:7.2f} s {ratio(*sums):>7}")
    print(
        f"  peak memory {alone['peak_mb']:.0f} MB / {together['peak_mb']:.0f} MB; load average "
        f"at the start {alone['load']:.1f} / {together['load']:.1f}"
    )
    lines_alone = outcome_lines(alone, expected)
    lines_together = outcome_lines(together, expected)
    for a, b in zip(lines_alone, lines_together, strict=True):
        print(f"  {a}" + ("; the same with the province" if a == b else f"\n  WITH ALL: {b}"))
    agree = alone.get("runs_agree", True) and together.get("runs_agree", True)
    if not agree:
        print("  THE REPEATED RUNS OF A ROUND FOUND DIFFERENT THINGS")
    same = (
        agree
        and lines_alone == lines_together
        and all("NOT AS PLANTED" not in x for x in lines_alone)
    )
    print("  where the time goes, alone / with all counties:")
    for key, label in STEPS:
        a, b = alone["steps"][key], together["steps"][key]
        print(f"  {label}:")
        for part, what in (
            ("load", "read and check the file while COPY stores it"),
            ("commit", "the commit (deferred foreign-key checks)"),
        ):
            if a[part] or b[part]:
                print(f"    {a[part]:6.2f} s {b[part]:6.2f} s {ratio(a[part], b[part]):>6}  {what}")
        compare_statements(a["statements"], b["statements"], 0.05)
        rest = [
            max(0.0, x["seconds"] - x["load"] - x["commit"] - sum(t for t, _s in x["statements"]))
            for x in (a, b)
        ]
        print(f"    {rest[0]:6.2f} s {rest[1]:6.2f} s {ratio(*rest):>6}  the rest (Python)")
    return same


def report_sizes(alone: dict, together: dict) -> None:
    print("table sizes (rows, with indexes), alone → with all counties:")
    for table in (*SIZED_TABLES, "database"):
        a_rows, a_size = alone.get(table, (0, 0))
        b_rows, b_size = together.get(table, (0, 0))
        rows = f"{a_rows:>11,} → {b_rows:>11,} rows  " if table != "database" else " " * 40
        print(f"  {table:36} {rows}{mb(a_size):>10} → {mb(b_size):>10}")


# --- Partitioning -----------------------------------------------------------------------------

RESIDENT_INDEXES = [
    ("village", "(village_id varchar_pattern_ops)"),
    ("group", "(group_id)"),
]
PAYMENT_INDEXES = [
    ("resident_year", "(resident_id, contribution_year)"),
    ("year_paid_at", "(contribution_year, paid_at)"),
    ("paid_at", "(paid_at, id)"),
    ("duplicate", "(duplicate_of_id) WHERE duplicate_of_id IS NOT NULL"),
]


def partitioning_ddl(partitions: list[str]) -> dict[str, list[str]]:
    """The two layouts: the app's tables as they are (the payments carry their county_code),
    and the same partitioned by county_code. The partitioned one puts the county
    last in every key, so that a key still serves a look-up that does not know the county (an
    ID number, a resident's id); a unique key without it cannot be declared on a partitioned
    table."""
    plain = [
        "CREATE TABLE bench_plain_resident (LIKE enrollment_resident INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS) WITH (fillfactor = 90)",
        "ALTER TABLE bench_plain_resident ADD PRIMARY KEY (id), ADD UNIQUE (id_number)",
        # Only the reads marked "county column" use the payments' county, through an index
        # built after the load.
        "CREATE TABLE bench_plain_payment (LIKE collection_payment INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS)",
        "ALTER TABLE bench_plain_payment ADD PRIMARY KEY (id), ADD UNIQUE (source, voucher_no),"
        " ADD UNIQUE (reverses_id)",
    ]
    part = [
        "CREATE TABLE bench_part_resident (LIKE enrollment_resident INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS, county_code varchar(6) NOT NULL) PARTITION BY LIST (county_code)",
        "ALTER TABLE bench_part_resident ADD PRIMARY KEY (id, county_code),"
        " ADD UNIQUE (id_number, county_code)",
        "CREATE TABLE bench_part_payment (LIKE collection_payment INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS) PARTITION BY LIST (county_code)",
        "ALTER TABLE bench_part_payment ADD PRIMARY KEY (id, county_code),"
        " ADD UNIQUE (source, voucher_no, county_code), ADD UNIQUE (reverses_id, county_code)",
    ]
    for layout, statements in (("plain", plain), ("part", part)):
        for name, columns in RESIDENT_INDEXES:
            statements.append(
                f"CREATE INDEX bench_{layout}_resident_{name} ON bench_{layout}_resident {columns}"
            )
        for name, columns in PAYMENT_INDEXES:
            statements.append(
                f"CREATE INDEX bench_{layout}_payment_{name} ON bench_{layout}_payment {columns}"
            )
    for code in partitions:
        for table, fill in (("resident", " WITH (fillfactor = 90)"), ("payment", "")):
            part.append(
                f"CREATE TABLE bench_part_{table}_{code} PARTITION OF bench_part_{table}"
                f" FOR VALUES IN ('{code}'){fill}"
            )
    return {"plain": plain, "part": part}


LOADS = {
    "plain": [
        ("residents", "INSERT INTO bench_plain_resident SELECT * FROM enrollment_resident"
                      " ORDER BY id"),
        ("payments", "INSERT INTO bench_plain_payment SELECT * FROM collection_payment"
                     " ORDER BY paid_at, id"),
        ("foreign key", "ALTER TABLE bench_plain_payment ADD FOREIGN KEY (resident_id)"
                        " REFERENCES bench_plain_resident (id)"),
        ("county index", "CREATE INDEX bench_plain_payment_county ON bench_plain_payment"
                         " (county_code, paid_at)"),
    ],
    "part": [
        ("residents", "INSERT INTO bench_part_resident SELECT r.*, left(r.village_id, 6)"
                      " FROM enrollment_resident r ORDER BY r.id"),
        ("payments", "INSERT INTO bench_part_payment SELECT * FROM collection_payment"
                     " ORDER BY paid_at, id"),
        ("foreign key", "ALTER TABLE bench_part_payment ADD FOREIGN KEY"
                        " (resident_id, county_code) REFERENCES bench_part_resident"
                        " (id, county_code)"),
    ],
}  # fmt: skip


def partitioning_queries(
    code: str, township: str
) -> list[tuple[str, str, str | None, str, bool, int]]:
    """(label, plain SQL, plain SQL with the payments' county column or None, partitioned SQL,
    bulk settings, runs): the reads that matter for one county, written for the plain layout
    as the app writes them (a prefix of the village code, a join to the residents), for the
    partitioned one with the county named as well, as an app aware of the partitions would."""
    like = f"'{code}%'"
    counted = """p.contribution_year = 2023 AND p.kind IN ('personal', 'proxy')
                 AND p.paid_at < '2023-08-01 00:00+08'
                 AND p.duplicate_of_id IS NULL AND p.reverses_id IS NULL"""
    progress = """SELECT x.unit, COUNT(*) FROM (
            SELECT r.village_id AS unit, p.resident_id FROM {p} p JOIN {r} r ON {join}
            WHERE r.village_id LIKE {like} AND {counted} {county}
              AND NOT EXISTS (SELECT 1 FROM {p} x WHERE x.reverses_id = p.id {reversal})
            GROUP BY r.village_id, p.resident_id) x GROUP BY x.unit"""
    month = """SELECT COUNT(*), SUM(p.amount) FROM {p} p JOIN {r} r ON {join}
            WHERE p.paid_at >= '2023-07-01 00:00+08' AND p.paid_at < '2023-08-01 00:00+08'
              AND p.kind IN ('personal', 'back') AND p.reverses_id IS NULL
              AND r.village_id LIKE {like} {county}"""
    plain = {"p": "bench_plain_payment", "r": "bench_plain_resident", "like": like,
             "join": "r.id = p.resident_id", "counted": counted, "county": "",
             "reversal": ""}  # fmt: skip
    part = {"p": "bench_part_payment", "r": "bench_part_resident", "like": like,
            "join": "r.id = p.resident_id AND r.county_code = p.county_code",
            "counted": counted,
            "county": f"AND p.county_code = '{code}' AND r.county_code = '{code}'",
            "reversal": "AND x.county_code = p.county_code"}  # fmt: skip
    column = dict(plain, county=f"AND p.county_code = '{code}'")
    page = (
        "SELECT id, id_number, name, village_id, household_no, status FROM {r}"
        " WHERE village_id LIKE '" + township + "%' {county}"
        " ORDER BY village_id, household_no, id_number LIMIT 50"
    )
    return [
        ("the county's residents by status (village prefix)",
         f"SELECT status, COUNT(*) FROM bench_plain_resident WHERE village_id LIKE {like}"
         " GROUP BY status",
         None,
         f"SELECT status, COUNT(*) FROM bench_part_resident WHERE county_code = '{code}'"
         f" AND village_id LIKE {like} GROUP BY status", False, 5),
        ("a township's residents, first page of the list",
         page.format(r="bench_plain_resident", county=""), None,
         page.format(r="bench_part_resident", county=f"AND county_code = '{code}'"), False, 11),
        ("progress: paying residents per village, 2023",
         progress.format(**plain), progress.format(**column), progress.format(**part), True, 5),
        ("the month's payments of the county (system ledger)",
         month.format(**plain), month.format(**column), month.format(**part), True, 5),
        ("index-only count of the county's residents",
         f"SELECT COUNT(*) FROM bench_plain_resident WHERE village_id LIKE {like}", None,
         f"SELECT COUNT(*) FROM bench_part_resident WHERE county_code = '{code}'", False, 11),
        ("a statement's ID numbers matched, county unknown",
         "SELECT COUNT(r.id) FROM bench_probe t LEFT JOIN bench_plain_resident r"
         " ON r.id_number = t.id_number", None,
         "SELECT COUNT(r.id) FROM bench_probe t LEFT JOIN bench_part_resident r"
         " ON r.id_number = t.id_number", True, 5),
        ("a statement's ID numbers matched, county known",
         "SELECT COUNT(r.id) FROM bench_probe t LEFT JOIN bench_plain_resident r"
         f" ON r.id_number = t.id_number AND r.village_id LIKE {like}", None,
         "SELECT COUNT(r.id) FROM bench_probe t LEFT JOIN bench_part_resident r"
         f" ON r.id_number = t.id_number AND r.county_code = '{code}'", True, 5),
        ("the province's residents per county (a report)",
         "SELECT left(village_id, 6), COUNT(*) FROM bench_plain_resident GROUP BY 1", None,
         "SELECT county_code, COUNT(*) FROM bench_part_resident GROUP BY 1", True, 3),
    ]  # fmt: skip


def compact_plan(cursor, sql: str) -> str:
    """The plan's nodes, outermost first; a partitioned table's Append shows how many of its
    partitions it reads and with what."""
    cursor.execute(f"EXPLAIN (FORMAT JSON, COSTS OFF) {sql}")
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)

    def describe(node: dict) -> str:
        kind = node["Node Type"]
        if node.get("Relation Name"):
            index = f" using {node['Index Name']}" if node.get("Index Name") else ""
            kind = f"{kind} on {node['Relation Name']}{index}"
        children = node.get("Plans", [])
        if kind in ("Append", "Merge Append") and children:
            shown: dict[str, int] = {}
            for child_node in children:
                text = describe(child_node)
                for code_digits in {w for w in text.split("_") if w[:6].isdigit()}:
                    text = text.replace(code_digits[:6], "<county>")
                shown[text] = shown.get(text, 0) + 1
            return f"{kind}[" + "; ".join(f"{n} × {t}" for t, n in shown.items()) + "]"
        if children:
            return f"{kind} ← (" + ", ".join(describe(c) for c in children) + ")"
        return kind

    return describe(plan[0]["Plan"])


def timed_query(cursor, sql: str, runs: int) -> float:
    """Median seconds of `runs` executions after one to warm the cache."""
    cursor.execute(sql)
    cursor.fetchall()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        times.append(since(started))
    return statistics.median(times)


def lookups_ms(cursor, sql: str, numbers: list[tuple]) -> float:
    """Median milliseconds of one look-up, each its own statement (planned each time, as the
    ORM sends it), after one round to warm the cache."""
    for params in numbers[:50]:
        cursor.execute(sql, params)
        cursor.fetchall()
    times = []
    for params in numbers:
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        times.append(since(started))
    return statistics.median(times) * 1000


def bulk_settings(cursor, on: bool) -> None:
    """The settings of the set-based work (pension.staging.tune_for_bulk_work), or the
    server's defaults for a page's read."""
    if on:
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SET random_page_cost = 1.1")
        cursor.execute("SET jit = off")
    else:
        cursor.execute("RESET work_mem")
        cursor.execute("RESET random_page_cost")
        cursor.execute("RESET jit")


def measure_partitioning(
    *, codes: list[str], partitions: int, lookups: int, explain: bool, keep: bool
) -> None:
    from django.db import connection

    from pension.models import Region

    extra = [f"5399{i:02d}" for i in range(max(0, partitions - len(codes)))]
    township = (
        Region.objects.filter(code__startswith=FIRST, level=Region.Level.TOWNSHIP)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )
    ddl = partitioning_ddl(codes + extra)
    load_seconds: dict[str, dict[str, float]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        bulk_settings(cursor, True)
        for layout in ("plain", "part"):
            cursor.execute(f"DROP TABLE IF EXISTS bench_{layout}_payment, bench_{layout}_resident")
            for statement in ddl[layout]:
                cursor.execute(statement)
            load_seconds[layout] = {}
            for label, sql in LOADS[layout]:
                started = time.perf_counter()
                cursor.execute(sql)
                load_seconds[layout][label] = since(started)
            started = time.perf_counter()
            cursor.execute(f"VACUUM (ANALYZE) bench_{layout}_resident")
            cursor.execute(f"VACUUM (ANALYZE) bench_{layout}_payment")
            load_seconds[layout]["vacuum"] = since(started)
        cursor.execute("SELECT COUNT(*) FROM bench_plain_resident")
        residents = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM bench_plain_payment")
        payments = cursor.fetchone()[0]
        sizes = {}
        for layout in ("plain", "part"):
            for table in ("resident", "payment"):
                cursor.execute(
                    "SELECT COALESCE((SELECT SUM(pg_total_relation_size(relid))"
                    " FROM pg_partition_tree(%s::regclass)), pg_total_relation_size(%s::regclass))",
                    [f"bench_{layout}_{table}"] * 2,
                )
                sizes[(layout, table)] = cursor.fetchone()[0]
        # A tenth of the county's residents, as a statement or an export would name them.
        cursor.execute("DROP TABLE IF EXISTS bench_probe")
        cursor.execute(
            "CREATE TABLE bench_probe AS SELECT id_number FROM enrollment_resident"
            " WHERE village_id LIKE %s AND id %% 10 = 7",
            [f"{FIRST}%"],
        )
        cursor.execute("ANALYZE bench_probe")
        cursor.execute("SELECT COUNT(*) FROM bench_probe")
        probes = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id_number, left(village_id, 6) FROM enrollment_resident"
            " WHERE id %% 997 = 11 ORDER BY id LIMIT %s",
            [lookups],
        )
        numbers = cursor.fetchall()

    loaded = ", ".join(codes)
    print()
    print(
        f"partitioning: copies of enrollment_resident and collection_payment, plain and "
        f"partitioned BY LIST (county_code) into {len(codes) + len(extra)} partitions "
        f"({len(codes)} loaded: {loaded}; {len(extra)} empty, standing for the province's "
        f"other counties); {residents:,} residents, {payments:,} payments in the order they "
        "were paid (the counties interleaved)"
    )
    p, q = load_seconds["plain"], load_seconds["part"]
    print(f"  {'':52} {'plain':>10} {'partitioned':>12} {'ratio':>7}")
    for label, what in (
        ("residents", "load the residents (keys and indexes in place)"),
        ("payments", "load the payments (keys and indexes in place)"),
        ("foreign key", "add the payment → resident foreign key"),
        ("vacuum", "VACUUM (ANALYZE) both"),
    ):
        print(f"  {what:52} {p[label]:8.2f} s {q[label]:10.2f} s {ratio(p[label], q[label]):>7}")
    what = "index (county_code, paid_at) on the plain payments"
    print(f"  {what:52} {p['county index']:8.2f} s {'–':>12}")
    for table in ("resident", "payment"):
        a, b = sizes[("plain", table)], sizes[("part", table)]
        print(f"  {table + ' table with its indexes':52} {mb(a):>10} {mb(b):>12} {ratio(a, b):>7}")
    print(
        f"  reads of {FIRST} (median; plain as the app reads, then with the payments' county "
        "column where it applies, partitioned naming the county; a statement's ID numbers: "
        f"{probes:,}, a tenth of the county's residents):"
    )
    print(
        f"  {'':52} {'plain':>10} {'county col':>11} {'ratio':>6} {'partitioned':>12} {'ratio':>6}"
    )
    with connection.cursor() as cursor:
        queries = partitioning_queries(FIRST, township)
        for label, plain_sql, column_sql, part_sql, bulk, runs in queries:
            bulk_settings(cursor, bulk)
            a = timed_query(cursor, plain_sql, runs)
            c = timed_query(cursor, column_sql, runs) if column_sql else None
            b = timed_query(cursor, part_sql, runs)
            column = (
                f"{c * 1000:8.1f} ms {ratio(a, c):>6}" if c is not None else f"{'–':>11} {'':6}"
            )
            print(
                f"  {label:52} {a * 1000:7.1f} ms {column} {b * 1000:9.1f} ms {ratio(a, b):>6}",
                flush=True,
            )
            if explain:
                print(f"      plain: {compact_plan(cursor, plain_sql)}")
                if column_sql:
                    print(f"      county column: {compact_plan(cursor, column_sql)}")
                print(f"      partitioned: {compact_plan(cursor, part_sql)}")
        bulk_settings(cursor, False)
        one = "SELECT id, name, village_id, status FROM {} WHERE id_number = %s"
        a = lookups_ms(cursor, one.format("bench_plain_resident"), [(n,) for n, _c in numbers])
        b = lookups_ms(cursor, one.format("bench_part_resident"), [(n,) for n, _c in numbers])
        c = lookups_ms(
            cursor,
            one.format("bench_part_resident") + " AND county_code = %s",
            numbers,
        )
        label = f"one ID number looked up ({len(numbers):,} look-ups)"
        print(
            f"  {label:52} {a:7.2f} ms {'–':>11} {'':6} {b:9.2f} ms {ratio(a, b):>6}  "
            "(county unknown: every partition)"
        )
        print(
            f"  {'':52} {a:7.2f} ms {'–':>11} {'':6} {c:9.2f} ms {ratio(a, c):>6}  "
            "(county known: one partition)"
        )
        if explain:
            literal = f"'{numbers[0][0]}'"
            for layout, table in (
                ("plain", "bench_plain_resident"),
                ("partitioned", "bench_part_resident"),
            ):
                sql = one.format(table).replace("%s", literal)
                print(f"      {layout}: {compact_plan(cursor, sql)}")
        if not keep:
            cursor.execute(
                "DROP TABLE bench_probe, bench_plain_payment, bench_plain_resident,"
                " bench_part_payment, bench_part_resident"
            )


# --- Main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counties", type=int, default=5)
    parser.add_argument("--residents-per-county", type=int, default=1_000_000)
    parser.add_argument("--database", default="pension_bench_province")
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each round")
    parser.add_argument("--partitioned-copy", action="store_true")
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--explain", action="store_true", help="print the plans of the reads")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        django_setup(os.environ["DATABASE_URL"])
        files = json.loads(args.child)
        print(json.dumps(child(FIRST, files), ensure_ascii=False, default=str))
        return

    if not 2 <= args.counties <= len(OTHER_COUNTIES) + 1:
        sys.exit(f"--counties must be between 2 and {len(OTHER_COUNTIES) + 1}")
    name = args.database
    check_database_name(name)
    run_name, alone_name = f"{name}_run", f"{name}_alone"
    server = server_url()
    admin = admin_connection(server)
    n = args.residents_per_county
    others = OTHER_COUNTIES[: args.counties - 1]
    print(
        f"province benchmark: {args.counties} counties × {n:,} residents ({FIRST} timed alone "
        f"and with {', '.join(code for code, _name, _p in others)}), {server_summary(admin)} at "
        f"{urlsplit(server).hostname or 'localhost'}, database {name}",
        flush=True,
    )
    print(machine_line(), flush=True)

    os.environ.setdefault("LOG_LEVEL", "WARNING")  # here and in the timed child
    started = time.perf_counter()
    create_database(admin, name)
    django_setup(database_url(server, name))
    from django.core.management import call_command
    from django.db import connections

    from pension.models import Region

    call_command("migrate", verbosity=0)
    migrated = since(started)
    workdir = Path(tempfile.mkdtemp(prefix="bench-province-"))
    first_name = Region.objects.get(code=FIRST).name
    run_url = database_url(server, run_name)
    ok = True
    try:
        # The first county and its files; its plan keeps what the registry export plants.
        from collection.demo import demo_regions

        regions = [row for row in demo_regions() if row[0].startswith(FIRST)]
        files, plan = build_county(FIRST, regions, n, args.seed, workdir)
        expected = {
            "registry": dict(plan.expected),
            "rejected": plan.rejected,
            "planted": files["planted"],
        }
        print(
            f"county 1 {FIRST} {first_name}: {files['residents']:,} residents, "
            f"{files['paid']:,} paid for 2023 in July, {files['last_year']:,} payments of 2022, "
            f"{files['listed']:,} listed as 低保 ({files['proxy']:,} proxy payments); July "
            f"statements of {files['tax_rows']:,} tax and {files['bank_rows']:,} bank records "
            f"({sum(files['planted'].values()):,} planted); in {files['seconds']:.1f} s "
            f"(generate {files['generate']:.1f} s, COPY {files['copy']:.1f} s, payments "
            f"{files['payments']:.1f} s, files {files['files']:.1f} s) after migrate "
            f"{migrated:.1f} s",
            flush=True,
        )
        frozen = vacuum()
        sizes_alone = table_sizes()
        connections.close_all()
        copy = create_database(admin, alone_name, template=name)
        print(
            f"alone: VACUUM (FREEZE, ANALYZE) {frozen:.1f} s, database "
            f"{mb(sizes_alone['database'][1])}, kept as {alone_name} (copied in {copy:.1f} s)",
            flush=True,
        )
        child_files = {k: files[k] for k in ("registry_path", "tax_path", "bank_path")}

        # The other counties, each loaded and put through its own month as it comes.
        for number, (code, county_name, prefecture) in enumerate(others, start=2):
            regions = county_regions(code, county_name, prefecture)
            figures, _plan = build_county(code, regions, n, args.seed + number, workdir)
            del _plan
            own = county_operations(code, figures)
            steps = own["steps"]
            print(
                f"county {number} {code} {county_name}: {figures['residents']:,} residents, "
                f"{figures['paid']:,} paid in July, statements {figures['tax_rows']:,} / "
                f"{figures['bank_rows']:,}, loaded in {figures['seconds']:.1f} s; its own work "
                f"with {number} counties on file: "
                + ", ".join(f"{key} {steps[key]['seconds']:.2f} s" for key, _l in STEPS),
                flush=True,
            )
            for key in ("registry_path", "tax_path", "bank_path"):
                Path(figures[key]).unlink(missing_ok=True)

        frozen = vacuum()
        sizes_together = table_sizes()
        connections.close_all()
        print(
            f"all {args.counties} counties: VACUUM (FREEZE, ANALYZE) {frozen:.1f} s, database "
            f"{mb(sizes_together['database'][1])}",
            flush=True,
        )
        alone, together = timed_rounds(
            admin,
            [(f"{FIRST} alone", alone_name), (f"{FIRST} with {args.counties} counties", name)],
            run_name, run_url, child_files, args.repeat,
        )  # fmt: skip

        ok = report_rounds(alone, together, expected, args.counties, n, first_name)
        report_sizes(sizes_alone, sizes_together)

        if args.partitioned_copy:
            print(machine_line("machine now"), flush=True)
            measure_partitioning(
                codes=[FIRST] + [code for code, _n, _p in others],
                partitions=args.partitions,
                lookups=args.lookups,
                explain=args.explain,
                keep=args.keep,
            )
    finally:
        connections.close_all()
        if args.keep:
            print(f"kept: databases {name} and {alone_name}, files in {workdir}")
        else:
            drop_database(admin, run_name)
            drop_database(admin, alone_name)
            drop_database(admin, name)
            for path in workdir.iterdir():
                path.unlink()
            workdir.rmdir()
        admin.close()
    print(
        "the first county found the same in both rounds, as planted"
        if ok
        else "MISMATCH: a round found something else than planted, or the rounds differ"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
