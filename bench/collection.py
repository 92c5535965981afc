"""Benchmark of the campaign's bulk work for a county of a million residents.

    python bench/collection.py                        # 1,000,000 residents and payments
    python bench/collection.py --residents 200000     # a quicker run

PostgreSQL only. The script creates its own database (``pension_bench_collection`` unless
--database says otherwise) on the server of DATABASE_URL, migrates it and loads one county
(沧源 530927, Yunnan, whose 2023 schedule ships with four milestones): the demo villages and
groups, N residents on file, targets for half of the townships, and about N payments (this
year's personal payments, last year's, and the duplicates, reversals and back payments that
progress must not count). --proxy residents are listed as 低保对象 in 2023 without a proxy
payment yet, and one township holds --township-residents residents for the notices.

Timed, in this order, on the loaded county:
- progress: rebuilding the per-village progress table for a day, twice (the second run rewrites
  the same rows); the live join and GROUP BY over every payment it replaces; then reading the
  county's ranked townships and one township's villages from the table;
- the proxy batch (动态清零): generate, approve by a second county user, post;
- the public notices of every villager group of the township: last month's payments and the
  year's paid and unpaid lists, as xlsx files through `generate_notices`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from io import StringIO
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
    print_slow_statements,
    reference_loop,
    server_summary,
    server_url,
    since,
    statement_times,
)

COUNTY = "530927"
YEAR = 2023
DAY = datetime.date(2023, 6, 30)  # Yunnan 2023: 60% by 30 June
NOTICE_MONTH = "2023-05"
TARGETS = {"progress read": 0.020, "progress rebuild": 2.0, "proxy batch": 5.0, "notices": 15.0}

RESIDENT_FIELDS = [
    "id_number", "name", "sex", "birth_date", "village_id", "group_id", "household_no",
    "status", "status_date",
]  # fmt: skip
SEALED_SHARE = 0.03
UNPAID_SHARE = 0.12  # of the enrolled, without a payment for the year on the progress day


# --- The county ------------------------------------------------------------------------------


def build_residents(
    *, n: int, proxy: int, township_residents: int, seed: int
) -> tuple[list[tuple], list[str], str]:
    """Resident rows, the ID numbers of those to list as 低保对象, and the notices' township."""
    from collection.demo import GIVEN, SURNAMES, demo_regions
    from pension.idnumber import check_digit
    from pension.models import Region

    rng = random.Random(seed)
    regions = [row for row in demo_regions() if row[0].startswith(COUNTY)]
    groups: dict[str, list[str]] = {}
    for code, _name, level, parent in regions:
        if level == Region.Level.GROUP:
            groups.setdefault(parent, []).append(code)
    villages = sorted(groups)
    townships = sorted({v[:9] for v in villages})
    notice_township = townships[0]
    inside = [v for v in villages if v.startswith(notice_township)]
    outside = [v for v in villages if not v.startswith(notice_township)]
    surnames = SURNAMES[COUNTY]

    rows, listed = [], []
    base = datetime.date(1964, 1, 1)  # aged 16 to 59 in 2023
    span = 16_000  # days of birth dates, each with up to 1,000 order numbers
    for i in range(n):
        born = base + datetime.timedelta(days=i % span)
        order = i // span
        first17 = f"{COUNTY}{born:%Y%m%d}{order:03d}"
        village = rng.choice(inside if i < township_residents else outside)
        if i < township_residents or proxy <= 0:
            qualifies = False
        else:
            qualifies = (i - township_residents) % max(1, (n - township_residents) // proxy) == 0
            qualifies = qualifies and len(listed) < proxy
        if qualifies:
            listed.append(first17 + check_digit(first17))
            status = "enrolled" if len(listed) % 2 else "eligible"
        else:
            status = "sealed" if rng.random() < SEALED_SHARE else "enrolled"
        rows.append(
            (
                first17 + check_digit(first17),
                rng.choice(surnames) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "M" if order % 2 else "F",
                born,
                village,
                rng.choice(groups[village]),
                f"{village[-6:]}{i % 997:04d}",
                status,
                datetime.date(2023, 1, 1),
            )
        )
    return rows, listed, notice_township


PAYMENTS_SQL = """
INSERT INTO collection_payment
    (resident_id, county_code, contribution_year, amount, subsidy, kind, channel, source,
     voucher_no, paid_at, recorded_at, note)
SELECT r.id, left(r.village_id, 6), %(year)s, t.amount, t.subsidy, 'personal', 'wechat', 'tax_sync',
       %(prefix)s || r.id, %(start)s::timestamptz + (r.id %% %(days)s) * interval '1 day'
           + (r.id %% 600) * interval '1 minute', now(), ''
FROM enrollment_resident r
JOIN collection_tier t ON t.schedule_id = %(schedule)s AND NOT t.government_only
     AND t.amount = %(amount)s
WHERE r.status = 'enrolled' AND NOT EXISTS (
    SELECT 1 FROM enrollment_specialgroupmembership m WHERE m.resident_id = r.id)
  AND (r.id * 7919) %% 1000 >= %(skip)s
"""


def load_county(*, rows: list[tuple], listed: list[str], residents: int) -> dict[str, int]:
    """Regions, residents, listings, targets and payments; returns what was loaded."""
    from django.db import connection, transaction

    from collection.demo import demo_regions
    from collection.models import ContributionSchedule, Payment, Target
    from enrollment.models import Resident, SpecialGroupMembership
    from pension import staging
    from pension.bulk import bulk_insert
    from pension.models import Region

    schedule = ContributionSchedule.objects.get(province_id="53", year=YEAR)
    dibao = SpecialGroupMembership.Category.DIBAO
    with transaction.atomic(), connection.cursor() as cursor:
        Region.objects.bulk_create(
            [
                Region(code=c, name=n, level=lvl, parent_id=p)
                for c, n, lvl, p in demo_regions()
                if c.startswith(COUNTY)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        bulk_insert(Resident, RESIDENT_FIELDS, rows)
        with staging.staging_table(
            "bench_listed", [("id_number", "varchar(18)")], listed_rows(listed)
        ):
            cursor.execute(
                "INSERT INTO enrollment_specialgroupmembership"
                " (resident_id, category, department, list_date, valid_from, created_at)"
                " SELECT r.id, %s, %s, '2023-03-15', '2023-03-15', now()"
                " FROM enrollment_resident r JOIN bench_listed l USING (id_number)",
                [dibao, SpecialGroupMembership.DEPARTMENT_OF[dibao]],
            )
        # This year's personal payments (300 yuan), one enrolled resident in eight still unpaid.
        cursor.execute(
            PAYMENTS_SQL,
            {"year": YEAR, "prefix": "S23-", "start": "2023-01-05", "days": 170,
             "schedule": schedule.pk, "amount": 300, "skip": int(UNPAID_SHARE * 1000)},
        )  # fmt: skip
        this_year = cursor.rowcount
        # Last year's, to bring the table to about one payment per resident.
        cursor.execute(
            PAYMENTS_SQL,
            {"year": YEAR - 1, "prefix": "S22-", "start": "2022-01-05", "days": 300,
             "schedule": schedule.pk, "amount": 300,
             "skip": max(0, 1000 - round(1000 * (residents - this_year) / max(1, this_year)))},
        )  # fmt: skip
        # What progress must not count: a second payment awaiting refund for one in 200.
        cursor.execute(
            """
            INSERT INTO collection_payment
                (resident_id, county_code, contribution_year, amount, subsidy, kind, channel,
                 source, voucher_no, paid_at, recorded_at, note, duplicate_of_id)
            SELECT resident_id, county_code, contribution_year, amount, subsidy, kind, 'alipay',
                   source, 'D' || voucher_no, paid_at + interval '1 day', now(), '重复缴费待退', id
            FROM collection_payment WHERE contribution_year = %s AND id %% 200 = 0
            """,
            [YEAR],
        )
        duplicates = cursor.rowcount
        # Targets for every other township (the rest count their enrolled residents).
        townships = list(
            Region.objects.filter(code__startswith=COUNTY, level=Region.Level.TOWNSHIP)
            .order_by("code")
            .values_list("code", flat=True)
        )[::2]
        for code in townships:
            enrolled = Resident.objects.filter(
                village__code__startswith=code, status=Resident.Status.ENROLLED
            ).count()
            Target.objects.create(region_id=code, year=YEAR, count=round(enrolled * 0.97))
        payments = Payment.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (FREEZE, ANALYZE)")
    return {"payments": payments, "duplicates": duplicates, "targets": len(townships)}


def listed_rows(listed: list[str]):
    return ((number,) for number in listed)


# --- Timed steps -----------------------------------------------------------------------------


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, since(started)


def median_ms(function, runs: int = 21) -> float:
    function()  # warm: the first call also loads the milestones and regions into the cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(since(started))
    return statistics.median(times) * 1000


def measure_progress(county, township) -> dict[str, object]:
    from django.db.models import Count

    from collection.models import Payment, VillageProgress
    from collection.services.progress import progress_rebuild, progress_report

    with statement_times() as statements:
        first, rebuild = timed(progress_rebuild, county=county, year=YEAR, day=DAY)
    again, rebuild_again = timed(progress_rebuild, county=county, year=YEAR, day=DAY)
    live = (
        Payment.objects.counted()
        .in_region(county.code)
        .filter(contribution_year=YEAR, kind__in=["personal", "proxy"])
        .values("resident__village_id")
        .annotate(paid=Count("resident_id", distinct=True))
        .order_by()
    )
    live_rows, live_seconds = timed(lambda: list(live))
    report = progress_report(region=county, year=YEAR, day=DAY)
    county_ms = median_ms(lambda: progress_report(region=county, year=YEAR, day=DAY))
    township_ms = median_ms(lambda: progress_report(region=township, year=YEAR, day=DAY))
    return {
        "rows": first,
        "rows_again": again,
        "table_rows": VillageProgress.objects.count(),
        "rebuild": rebuild,
        "rebuild_again": rebuild_again,
        "statements": statements,
        "live": live_seconds,
        "live_rows": len(live_rows),
        "county_ms": county_ms,
        "township_ms": township_ms,
        "total": report.total,
        "bottom": [unit for unit in report.units if unit.bottom],
        "flagged": report.flagged_count,
        "townships": len(report.units),
    }


def measure_proxy(county) -> dict[str, object]:
    from collection.services.proxy import (
        proxy_batch_approve,
        proxy_batch_generate,
        proxy_batch_post,
    )
    from pension.models import User

    maker = User.objects.create_user(username="bench_maker", role=User.Role.COUNTY, region=county)
    checker = User.objects.create_user(
        username="bench_checker", role=User.Role.COUNTY, region=county
    )
    with statement_times() as generate_statements:
        generated, generate_seconds = timed(
            proxy_batch_generate, county=county, year=YEAR, actor=maker
        )
    batch, approve_seconds = timed(proxy_batch_approve, batch=generated.batch, actor=checker)
    with statement_times() as post_statements:
        posted, post_seconds = timed(proxy_batch_post, batch=batch, actor=checker)
    again, again_seconds = timed(proxy_batch_generate, county=county, year=YEAR, actor=maker)
    return {
        "generated": generated.as_dict(),
        "generate": generate_seconds,
        "approve": approve_seconds,
        "post": post_seconds,
        "payments": posted.payments,
        "enrolled": posted.enrolled,
        "again": again.as_dict(),
        "again_seconds": again_seconds,
        "generate_statements": generate_statements,
        "post_statements": post_statements,
    }


def measure_notices(township, out: Path) -> dict[str, object]:
    from django.core.management import call_command

    from enrollment.models import Resident
    from pension.models import Region

    runs = []
    for label, options in (
        (f"{NOTICE_MONTH} payments", ["--month", NOTICE_MONTH]),
        (f"{YEAR} paid", ["--year", str(YEAR), "--kind", "paid"]),
        (f"{YEAR} unpaid", ["--year", str(YEAR), "--kind", "unpaid"]),
    ):
        folder = out / label.replace(" ", "-")
        folder.mkdir()
        printed = StringIO()
        _, seconds = timed(
            call_command,
            "generate_notices",
            *options,
            "--region",
            township.code,
            "--out",
            str(folder),
            "--json",
            stdout=printed,
        )
        result = json.loads(printed.getvalue().strip().splitlines()[-1])
        size = sum(path.stat().st_size for path in folder.iterdir())
        runs.append((label, seconds, result, size))
    return {
        "residents": Resident.objects.in_region(township.code).count(),
        "groups": Region.objects.in_region(township.code).filter(level=Region.Level.GROUP).count(),
        "runs": runs,
    }


# --- Report ----------------------------------------------------------------------------------


def verdict(name: str, seconds: float) -> str:
    limit = TARGETS[name]
    shown = f"{limit * 1000:.0f} ms" if limit < 1 else f"{limit:.0f} s"
    return f"target ≤ {shown} {'met' if seconds <= limit else 'MISSED'}"


def report_progress(p: dict[str, object]) -> bool:
    total = p["total"]
    print(
        f"progress rebuild for {DAY}: {p['rows']:,} village rows in {p['rebuild']:.2f} s "
        f"({verdict('progress rebuild', p['rebuild'])}); again (same rows rewritten): "
        f"{p['rows_again']:,} rows in {p['rebuild_again']:.2f} s; table holds "
        f"{p['table_rows']:,} rows"
    )
    print_slow_statements(p["statements"], p["rebuild"])
    print(
        f"  what it replaces: the live join and GROUP BY over every payment of the year, "
        f"{p['live'] * 1000:.0f} ms for {p['live_rows']:,} villages"
    )
    read = max(p["county_ms"], p["township_ms"]) / 1000
    print(
        f"progress read from the table (median of 21): county's {p['townships']} townships "
        f"ranked {p['county_ms']:.1f} ms, one township's villages {p['township_ms']:.1f} ms "
        f"({verdict('progress read', read)})"
    )
    print(
        f"  county on {DAY}: paid {total.paid:,} of {total.expected:,} ({total.rate}%), "
        f"milestone {total.goal_text}; {p['flagged']} townships flagged; bottom three: "
        + ", ".join(f"{u.name} {u.rate}%" for u in p["bottom"])
    )
    return (
        p["rows"] == p["rows_again"]
        and p["rebuild"] <= TARGETS["progress rebuild"]
        and read <= TARGETS["progress read"]
    )


def report_proxy(p: dict[str, object]) -> bool:
    generated, again = p["generated"], p["again"]
    total = p["generate"] + p["approve"] + p["post"]
    print(
        f"proxy batch: {generated['in_batch']:,} residents batched of {generated['qualifying']:,} "
        f"qualifying in {total:.2f} s ({verdict('proxy batch', total)}): generate "
        f"{p['generate']:.2f} s, approve {p['approve']:.2f} s, post {p['post']:.2f} s "
        f"({p['payments']:,} proxy payments, {p['enrolled']:,} residents enrolled by them)"
    )
    print("  generate:")
    print_slow_statements(p["generate_statements"], p["generate"])
    print("  post:")
    print_slow_statements(p["post_statements"], p["post"])
    print(
        f"  generated again after posting: {again['in_batch']:,} added in "
        f"{p['again_seconds']:.2f} s ({again['already_paid']:,} already paid)"
    )
    return total <= TARGETS["proxy batch"] and again["in_batch"] == 0


def report_notices(p: dict[str, object], township) -> bool:
    total = sum(seconds for _label, seconds, _result, _size in p["runs"])
    rows = sum(result["rows"] for _label, _seconds, result, _size in p["runs"])
    print(
        f"notices of {township.name} ({p['residents']:,} residents, {p['groups']} villager "
        f"groups): {rows:,} rows in {total:.1f} s ({verdict('notices', total)})"
    )
    for label, seconds, result, size in p["runs"]:
        print(
            f"  {label}: {len(result['files'])} files, {result['groups']} groups, "
            f"{result['rows']:,} rows, {size / (1 << 20):.1f} MB in {seconds:.1f} s "
            f"({result['rows'] / seconds:,.0f} rows/s)"
        )
    return total <= TARGETS["notices"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--proxy", type=int, default=100_000, help="residents to batch")
    parser.add_argument("--township-residents", type=int, default=50_000)
    parser.add_argument("--database", default="pension_bench_collection")
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    if args.proxy + args.township_residents > args.residents:
        sys.exit("--proxy and --township-residents together exceed --residents")

    name = args.database
    check_database_name(name)
    server = server_url()
    admin = admin_connection(server)
    print(
        f"collection benchmark: {args.residents:,} residents of {COUNTY}, year {YEAR}, "
        f"{server_summary(admin)} at {urlsplit(server).hostname or 'localhost'}, "
        f"database {name}",
        flush=True,
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}: 10 million "
        f"Python additions in {reference_loop():.2f} s (to compare machines: lower is faster)",
        flush=True,
    )
    started = time.perf_counter()
    create_database(admin, name)
    django_setup(database_url(server, name))
    from django.core.management import call_command

    from pension.models import Region

    call_command("migrate", verbosity=0)
    rows, listed, township_code = build_residents(
        n=args.residents, proxy=args.proxy, township_residents=args.township_residents,
        seed=args.seed,
    )  # fmt: skip
    loaded = load_county(rows=rows, listed=listed, residents=args.residents)
    del rows
    print(
        f"setup: {args.residents:,} residents, {loaded['payments']:,} payments "
        f"({loaded['duplicates']:,} of them duplicates awaiting refund), {len(listed):,} listed "
        f"as 低保对象 without a proxy payment, targets for {loaded['targets']} townships, "
        f"in {since(started):.1f} s",
        flush=True,
    )
    county = Region.objects.get(code=COUNTY)
    township = Region.objects.get(code=township_code)
    workdir = Path(tempfile.mkdtemp(prefix="bench-collection-"))
    ok = True
    try:
        ok = report_progress(measure_progress(county, township)) and ok
        ok = report_proxy(measure_proxy(county)) and ok
        ok = report_notices(measure_notices(township, workdir), township) and ok
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept: database {name}, files in {workdir}")
        else:
            drop_database(admin, name)
            for path in sorted(workdir.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            workdir.rmdir()
        admin.close()
    print("every target met" if ok else "a target was MISSED or a second run changed something")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
