"""Load test of the tax bureau's sync API: batches of 1,000 records from concurrent clients.

    python bench/api_load.py                          # 4 clients, 40 batches of 1,000 each
    python bench/api_load.py --clients 8 --batches 20 # another mix

PostgreSQL only. The script creates its own database (``pension_bench_api`` unless --database
says otherwise) on the server of DATABASE_URL, migrates it and loads one county (沧源 530927,
whose 2023 schedule ships): the demo villages and groups and --residents residents on file,
nobody paid yet. It issues an API key through the service the command uses, starts gunicorn
(--workers processes) against that database, and then:

- each client posts its own batches of --batch records (`POST /api/v1/payments/batch`), one
  after the other, the clients at the same time; every record is a 2023 personal payment of a
  different resident, so every one is posted: a payment, its tax record, its audit row and,
  for eligible residents, the enrolment;
- the first batch of each client is a warm-up and is not timed;
- records/s is the timed records divided by the wall time from the first timed request to the
  last answer; each batch's latency is printed as median and 95th percentile;
- finally every batch of one client is sent again: each record must answer `duplicate` and no
  payment may be added.

The JSON bodies are encoded before the clock starts; the clients share the two cores with
gunicorn and PostgreSQL, as a tax bureau's sync job on the same machine would.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402  (bench/common.py, beside this script)
    BENCH_SECRET_KEY,
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
TARGET_RECORDS_PER_SECOND = 5000
CHANNELS = ["wechat", "alipay", "bank_app", "bank_counter", "tax_hall"]
RESIDENT_FIELDS = [
    "id_number", "name", "sex", "birth_date", "village_id", "group_id", "household_no",
    "status", "status_date",
]  # fmt: skip


def load_county(residents: int, seed: int) -> list[tuple[str, str]]:
    """Regions and residents (a quarter eligible, not yet enrolled); their (ID, name)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from collection.demo import GIVEN, SURNAMES, demo_regions
    from enrollment.models import Resident
    from pension.bulk import bulk_insert
    from pension.idnumber import check_digit
    from pension.models import Region

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    regions = [row for row in demo_regions() if row[0].startswith(COUNTY)]
    groups: dict[str, list[str]] = {}
    for code, _name, level, parent in regions:
        if level == Region.Level.GROUP:
            groups.setdefault(parent, []).append(code)
    villages = sorted(groups)
    rows = []
    base = datetime.date(1964, 1, 1)  # aged 16 to 59 in 2023
    for i in range(residents):
        born = base + datetime.timedelta(days=i % 16_000)
        first17 = f"{COUNTY}{born:%Y%m%d}{i // 16_000:03d}"
        village = rng.choice(villages)
        rows.append(
            (
                first17 + check_digit(first17),
                rng.choice(SURNAMES[COUNTY]) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "M" if (i // 16_000) % 2 else "F",
                born,
                village,
                rng.choice(groups[village]),
                f"{village[-6:]}{i % 997:04d}",
                "eligible" if i % 4 == 0 else "enrolled",
                datetime.date(2023, 1, 1),
            )
        )
    with transaction.atomic():
        Region.objects.bulk_create(
            [Region(code=c, name=n, level=lvl, parent_id=p) for c, n, lvl, p in regions],
            batch_size=5000,
            ignore_conflicts=True,
        )
        bulk_insert(Resident, RESIDENT_FIELDS, rows)
    # A county's registry has planner statistics (autovacuum keeps them); a table loaded a
    # moment ago has none, and the planner would take 200,000 residents for a few thousand.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return [(row[0], row[1]) for row in rows]


def issue_key() -> str:
    from pension.models import Region
    from reconciliation.services.keys import api_key_create

    return api_key_create(county=Region.objects.get(code=COUNTY), name="压力测试").secret


def bodies(people: list[tuple[str, str]], *, clients: int, batches: int, size: int) -> list:
    """Per client, its batches as encoded JSON bodies; every record a different resident."""
    per_client = []
    index = 0
    for client in range(clients):
        mine = []
        for batch in range(batches):
            records = []
            for _ in range(size):
                id_number, name = people[index]
                records.append(
                    {
                        "voucher_no": f"3{client:02d}{batch:04d}{index:09d}",
                        "id_number": id_number,
                        "name": name,
                        "contribution_year": YEAR,
                        "tier": "300.00",
                        "amount": "300.00",
                        "kind": "normal",
                        "paid_on": f"2023-{1 + index % 9:02d}-{1 + index % 28:02d}",
                        "channel": CHANNELS[index % len(CHANNELS)],
                        "tax_office": "15309270000",
                    }
                )
                index += 1
            mine.append(json.dumps({"records": records}).encode())
        per_client.append(mine)
    return per_client


class Client(threading.Thread):
    """One sync client: its batches in turn over one kept-alive connection."""

    def __init__(self, port: int, key: str, batches: list[bytes], start: threading.Barrier):
        super().__init__(daemon=True)
        self.port, self.key, self.batches, self.start_together = port, key, batches, start
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.error = ""
        self.first_sent = self.last_answered = 0.0

    def post(self, connection: http.client.HTTPConnection, body: bytes) -> dict:
        connection.request(
            "POST",
            "/api/v1/payments/batch",
            body=body,
            headers={
                "Authorization": f"Bearer {self.key}",
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        return json.loads(payload)

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            self.count(self.post(connection, self.batches[0]))  # warm-up, not timed
            self.start_together.wait()
            self.first_sent = time.perf_counter()
            for body in self.batches[1:]:
                started = time.perf_counter()
                self.count(self.post(connection, body))
                self.latencies.append(since(started))
            self.last_answered = time.perf_counter()
        except (OSError, RuntimeError, ValueError, KeyError) as exc:  # reported by the main thread
            self.error = str(exc)
            self.start_together.abort()
        finally:
            connection.close()

    def count(self, answer: dict) -> None:
        for result in answer["results"]:
            self.statuses[result["status"]] = self.statuses.get(result["status"], 0) + 1


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    env.pop("CELERY_BROKER_URL", None)  # nothing here enqueues; keep the run self-contained
    command = [str(Path(sys.executable).with_name("gunicorn")), "pension.wsgi"]
    command += ["--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "--timeout", "120"]
    server = subprocess.Popen(  # noqa: S603
        command,
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/schema/")
            connection.getresponse().read()
            connection.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=40, help="per client, the first untimed")
    parser.add_argument("--batch", type=int, default=1000, help="records per request")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--database", default="pension_bench_api")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    needed = args.clients * args.batches * args.batch
    if needed > args.residents:
        sys.exit(f"--residents must be at least clients × batches × batch = {needed}")

    check_database_name(args.database)
    server = server_url()
    admin = admin_connection(server)
    url = database_url(server, args.database)
    drop_database(admin, args.database)
    create_database(admin, args.database)
    print(f"machine: 10 million Python additions in {reference_loop():.2f} s")
    print(f"database: {server_summary(admin)}")
    try:
        django_setup(url)
        started = time.perf_counter()
        people = load_county(args.residents, args.seed)
        key = issue_key()
        print(f"county: {len(people):,} residents loaded in {since(started):.1f} s")
        payloads = bodies(people, clients=args.clients, batches=args.batches, size=args.batch)
        from django.db import connections

        connections.close_all()
        gunicorn = start_gunicorn(url, args.port, args.workers)
        try:
            measure(args, key, payloads)
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, args.database)
        admin.close()


def measure(args, key: str, payloads: list[list[bytes]]) -> None:
    from collection.models import Payment

    together = threading.Barrier(args.clients)
    clients = [Client(args.port, key, mine, together) for mine in payloads]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    errors = [c.error for c in clients if c.error]
    if errors:
        sys.exit(f"a client failed: {errors[0]}")
    timed = sum(len(c.batches) - 1 for c in clients) * args.batch
    wall = max(c.last_answered for c in clients) - min(c.first_sent for c in clients)
    latencies = sorted(x for c in clients for x in c.latencies)
    statuses: dict[str, int] = {}
    for client in clients:
        for status, n in client.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    rate = timed / wall
    print(
        f"ingestion: {timed:,} records in {wall:.2f} s from {args.clients} clients"
        f" ({args.workers} gunicorn workers): {rate:,.0f} records/s"
        f" (target ≥ {TARGET_RECORDS_PER_SECOND:,}: {'met' if rate >= 5000 else 'NOT met'})"
    )
    print(
        f"batch of {args.batch:,}: median {statistics.median(latencies) * 1000:.0f} ms,"
        f" 95th percentile {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms"
    )
    print(f"answers: {json.dumps(statuses, sort_keys=True)}")
    payments = Payment.objects.count()

    replay = Client(args.port, key, [payloads[0][0], *payloads[0]], threading.Barrier(1))
    replay.start()
    replay.join()
    if replay.error:
        sys.exit(f"the replay failed: {replay.error}")
    replay.statuses = {
        k: v - (args.batch if k == "duplicate" else 0) for k, v in replay.statuses.items()
    }
    added = Payment.objects.count() - payments
    print(
        f"replay of {len(payloads[0]):,} batches: median"
        f" {statistics.median(replay.latencies) * 1000:.0f} ms a batch, answers"
        f" {json.dumps(replay.statuses, sort_keys=True)}, payments added {added}"
    )
    if statuses.get("created", 0) != sum(len(m) for m in payloads) * args.batch or added:
        sys.exit("FAILED: not every record was created once")


if __name__ == "__main__":
    main()
