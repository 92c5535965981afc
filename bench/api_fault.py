"""The tax bureau's sync API under load while PostgreSQL restarts: nothing lost, nothing twice.

    python bench/api_fault.py                           # 4 clients × 40 batches of 1,000
    python bench/api_fault.py --residents 20000 --batches 5 --batch 500   # a quick check

The script never touches the machine's PostgreSQL server: it creates a throwaway cluster of its
own (`initdb` into a temporary directory, as the `postgres` user when run as root), starts it on
--pg-port, creates ``pension_bench_fault`` in it, migrates it and loads the county of
bench/api_load.py (沧源 530927, --residents residents, nobody paid yet), issues an API key and
starts gunicorn against it. Then --clients threads post their batches of --batch records to
`POST /api/v1/payments/batch`, as bench/api_load.py does, and once --restart-at of all batches
are acknowledged the cluster is restarted (`pg_ctl restart -m fast`) under the load.

A client treats a connection error and any 5xx answer as retryable: it sends the same batch
(the same bytes, the same vouchers) again after a backoff (0.2 s doubling to 5 s, with jitter),
up to --max-retries times. A 4xx answer stops it. The API is idempotent by voucher: a batch
whose transaction committed before its answer was lost answers `duplicate` when retried.

At the end, with gunicorn stopped, the database is checked: every acknowledged voucher is stored
exactly once (as a synced record and as a payment), no voucher is stored that was never sent,
and the count of stored records equals the distinct vouchers sent. The cluster is stopped and
its directory deleted (--keep leaves both, stopped).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api_load import bodies, issue_key, load_county  # noqa: E402  (bench/api_load.py)
from common import (  # noqa: E402  (bench/common.py, beside this script)
    admin_connection,
    check_database_name,
    create_database,
    database_url,
    django_setup,
    gunicorn_start,
    gunicorn_stop,
    percentile,
    reference_loop,
    server_log_errors,
    server_summary,
    since,
)

BACKOFF_FIRST, BACKOFF_LAST = 0.2, 5.0
REQUEST_TIMEOUT = 120


# --- The throwaway cluster -----------------------------------------------------------------


def postgres_bindir(explicit: str | None) -> Path:
    """Where initdb and pg_ctl are: --pg-bin, else pg_ctl's own directory on PATH (resolved
    through links), else the newest /usr/lib/postgresql/<version>/bin."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(os.path.realpath(found)).parent)
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates += sorted(versions, key=lambda p: int(p.parent.name), reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    sys.exit("no initdb and pg_ctl found: give their directory with --pg-bin")


class Cluster:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:`port` only,
    with trust authentication for the `postgres` role. Root may not run initdb or postgres,
    so as root every command runs as the `postgres` user (runuser), which owns the directory."""

    def __init__(self, bindir: Path, port: int):
        self.bindir, self.port = bindir, port
        self.base = Path(tempfile.mkdtemp(prefix="pension-bench-fault-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                sys.exit("running as root and there is no postgres user to run the cluster as")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            runuser = shutil.which("runuser")
            self.prefix = [runuser, "-u", "postgres", "--"] if runuser else []
            if not self.prefix:
                sys.exit("running as root without runuser: run the script as another user")
        self.started = False

    def command(self, program: str, *arguments: str, check: bool = True):
        command = [*self.prefix, str(self.bindir / program), *arguments]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if check and result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            sys.stderr.write(self.log_tail())
            raise RuntimeError(f"{program} {' '.join(arguments[:1])} failed")
        return result

    def pg_ctl(self, action: str, *extra: str, check: bool = True):
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        return self.command(
            "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "120", *extra, check=check,
        )  # fmt: skip

    def version(self) -> str:
        return self.command("pg_ctl", "--version").stdout.strip()

    def init(self) -> None:
        self.command(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")
        self.started = True

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if self.started:
            if self.pg_ctl("stop", "-m", "fast", check=False).returncode != 0:
                self.pg_ctl("stop", "-m", "immediate", check=False)
            self.started = False

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        except OSError:
            return ""

    @property
    def server(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


# --- The clients ---------------------------------------------------------------------------


class Timeline:
    """What happened when, from every thread: (time.time(), client, what)."""

    def __init__(self) -> None:
        self.errors: list[tuple[float, int, str]] = []
        self.acks: list[tuple[float, int, int]] = []  # (time, client, records)
        self.lock = threading.Lock()

    def error(self, client: int, what: str) -> None:
        with self.lock:
            self.errors.append((time.time(), client, what))

    def ack(self, client: int, records: int) -> None:
        with self.lock:
            self.acks.append((time.time(), client, records))


class RetryingClient(threading.Thread):
    """One sync client: its batches in turn over a kept-alive session, each one sent again
    after a connection error or a 5xx answer until it is acknowledged."""

    def __init__(self, n: int, args, key: str, batches: list[bytes], timeline: Timeline):
        super().__init__(daemon=True)
        self.n, self.key, self.batches, self.timeline = n, key, batches, timeline
        self.url = f"http://127.0.0.1:{args.port}/api/v1/payments/batch"
        self.max_retries = args.max_retries
        self.rng = random.Random(args.seed * 100 + n)
        self.acknowledged: list[int] = []  # batch indexes answered 200
        self.answers: dict[int, dict[str, int]] = {}  # per batch: status -> records
        self.attempts: dict[int, int] = {}
        self.latencies: list[float] = []
        self.sent: set[int] = set()
        self.failure = ""

    def run(self) -> None:
        import requests

        session = requests.Session()
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        try:
            for index, body in enumerate(self.batches):
                if not self.deliver(session, index, body, headers):
                    return
        except Exception as exc:  # noqa: BLE001  (reported by the main thread)
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()

    def deliver(self, session, index: int, body: bytes, headers: dict) -> bool:
        import requests

        for attempt in range(self.max_retries + 1):
            self.attempts[index] = attempt + 1
            self.sent.add(index)
            started = time.perf_counter()
            try:
                response = session.post(
                    self.url, data=body, headers=headers, timeout=REQUEST_TIMEOUT
                )
            except requests.RequestException as exc:
                self.timeline.error(self.n, _connection_error(exc))
            else:
                if response.status_code == 200:
                    self.latencies.append(since(started))
                    counts: dict[str, int] = {}
                    for result in response.json()["results"]:
                        counts[result["status"]] = counts.get(result["status"], 0) + 1
                    self.answers[index] = counts
                    self.acknowledged.append(index)
                    self.timeline.ack(self.n, sum(counts.values()))
                    return True
                what = f"HTTP {response.status_code} {_error_code(response)}"
                if response.status_code < 500:
                    self.failure = f"batch {index}: {what}: {response.text[:300]}"
                    return False
                self.timeline.error(self.n, what)
            pause = min(BACKOFF_LAST, BACKOFF_FIRST * 2**attempt)
            time.sleep(pause * self.rng.uniform(0.5, 1.0))
        self.failure = f"batch {index}: gave up after {self.max_retries} retries"
        return False


def _error_code(response) -> str:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return "(no JSON error body)"


def _connection_error(exc) -> str:
    """The exception's class and its innermost reason, without addresses or object ids."""
    reason = exc
    while getattr(reason, "args", None) and isinstance(reason.args[0], BaseException):
        reason = reason.args[0]
    inner = getattr(reason, "reason", None)
    if isinstance(inner, BaseException):
        reason = inner
    text = re.sub(r"<[^>]*>|0x[0-9a-f]+", "", str(reason)).strip(" :,")
    return f"{type(exc).__name__} ({type(reason).__name__}: {text[:80]})"


class Restarter(threading.Thread):
    """Restarts the cluster once `threshold` batches are acknowledged, and meanwhile probes
    the database every 50 ms to time when it refused connections."""

    def __init__(self, cluster: Cluster, database: str, timeline: Timeline, threshold: int):
        super().__init__(daemon=True)
        self.cluster, self.database = cluster, database
        self.timeline, self.threshold = timeline, threshold
        self.asked = self.returned = 0.0
        self.down = self.up = 0.0
        self.done = threading.Event()
        self.failure = ""

    def run(self) -> None:
        try:
            while len(self.timeline.acks) < self.threshold and not self.done.is_set():
                time.sleep(0.02)
            if self.done.is_set():
                return
            probe = threading.Thread(target=self.probe, daemon=True)
            self.asked = time.time()
            probe.start()
            self.cluster.restart()
            self.returned = time.time()
            probe.join(timeout=180)
        except Exception as exc:  # noqa: BLE001  (reported by the main thread)
            self.failure = f"{type(exc).__name__}: {exc}"

    def probe(self) -> None:
        import psycopg2

        while time.time() - self.asked < 180:
            if self.returned and not self.down and time.time() - self.returned > 5:
                return  # the restart went by between two probes
            tried = time.time()
            try:
                connection = psycopg2.connect(
                    host="127.0.0.1", port=self.cluster.port, user="postgres",
                    dbname=self.database, connect_timeout=2,
                )  # fmt: skip
                with connection, connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                connection.close()
                if self.down:
                    self.up = tried
                    return
            except psycopg2.Error:
                if not self.down:
                    self.down = tried
            time.sleep(0.05)


# --- The run and the checks ----------------------------------------------------------------


def logged_errors(log_path: Path) -> list[tuple[float, str]]:
    """(time, root cause) of every error the workers logged; an error met while writing the
    API's request log row (after the view's own error) is marked as such."""
    from django.conf import settings

    found = []
    for record in server_log_errors(log_path, settings.TIME_ZONE):
        where = " [writing the request log row]" if "in api_request_log" in record["text"] else ""
        found.append((record["time"], f"{record['root'] or record['message']}{where}"))
    return found


def summarise_errors(events: list[tuple[float, str]], origin: float) -> list[str]:
    """Each kind of error: how many, and from when to when (seconds after `origin`)."""
    kinds: dict[str, list[float]] = {}
    for moment, what in events:
        kinds.setdefault(what, []).append(moment - origin)
    return [
        f"{len(times):>4} × {what}  (+{min(times):.2f} s … +{max(times):.2f} s)"
        for what, times in sorted(kinds.items(), key=lambda item: min(item[1]))
    ]


def check_database(sent: set[str], acknowledged: set[str]) -> tuple[bool, list[str]]:
    from django.db import connection

    lines = []
    ok = True
    for label, sql in (
        ("synced records", "SELECT voucher_no, count(*) FROM reconciliation_syncedrecord"
                           " GROUP BY voucher_no"),
        ("payments", "SELECT voucher_no, count(*) FROM collection_payment"
                     " WHERE source = 'tax_sync' GROUP BY voucher_no"),
    ):  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(sql)
            stored = dict(cursor.fetchall())
        missing = [v for v in acknowledged if stored.get(v, 0) == 0]
        twice = [v for v, n in stored.items() if n > 1]
        unknown = [v for v in stored if v not in sent]
        total = sum(stored.values())
        good = not missing and not twice and not unknown and total == len(sent)
        ok = ok and good
        lines.append(
            f"{label}: {total:,} stored for {len(sent):,} distinct vouchers sent"
            f" ({len(acknowledged):,} acknowledged): {len(missing)} acknowledged but missing,"
            f" {len(twice)} stored more than once, {len(unknown)} never sent:"
            f" {'OK' if good else 'FAILED'}"
        )
        for what, vouchers in (("missing", missing), ("twice", twice), ("never sent", unknown)):
            if vouchers:
                lines.append(f"  {what}: {', '.join(sorted(vouchers)[:5])}")
    return ok, lines


def health_check_config(directory: Path) -> Path:
    """A gunicorn configuration that switches Django's CONN_HEALTH_CHECKS on in every worker,
    as the setting would, to compare the recovery with and without it."""
    path = directory / "gunicorn_health_checks.py"
    path.write_text(
        "def post_worker_init(worker):\n"
        "    from django.db import connections\n\n"
        '    connections.settings["default"]["CONN_HEALTH_CHECKS"] = True\n'
    )
    return path


def idle_restart(args, cluster: Cluster, key: str, log_path: Path) -> int:
    """A second restart after the load, while every worker holds an idle connection: then
    rounds of --workers concurrent reads, none retried. A worker that kept its connection
    across the restart answers 500 on its next request unless Django checks the connection
    first (CONN_HEALTH_CHECKS)."""
    import requests

    url = f"http://127.0.0.1:{args.port}/api/v1/schedules/53/2023"
    headers = {"Authorization": f"Bearer {key}"}

    def burst(rounds: int) -> list[str]:
        answers: list[str] = []

        def one() -> None:
            try:
                answers.append(str(requests.get(url, headers=headers, timeout=30).status_code))
            except requests.RequestException as exc:
                answers.append(_connection_error(exc))

        for _ in range(rounds):
            threads = [threading.Thread(target=one) for _ in range(args.workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return answers

    warm = burst(3)  # every worker opens its connection and keeps it
    asked = time.time()
    cluster.restart()
    back = time.time()
    time.sleep(1.0)  # the database is well up before the next request
    answers = burst(3)
    counts: dict[str, int] = {}
    for answer in answers:
        counts[answer] = counts.get(answer, 0) + 1
    failed = sum(n for answer, n in counts.items() if answer != "200")
    print(
        f"idle restart: {len(warm)} reads answered {sorted(set(warm))} before;"
        f" pg_ctl restart -m fast took {back - asked:.2f} s with no request in flight;"
        f" 1 s later {len(answers)} reads ({args.workers} at a time, no retry) answered"
        f" {json.dumps(counts, sort_keys=True)}: {failed} failed"
    )
    logged = [(t, w) for t, w in logged_errors(log_path) if t > back]
    for line in summarise_errors(logged, asked):
        print(f"  server log: {line}")
    return failed


def run(
    args, cluster: Cluster, url: str, key: str, payloads: list[list[bytes]]
) -> tuple[bool, list[RetryingClient]]:
    log_path = cluster.base / "gunicorn.log"
    config = health_check_config(cluster.base) if args.health_checks else None
    if args.conn_max_age is not None:
        os.environ["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    conn_max_age = os.environ.get("DB_CONN_MAX_AGE", "the settings' default")
    print(
        f"gunicorn: {args.workers} sync workers, DB_CONN_MAX_AGE {conn_max_age}, "
        f"CONN_HEALTH_CHECKS {'on (--health-checks)' if args.health_checks else 'as set'}",
        flush=True,
    )
    total = sum(len(mine) for mine in payloads)
    threshold = max(1, min(total - 1, round(args.restart_at * total)))
    timeline = Timeline()
    gunicorn = gunicorn_start(
        url, args.port, workers=args.workers, log_path=log_path, config=config,
        probe="/api/schema/",
    )  # fmt: skip
    restarter = Restarter(cluster, args.database, timeline, threshold)
    clients = [RetryingClient(n, args, key, mine, timeline) for n, mine in enumerate(payloads)]
    try:
        began = time.time()
        restarter.start()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        ended = time.time()
        restarter.done.set()
        restarter.join(timeout=200)
        ok = report(args, clients, restarter, timeline, (began, ended), log_path, payloads)
        if args.idle_restart:  # evidence only: the exit status is about the records
            idle_restart(args, cluster, key, log_path)
    finally:
        gunicorn_stop(gunicorn)
    return ok, clients


def report(args, clients, restarter, timeline, span, log_path, payloads) -> bool:
    began, ended = span
    ok = True
    batches = sum(len(c.acknowledged) for c in clients)
    total = sum(len(mine) for mine in payloads)
    retries = sum(n - 1 for c in clients for n in c.attempts.values())
    retried = sum(1 for c in clients for n in c.attempts.values() if n > 1)
    answers: dict[str, int] = {}
    for client in clients:
        for counts in client.answers.values():
            for status, n in counts.items():
                answers[status] = answers.get(status, 0) + n
    latencies = sorted(x for c in clients for x in c.latencies)
    print(
        f"load: {batches:,} of {total:,} batches acknowledged in {ended - began:.1f} s,"
        f" {retries:,} retries of {retried:,} batches;"
        f" answers {json.dumps(answers, sort_keys=True)};"
        f" batch median {percentile(latencies, 0.5) * 1000:.0f} ms,"
        f" 95th percentile {percentile(latencies, 0.95) * 1000:.0f} ms"
    )
    # A retried batch that answers duplicate throughout had committed before its answer was
    # lost; one that mixes created and duplicate would mean a batch was not all-or-nothing.
    committed_unanswered = mixed = 0
    for client in clients:
        for index, counts in client.answers.items():
            if client.attempts[index] > 1 and set(counts) == {"duplicate"}:
                committed_unanswered += 1
            if len(counts) > 1:
                mixed += 1
    print(
        f"  retried batches answered duplicate throughout (stored before the answer was lost):"
        f" {committed_unanswered}; batches answered partly created, partly duplicate: {mixed}"
    )
    ok = (
        ok
        and mixed == 0
        and answers.get("created", 0) + answers.get("duplicate", 0) == sum(answers.values())
    )
    for client in clients:
        if client.failure:
            print(f"  client {client.n} FAILED: {client.failure}")
            ok = False
    if restarter.failure or not restarter.asked:
        print(f"restart: did not happen {restarter.failure}")
        return False
    origin = restarter.asked
    print(
        f"restart: asked at +{origin - began:.1f} s into the load, after {restarter.threshold}"
        f" batches acknowledged; pg_ctl restart -m fast took {restarter.returned - origin:.2f} s"
    )
    if restarter.down and restarter.up:
        print(
            f"  database refused connections from +{restarter.down - origin:.2f} s to"
            f" +{restarter.up - origin:.2f} s: outage {restarter.up - restarter.down:.2f} s"
            " (probe every 50 ms)"
        )
    back = restarter.up or restarter.returned
    if timeline.errors:
        first = min(t for t, _c, _w in timeline.errors)
        last = max(t for t, _c, _w in timeline.errors)
        after = [t for t, _c, _w in timeline.acks if t > last]
        recovered = (min(after) - origin) if after else float("nan")
        print(
            f"  clients saw errors from +{first - origin:.2f} s to +{last - origin:.2f} s"
            f" ({last - first:.2f} s); first batch acknowledged after the last error:"
            f" +{recovered:.2f} s"
        )
    print(f"error kinds the clients saw ({len(timeline.errors)}), seconds after the restart:")
    for line in summarise_errors([(t, w) for t, _c, w in timeline.errors], origin):
        print(f"  {line}")
    late = [(t, w) for t, _c, w in timeline.errors if t > back]
    print(
        f"  answered with an error after the database was back (+{back - origin:.2f} s):"
        f" {len(late)}"
    )
    logged = logged_errors(log_path)
    print(f"server log: {len(logged)} errors logged by the workers, seconds after the restart:")
    for line in summarise_errors(logged, origin):
        print(f"  {line}")
    late_logged = [(t, w) for t, w in logged if t > back]
    if late_logged:
        print(f"  after the database was back: {len(late_logged)}")
        for line in summarise_errors(late_logged, origin):
            print(f"    {line}")
    before = [(t, n) for t, _c, n in timeline.acks if t < origin]
    afterwards = [(t, n) for t, _c, n in timeline.acks if t > back]
    if before and afterwards:
        rate_before = sum(n for _t, n in before) / max(0.001, origin - began)
        rate_after = sum(n for _t, n in afterwards) / max(
            0.001, max(t for t, _n in afterwards) - back
        )
        print(
            f"throughput: {rate_before:,.0f} records/s before the restart,"
            f" {rate_after:,.0f} records/s once the database was back"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=40, help="per client")
    parser.add_argument("--batch", type=int, default=1000, help="records per request")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8797, help="where gunicorn listens")
    parser.add_argument("--pg-port", type=int, default=5499, help="the throwaway cluster's port")
    parser.add_argument("--pg-bin", help="directory of initdb and pg_ctl")
    parser.add_argument(
        "--restart-at", type=float, default=0.5, help="share of batches acknowledged first"
    )
    parser.add_argument("--max-retries", type=int, default=30, help="per batch")
    parser.add_argument(
        "--health-checks", action="store_true", help="run the workers with CONN_HEALTH_CHECKS"
    )
    parser.add_argument("--conn-max-age", type=int, help="DB_CONN_MAX_AGE for the workers")
    parser.add_argument(
        "--idle-restart", action="store_true", help="after the load, restart again while idle"
    )
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--database", default="pension_bench_fault")
    parser.add_argument("--keep", action="store_true", help="keep the cluster (stopped)")
    args = parser.parse_args()
    needed = args.clients * args.batches * args.batch
    if needed > args.residents:
        sys.exit(f"--residents must be at least clients × batches × batch = {needed}")
    check_database_name(args.database)
    for port, option in ((args.pg_port, "--pg-port"), (args.port, "--port")):
        if not port_is_free(port):
            sys.exit(f"something already listens on 127.0.0.1:{port}: choose another {option}")

    bindir = postgres_bindir(args.pg_bin)
    cluster = Cluster(bindir, args.pg_port)
    ok = False
    try:
        print(f"machine: 10 million Python additions in {reference_loop():.2f} s", flush=True)
        started = time.perf_counter()
        cluster.init()
        cluster.start()
        admin = admin_connection(cluster.server)
        create_database(admin, args.database)
        print(
            f"cluster: {cluster.version()} from {bindir}, in {cluster.base} on port"
            f" {args.pg_port} (user {'postgres' if cluster.prefix else 'this one'});"
            f" {server_summary(admin)}; ready in {since(started):.1f} s",
            flush=True,
        )
        admin.close()  # the restart would break it
        url = database_url(cluster.server, args.database)
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        django_setup(url)
        started = time.perf_counter()
        people = load_county(args.residents, args.seed)
        key = issue_key()
        payloads = bodies(people, clients=args.clients, batches=args.batches, size=args.batch)
        del people
        print(
            f"county: {args.residents:,} residents loaded in {since(started):.1f} s;"
            f" {args.clients} clients × {args.batches} batches × {args.batch:,} records",
            flush=True,
        )
        from django.db import connections

        connections.close_all()  # the restart would break it too
        vouchers = [
            [[r["voucher_no"] for r in json.loads(body)["records"]] for body in mine]
            for mine in payloads
        ]
        ok, clients = run(args, cluster, url, key, payloads)
        # What the clients sent and what the API acknowledged (the clients are done).
        sent, acknowledged = set(), set()
        for n, client in enumerate(clients):
            for index in client.sent:
                sent.update(vouchers[n][index])
            for index in client.acknowledged:
                acknowledged.update(vouchers[n][index])
        stored_ok, lines = check_database(sent, acknowledged)
        for line in lines:
            print(line)
        ok = ok and stored_ok
    finally:
        from django.db import connections

        connections.close_all()
        cluster.stop()
        if args.keep:
            print(f"kept: the cluster (stopped) and the logs in {cluster.base}")
        else:
            cluster.remove()
    print("nothing lost, nothing twice" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
