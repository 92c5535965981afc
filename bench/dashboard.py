"""Benchmark of the dashboard of a county of a million residents and a million payments.

    python bench/dashboard.py                        # 1,000,000 residents
    python bench/dashboard.py --residents 200000     # a quicker run

PostgreSQL only. The script creates its own database (``pension_bench_dashboard`` unless
--database says otherwise) and loads the county of bench/collection.py (沧源 530927: N residents,
about N payments, 100,000 listed as 低保对象, targets for half of the townships), then what the
other tiles read: the progress table on every Friday of the year up to 30 June, --findings open
findings, a reconciled month with 10,000 open differences, agents over their 双限 limits and
notices overdue.

Timed: the dashboard page of the county and of one township through Django's test client
(server time: the view, every tile's queries and the template, no network), the median of
--runs requests after one warm-up, with the number of queries a request makes; then each
tile's own time on the county, to see which one costs what. Target: under 200 ms. Then the
county's weekly bulletin: its figures composed, its page and its workbook. Then the
four lists (residents, payments, findings, differences) and their staff API for the county and
the township: the first page, a page sorted by a column and a search by ID number, each with
its query count; and the export of all the county's residents (skip it with --no-export).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import statistics
import sys
import time
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
    reference_loop,
    server_summary,
    server_url,
    since,
)

COUNTY = "530927"
YEAR = 2023
DAY = datetime.date(2023, 6, 30)
TARGET_MS = 200.0


def _county_loader():
    """bench/collection.py, whose county this benchmark shares (loaded by path: its module
    name is the app's)."""
    spec = importlib.util.spec_from_file_location(
        "bench_collection", Path(__file__).with_name("collection.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_the_rest(*, findings: int) -> dict[str, int]:
    """Progress snapshots, findings, a reconciled month, breaches and notices (SQL)."""
    from django.db import connection, transaction

    from collection.services.progress import progress_rebuild
    from pension.models import Region, User

    county = Region.objects.get(code=COUNTY)
    progress_rebuild(county=county, year=YEAR, day=DAY)
    fridays = [DAY - datetime.timedelta(days=7 * n) for n in range(1, 26)]
    with transaction.atomic(), connection.cursor() as cursor:
        # Earlier snapshots: the same villages, fewer paid the further back.
        cursor.execute(
            """
            INSERT INTO collection_villageprogress
                (village_id, year, day, expected, paid, proxy_paid, amount, proxy_qualifying,
                 proxy_qualifying_paid, benefits_due, cash_paid, cash_amount)
            SELECT p.village_id, p.year, d.day, p.expected,
                   p.paid * (180 - (DATE %s - d.day)) / 180, 0, 0, p.proxy_qualifying, 0,
                   p.benefits_due, 0, 0
            FROM collection_villageprogress p CROSS JOIN UNNEST(%s::date[]) AS d(day)
            WHERE p.day = %s
            """,
            [DAY, fridays, DAY],
        )
        cursor.execute(
            """
            INSERT INTO enrollment_finding
                (kind, status, id_number, name, region_id, detail, source, resolution_note,
                 created_at)
            SELECT (ARRAY['not_enrolled', 'interrupted', 'deceased', 'moved_out',
                          'id_name_mismatch'])[1 + r.id %% 5], 'open', r.id_number, r.name,
                   r.village_id, '', 'bench', '', now()
            FROM enrollment_resident r ORDER BY r.id LIMIT %s
            """,
            [findings],
        )
        run_by = User.objects.create_user(username="bench_county", role="county", region=county)
        cursor.execute(
            """
            INSERT INTO reconciliation_reconciliationrun
                (county_id, month, status, is_current, run_by_id, started_at, finished_at,
                 summary)
            VALUES (%s, '2023-06-01', 'done', true, %s, now(), now(), '{}') RETURNING id
            """,
            [COUNTY, run_by.pk],
        )
        run = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO reconciliation_discrepancy
                (record_key, county_id, region_code, month, category, detail, voucher_no,
                 id_number, name, status, found_at, resolution, resolution_note,
                 first_run_id, last_run_id)
            SELECT 'tax:B' || r.id, %s, r.village_id, '2023-06-01',
                   (ARRAY['tax_not_posted', 'posted_no_tax', 'bank_no_tax', 'tax_no_bank',
                          'amount_differs', 'not_a_tier', 'duplicate', 'id_mismatch'])
                       [1 + r.id %% 8], '', 'B' || r.id, r.id_number, r.name, 'open', now(),
                   '', '', %s, %s
            FROM enrollment_resident r ORDER BY r.id DESC LIMIT 10000
            """,
            [COUNTY, run, run],
        )
        # One agent per village, every tenth one over a limit on the day of the check.
        villages = list(
            Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE)
            .order_by("code")
            .values_list("code", flat=True)
        )
        for n, code in enumerate(villages):
            agent = User.objects.create_user(username=f"bench_agent_{n}", role="agent")
            agent.villages.add(code)
            if n % 10 == 0:
                cursor.execute(
                    """INSERT INTO collection_cashlimitbreach
                           (agent_id, day, kind, oldest_collected_on, unremitted)
                       VALUES (%s, %s, 'days', %s, 900)""",
                    [agent.pk, DAY, DAY - datetime.timedelta(days=12)],
                )
        cursor.execute(
            """
            INSERT INTO collection_notice (group_id, kind, period, due_on, rows)
            SELECT g.code, 'monthly', '2023-05', '2023-06-10', 0
            FROM pension_region g WHERE g.level = 'group' AND g.code LIKE %s
            """,
            [f"{COUNTY}%"],
        )
        notices = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {"snapshots": len(fridays) + 1, "villages": len(villages), "notices": notices}


def timed_get(client, url: str, runs: int) -> dict[str, float]:
    """`url` requested `runs` times after a warm-up (templates, caches, the session): the
    median and worst server time in ms, and the queries of one more request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(since(started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return {"median": statistics.median(times), "worst": max(times), "queries": len(captured)}


def measure(region, user, runs: int) -> dict[str, float]:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    return timed_get(client, reverse("dashboard", args=[region.code]) + f"?year={YEAR}", runs)


def tile_times(region, runs: int) -> list[tuple[str, float]]:
    from pension.dashboard import DashboardRequest, dashboard_tiles

    figures = []
    for tile in dashboard_tiles():
        tile.context(DashboardRequest(region=region, year=YEAR, day=DAY))
        times = []
        for _ in range(runs):
            request = DashboardRequest(region=region, year=YEAR, day=DAY)  # nothing shared
            started = time.perf_counter()
            tile.context(request)
            times.append(since(started) * 1000)
        figures.append((tile.key, statistics.median(times)))
    return figures


def bulletin_figures_line(county, user, runs: int) -> list[str]:
    """The county's weekly bulletin as of the benchmark's day: its figures composed (what the
    Monday task reads), then the kept bulletin's page and workbook, each with its queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from collection.services.bulletins import bulletin_compose, bulletin_publish

    bulletin_compose(county=county, year=YEAR, day=DAY)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            content = bulletin_compose(county=county, year=YEAR, day=DAY)
            times.append(since(started) * 1000)
    queries = len(captured)  # before a request clears the connection's query log
    bulletin, _created = bulletin_publish(county=county, day=DAY, actor=None)
    client = Client()
    client.force_login(user)
    page = timed_get(client, reverse("collection:bulletin_detail", args=[bulletin.pk]), runs)
    sheet = timed_get(client, reverse("collection:bulletin_download", args=[bulletin.pk]), runs)
    return [
        f"  weekly bulletin of the county ({len(content['townships'])} townships, "
        f"{len(content['villages'])} villages): figures composed in {statistics.median(times):.0f}"
        f" ms/{queries} q, page {page['median']:.0f} ms/{page['queries']} q, workbook "
        f"{sheet['median']:.0f} ms/{sheet['queries']} q (median of {runs})"
    ]


# The four lists and their staff API, as a user opens them: the first page by default, sorted
# by a column, and searched by the first 13 digits of an ID number (region and birth month).
SEARCH = "q=5309271985010"
LISTS = [
    ("residents", "enrollment:resident_list", "api_staff_residents", "sort=name", SEARCH),
    ("payments", "collection:payment_list", "api_staff_payments", "sort=-amount", SEARCH),
    ("findings", "enrollment:finding_list", "api_staff_findings", "sort=name", SEARCH),
    (
        "discrepancies", "reconciliation:discrepancy_list", "api_staff_discrepancies",
        "sort=-tax", SEARCH,
    ),
]  # fmt: skip


def list_figures(user, runs: int) -> list[str]:
    """Each list page and its API answer for `user`: median server time and query count."""
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    lines = []
    for name, page, api, sort, search in LISTS:
        for kind, url in (("page", reverse(page)), ("API", reverse(api))):
            cells = []
            for query in ("", sort, search):
                figures = timed_get(client, f"{url}?{query}", runs)
                label = query.split("=")[0] if query else "default"
                cells.append(f"{label} {figures['median']:.0f} ms/{figures['queries']} q")
            lines.append(f"    {name + ' ' + kind:<20} " + ", ".join(cells))
    return lines


def export_figures(user) -> str:
    """The county's whole resident list written by the export task, as the list page's
    export button has it done."""
    import tempfile

    from django.conf import settings

    from pension.exports import export_job_run
    from pension.models import ExportJob

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-dashboard-")
    job = ExportJob.objects.create(kind="residents", title="参保人名单", created_by=user)
    started = time.perf_counter()
    job = export_job_run(job_id=job.pk)
    seconds = since(started)
    size = job.file.size
    job.file.delete(save=False)
    return (
        f"export task: the county's {job.rows:,} residents as xlsx ({size / 1e6:.1f} MB) in "
        f"{seconds:.1f} s ({job.rows / seconds:,.0f} rows/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=21, help="timed requests per page")
    parser.add_argument("--database", default="pension_bench_dashboard")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--no-export", action="store_true", help="skip the export of them all")
    args = parser.parse_args()

    name = args.database
    check_database_name(name)
    server = server_url()
    admin = admin_connection(server)
    print(
        f"dashboard benchmark: {args.residents:,} residents of {COUNTY}, year {YEAR}, "
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
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    county_bench = _county_loader()
    proxy = min(100_000, args.residents // 10)
    rows, listed, township_code = county_bench.build_residents(
        n=args.residents, proxy=proxy, township_residents=min(50_000, args.residents // 20),
        seed=args.seed,
    )  # fmt: skip
    loaded = county_bench.load_county(rows=rows, listed=listed, residents=args.residents)
    del rows
    rest = load_the_rest(findings=args.findings)
    print(
        f"setup: {args.residents:,} residents, {loaded['payments']:,} payments, "
        f"{len(listed):,} listed as 低保对象, {args.findings:,} open findings, 10,000 open "
        f"differences, {rest['snapshots']} progress days of {rest['villages']} villages, "
        f"{rest['notices']:,} notices overdue, in {since(started):.1f} s",
        flush=True,
    )
    from pension.models import Region, User

    county = Region.objects.get(code=COUNTY)
    township = Region.objects.get(code=township_code)
    ok = True
    try:
        with _frozen_day():
            staff = User.objects.get(username="bench_county")
            clerk = User.objects.create_user(
                username="bench_township", role="township", region=township
            )
            for label, region, user in (
                ("county", county, staff), (f"township {township.name}", township, clerk),
            ):  # fmt: skip
                figures = measure(region, user, args.runs)
                met = figures["median"] < TARGET_MS
                ok = ok and met
                print(
                    f"dashboard of the {label}: median {figures['median']:.0f} ms, worst "
                    f"{figures['worst']:.0f} ms over {args.runs} requests, "
                    f"{figures['queries']} queries (target < {TARGET_MS:.0f} ms: "
                    f"{'met' if met else 'MISSED'})"
                )
            print("  the county's tiles, each on its own (median):")
            for key, ms in tile_times(county, max(5, args.runs // 3)):
                print(f"    {key:<15} {ms:7.1f} ms")
            for line in bulletin_figures_line(county, staff, max(5, args.runs // 3)):
                print(line)
            list_runs = max(3, args.runs // 3)
            for label, user in (("county", staff), (f"township {township.name}", clerk)):
                print(f"  lists of the {label} (median of {list_runs}, queries each):")
                for line in list_figures(user, list_runs):
                    print(line)
            if not args.no_export:
                print(export_figures(staff))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, name)
        else:
            print(f"kept: database {name}")
        admin.close()
    print("target met" if ok else "target MISSED")
    sys.exit(0 if ok else 1)


def _frozen_day():
    """The pages look at 30 June 2023, the day the county's data describes."""
    import time_machine

    return time_machine.travel(datetime.datetime(2023, 6, 30, 18, 0), tick=True)


if __name__ == "__main__":
    main()
