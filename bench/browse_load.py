"""Load test of the site as township clerks use it: browsing and recording counter payments.

    python bench/browse_load.py                                   # 50 users for 5 minutes
    python bench/browse_load.py --users 10 --minutes 1 --residents 20000   # a quick check

PostgreSQL only. The script creates its own database (``pension_bench_load`` unless --database
says otherwise) on the server of DATABASE_URL, migrates it and loads the county of
bench/collection.py (沧源 530927: --residents residents, about as many payments, one enrolled
resident in eight not yet paid for 2023), rebuilds the progress table the dashboard reads, and
creates --users township clerks spread over the county's townships. It starts gunicorn against
that database and runs one thread per clerk, each with its own `requests.Session`:

- the clerk logs in once through the login form (its CSRF token, then the POST), the logins
  spread over --ramp seconds;
- then, until --minutes have passed, the clerk loops: the home page or the township's dashboard
  (in turn), the resident list searched by the ID number or the name of a resident of the
  township who has not paid, that resident's page, the payment list, the counter searched by
  the ID number, the counter's payment form, the form posted (a 2023 personal payment with a
  voucher of its own) and the receipt it leads to; with a think time of about --think seconds
  after every page.

Every request's time is taken from sending it to having read the whole answer. Nothing follows
redirects by itself: each answer must be the one a browser expects (200 for a page, a redirect
to the home page after the login, to the receipt after the payment form), or it is an error; a
payment form that comes back instead of the receipt is an error too ("form not saved"). At the
end, every payment a clerk saw saved is looked up in the database: it must be stored once,
with the receipt's number, and nothing may be stored that no clerk saw saved.

Targets: no error, and a 95th percentile under 500 ms over all requests.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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
    gunicorn_start,
    gunicorn_stop,
    percentile,
    reference_loop,
    server_log_errors,
    server_summary,
    server_url,
    since,
)

COUNTY = "530927"
YEAR = 2023
DAY = datetime.date(2023, 12, 31)  # the day the dashboard shows for 2023 once the year is over
TARGET_P95_MS = 500.0
TIMEOUT = 60  # seconds a request may take before it counts as an error
# Page kinds in the order a clerk meets them.
KINDS = [
    "login_form", "login", "home", "dashboard", "resident_search", "resident_detail",
    "payment_list", "counter_search", "counter_form", "counter_post", "receipt",
]  # fmt: skip
TOWNSHIP_CHANNEL = "township_office"
TIER = "300.00"


# --- The county ------------------------------------------------------------------------------


def _county_loader():
    """bench/collection.py, whose county this benchmark shares (loaded by path: its module
    name is the app's)."""
    spec = importlib.util.spec_from_file_location(
        "bench_collection", Path(__file__).with_name("collection.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(*, residents: int, users: int, seed: int, password: str) -> dict:
    """The county, its progress, the clerks and, per township, the residents not yet paid."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from collection.services.progress import progress_rebuild
    from pension.models import Region, User

    call_command("migrate", verbosity=0)
    county_bench = _county_loader()
    rows, listed, _township = county_bench.build_residents(
        n=residents, proxy=min(100_000, residents // 10),
        township_residents=min(50_000, residents // 20), seed=seed,
    )  # fmt: skip
    loaded = county_bench.load_county(rows=rows, listed=listed, residents=residents)
    del rows
    county = Region.objects.get(code=COUNTY)
    progress_rebuild(county=county, year=YEAR, day=DAY)

    townships = list(
        Region.objects.filter(code__startswith=COUNTY, level=Region.Level.TOWNSHIP)
        .order_by("code")
        .values_list("code", "name")
    )
    # One hash for every clerk: hashing 50 passwords would take half a minute for nothing.
    hashed = make_password(password)
    clerks = [
        User(
            username=f"bench_clerk_{n:03d}",
            password=hashed,
            role=User.Role.TOWNSHIP,
            region_id=townships[n % len(townships)][0],
            last_name="测",
            first_name=f"试{n}",
        )
        for n in range(users)
    ]
    User.objects.bulk_create(clerks)

    # Enrolled, no payment for the year, in no special group (whose tiers differ): the
    # residents a clerk may record a 300-yuan personal payment for.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT left(r.village_id, 9), r.id, r.id_number, r.name
            FROM enrollment_resident r
            WHERE r.status = 'enrolled' AND r.village_id LIKE %s
              AND NOT EXISTS (SELECT 1 FROM collection_payment p
                              WHERE p.resident_id = r.id AND p.contribution_year = %s)
              AND NOT EXISTS (SELECT 1 FROM enrollment_specialgroupmembership m
                              WHERE m.resident_id = r.id)
            ORDER BY r.id
            """,
            [f"{COUNTY}%", YEAR],
        )
        unpaid: dict[str, list[tuple[int, str, str]]] = {}
        for township, pk, id_number, name in cursor.fetchall():
            unpaid.setdefault(township, []).append((pk, id_number, name))
    rng = random.Random(seed)
    for people in unpaid.values():
        rng.shuffle(people)
    # The clerks of a township share its unpaid residents without overlap.
    by_township: dict[str, list[int]] = {}
    for n, clerk in enumerate(clerks):
        by_township.setdefault(clerk.region_id, []).append(n)
    pools: list[list[tuple[int, str, str]]] = [[] for _ in clerks]
    for township, members in by_township.items():
        people = unpaid.get(township, [])
        for k, n in enumerate(members):
            pools[n] = people[k :: len(members)]
    return {
        "payments": loaded["payments"],
        "listed": len(listed),
        "townships": dict(townships),
        "clerks": [(c.username, c.region_id) for c in clerks],
        "pools": pools,
        "unpaid": sum(len(p) for p in unpaid.values()),
    }


# --- The clerks ------------------------------------------------------------------------------


class Forms(HTMLParser):
    """The forms of a page: for each, its method, its inputs' values and its selects' options
    (the selected one first)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self.forms.append({"method": method, "fields": {}, "options": {}})
        elif not self.forms:
            return
        elif tag == "input" and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self.forms[-1]["options"][self._select] = []
        elif tag == "option" and self._select is not None:
            options = self.forms[-1]["options"][self._select]
            value = attributes.get("value") or ""
            if "selected" in attributes:
                options.insert(0, value)
            else:
                options.append(value)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def post_form(html: str, marker: str) -> dict | None:
    """The first POST form of the page that has an input named `marker`."""
    parser = Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and marker in form["fields"]:
            return form
    return None


ERROR_TEXT = re.compile(r'class="(?:alert alert-danger[^"]*|text-danger[^"]*)"[^>]*>([^<]{1,200})')


class Recorder:
    """Every request's kind, time and error, from all clerks (appends are atomic in CPython,
    the counters are under a lock)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.answered: list[tuple[float, str, float]] = []  # (time.time(), kind, seconds)
        self.failed_at: list[float] = []
        self.errors: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.samples: list[str] = []
        self.saved: list[tuple[str, int, int]] = []  # (voucher, payment pk, resident pk)
        self.lock = threading.Lock()

    def add(self, kind: str, seconds: float, error: str = "") -> None:
        self.times[kind].append(seconds)
        self.answered.append((time.time(), kind, seconds))
        if error:
            self.fail(kind, error)

    def fail(self, kind: str, error: str) -> None:
        """An error found in an answer already timed (a form not saved, a wrong page)."""
        with self.lock:
            self.errors[kind] += 1
            self.failed_at.append(time.time())
            if len(self.samples) < 1000:
                self.samples.append(f"{kind}: {error}")


class Clerk(threading.Thread):
    def __init__(
        self,
        n: int,
        username: str,
        township: str,
        pool: list[tuple[int, str, str]],
        *,
        args,
        password: str,
        base: str,
        tag: str,
        starts_at: float,
        ends_at: float,
        recorder: Recorder,
    ):
        super().__init__(daemon=True)
        import requests

        self.n, self.username, self.township, self.pool = n, username, township, pool
        self.password, self.base, self.tag = password, base, tag
        self.think = args.think
        self.starts_at, self.ends_at, self.recorder = starts_at, ends_at, recorder
        self.rng = random.Random(args.seed * 1000 + n)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "pension-bench-browse"
        self.payments = 0
        self.exhausted = False
        self.crashed = ""

    # One request: timed, checked against the answer a browser expects.
    def call(self, kind, method, path, *, expect=200, **kwargs):
        import requests

        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base + path, allow_redirects=False, timeout=TIMEOUT, **kwargs
            )
        except requests.RequestException as exc:
            self.recorder.add(kind, since(started), f"{type(exc).__name__}: {exc}"[:300])
            return None
        took = since(started)
        if response.status_code not in (expect if isinstance(expect, tuple) else (expect,)):
            detail = f"HTTP {response.status_code} on {method} {path}"
            if response.is_redirect:
                detail += f" → {response.headers.get('Location')}"
            self.recorder.add(kind, took, detail)
            return None
        self.recorder.add(kind, took)
        return response

    def pause(self) -> bool:
        """Think, then say whether there is time for another page."""
        time.sleep(self.think * self.rng.uniform(0.5, 1.5))
        return time.time() < self.ends_at

    def run(self) -> None:
        try:
            time.sleep(max(0.0, self.starts_at - time.time()))
            if self.login():
                loop = 0
                while self.pause() and self.visit(loop):
                    loop += 1
        except Exception as exc:  # noqa: BLE001  (reported by the main thread)
            self.crashed = f"{type(exc).__name__}: {exc}"
        finally:
            self.session.close()

    def login(self) -> bool:
        page = self.call("login_form", "GET", "/login/")
        if page is None:
            return False
        form = post_form(page.text, "username")
        token = form and form["fields"].get("csrfmiddlewaretoken")
        if not token:
            self.recorder.fail("login_form", "no CSRF token on the login page")
            return False
        if not self.pause():
            return False
        answer = self.call(
            "login", "POST", "/login/", expect=302,
            data={"csrfmiddlewaretoken": token, "username": self.username,
                  "password": self.password, "next": ""},
        )  # fmt: skip
        if answer is None:
            return False  # never try again: django-axes counts wrong tries
        if answer.headers.get("Location") != "/":
            self.recorder.fail("login", f"login led to {answer.headers.get('Location')}")
            return False
        return self.pause() and self.call("home", "GET", "/") is not None

    def visit(self, loop: int) -> bool:
        """One round of pages; False when the time is up."""
        if loop % 2:
            self.call("home", "GET", "/")
        else:
            self.call("dashboard", "GET", f"/dashboard/{self.township}/?year={YEAR}")
        if not self.pool:  # every unpaid resident of this clerk's share paid: browse only
            self.exhausted = True
            if not self.pause():
                return False
            self.call("payment_list", "GET", "/collection/payments/")
            return True
        pk, id_number, name = self.pool.pop()
        search = id_number if loop % 2 == 0 else name
        steps = [
            ("resident_search", "/residents/?" + urlencode({"q": search})),
            ("resident_detail", f"/residents/{id_number}/"),
            ("payment_list", "/collection/payments/"),
        ]
        for kind, path in steps:
            if not self.pause():
                return False
            self.call(kind, "GET", path)
        if not self.pause():
            return False
        return self.pay(pk, id_number, loop)

    def pay(self, pk: int, id_number: str, loop: int) -> bool:
        query = urlencode({"q": id_number})
        found = self.call("counter_search", "GET", f"/collection/counter/?{query}")
        if found is None:
            return True
        links = set(re.findall(r'href="\?resident=(\d+)"', found.text))
        if links != {str(pk)}:
            self.recorder.fail("counter_search", f"the counter found {links} for {id_number}")
            return True
        if not self.pause():
            return False
        path = f"/collection/counter/?resident={pk}"
        page = self.call("counter_form", "GET", path)
        if page is None:
            return True
        form = post_form(page.text, "resident")
        if form is None or TIER not in form["options"].get("amount", []):
            self.recorder.fail("counter_form", f"no payment form with {TIER} for {id_number}")
            return True
        if not self.pause():  # typing the voucher number
            return False
        voucher = f"{self.tag}{self.n:03d}{loop:05d}"
        channels = form["options"].get("channel", [])
        data = dict(form["fields"])
        data.update(
            amount=TIER,
            kind="personal",
            channel=TOWNSHIP_CHANNEL if TOWNSHIP_CHANNEL in channels else channels[0],
            voucher_no=voucher,
        )
        answer = self.call("counter_post", "POST", path, expect=(302, 200), data=data)
        if answer is None:
            return True
        if answer.status_code == 200:
            reasons = "; ".join(m.strip() for m in ERROR_TEXT.findall(answer.text)) or "?"
            self.recorder.fail("counter_post", f"form not saved: {reasons}"[:300])
            return True
        location = answer.headers.get("Location", "")
        receipt = re.fullmatch(r"/collection/receipts/(\d+)/", location)
        if receipt is None:
            self.recorder.fail("counter_post", f"the payment form led to {location}")
            return True
        self.recorder.saved.append((voucher, int(receipt.group(1)), pk))
        self.payments += 1
        if not self.pause():
            return False
        page = self.call("receipt", "GET", location)
        if page is not None and voucher not in page.text:
            self.recorder.fail("receipt", f"the receipt of {voucher} does not show it")
        return True


# --- The run ---------------------------------------------------------------------------------


def run_load(args, setup: dict, password: str, tag: str) -> tuple[Recorder, list[Clerk], float]:
    recorder = Recorder()
    began = time.time()
    ends_at = began + args.minutes * 60
    clerks = []
    for n, (username, township) in enumerate(setup["clerks"]):
        clerks.append(
            Clerk(
                n,
                username,
                township,
                setup["pools"][n],
                args=args,
                password=password,
                base=f"http://127.0.0.1:{args.port}",
                tag=tag,
                starts_at=began + n * args.ramp / max(1, args.users),
                ends_at=ends_at,
                recorder=recorder,
            )
        )
    for clerk in clerks:
        clerk.start()
    for clerk in clerks:
        clerk.join()
    return recorder, clerks, time.time() - began


def warm_up(port: int, requests_count: int) -> None:
    """The login page requested by every worker before the clock starts (the first request a
    worker serves imports the views and compiles the templates), as on a server in use."""
    import requests

    def one() -> None:
        with contextlib.suppress(requests.RequestException):
            requests.get(f"http://127.0.0.1:{port}/login/", timeout=TIMEOUT)

    threads = [threading.Thread(target=one) for _ in range(requests_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def report(recorder: Recorder, wall: float) -> tuple[int, float]:
    """The per-kind table; returns (errors, p95 of all requests in ms)."""
    every = sorted(t for times in recorder.times.values() for t in times)
    errors = sum(recorder.errors.values())
    print(
        f"load: {len(every):,} requests in {wall:.0f} s ({len(every) / wall:.1f}/s),"
        f" {len(recorder.saved):,} payments recorded"
    )
    print(f"  {'kind':<16}{'requests':>9}{'errors':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}  ms")

    def line(label: str, times: list[float], failed: int) -> None:
        ms = [percentile(times, q) * 1000 for q in (0.50, 0.95, 0.99, 1.0)]
        print(f"  {label:<16}{len(times):>9,}{failed:>8,}" + "".join(f"{v:>8.0f}" for v in ms))

    for kind in KINDS:
        line(kind, sorted(recorder.times[kind]), recorder.errors[kind])
    line("all", every, errors)
    # The same once every clerk has logged in: password hashing no longer shares the CPUs.
    logins = [at for at, kind, _s in recorder.answered if kind == "login"]
    if logins:
        settled = max(logins)
        later = sorted(s for at, kind, s in recorder.answered if at - s > settled)
        if later:
            first = min(at for at, _k, _s in recorder.answered)
            print(f"  after the last login (+{settled - first:.0f} s):")
            line("all pages", later, sum(1 for at in recorder.failed_at if at > settled))
    return errors, percentile(every, 0.95) * 1000


def check_database(recorder: Recorder, tag: str, clerks: int) -> bool:
    """Every payment a clerk saw saved is stored once, with its receipt's number; nothing
    else was stored; nobody was paid twice. Then what django-axes recorded of the logins."""
    from django.db.models import Count

    from collection.models import Payment

    stored: dict[str, list[tuple[int, int, int | None]]] = {}
    rows = Payment.objects.filter(source=Payment.Source.COUNTER, voucher_no__startswith=tag)
    for voucher, pk, resident, duplicate_of in rows.values_list(
        "voucher_no", "pk", "resident_id", "duplicate_of_id"
    ):
        stored.setdefault(voucher, []).append((pk, resident, duplicate_of))
    seen = {voucher: (pk, resident) for voucher, pk, resident in recorder.saved}
    missing = [v for v in seen if v not in stored]
    twice = [v for v, found in stored.items() if len(found) > 1]
    unseen = [v for v in stored if v not in seen]
    wrong = [
        v for v, (pk, resident) in seen.items()
        if v in stored and (stored[v][0][0], stored[v][0][1]) != (pk, resident)
    ]  # fmt: skip
    duplicates = [v for v, found in stored.items() if any(d for _p, _r, d in found)]
    paid_twice = (
        Payment.objects.filter(source=Payment.Source.COUNTER, voucher_no__startswith=tag)
        .values("resident_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    ok = not (missing or twice or unseen or wrong or duplicates or paid_twice)
    print(
        f"database check: {len(seen):,} payments seen saved, {len(seen) - len(missing):,} found,"
        f" {len(missing)} missing, {len(twice)} stored twice, {len(unseen)} stored but not seen"
        f" saved, {len(wrong)} with another receipt or resident, {len(duplicates) + paid_twice}"
        f" residents paid twice: {'OK' if ok else 'FAILED'}"
    )
    for label, vouchers in (("missing", missing), ("unseen", unseen), ("wrong", wrong)):
        if vouchers:
            print(f"  {label}: {', '.join(vouchers[:5])}")
    try:
        from axes.models import AccessAttempt, AccessLog

        attempts, logins = AccessAttempt.objects.count(), AccessLog.objects.count()
        print(
            f"logins: {logins} recorded by django-axes for {clerks} clerks, {attempts} failed"
            f" attempts on record (a lockout needs {_failure_limit()} in a row)"
        )
        ok = ok and attempts == 0
    except ImportError:
        pass
    return ok


def _failure_limit() -> int:
    from django.conf import settings

    return settings.AXES_FAILURE_LIMIT


def server_errors(log_path: Path) -> list[str]:
    """The errors in gunicorn's log (Django logs every 500 with its traceback), by cause."""
    from django.conf import settings

    found: dict[str, int] = {}
    for record in server_log_errors(log_path, settings.TIME_ZONE):
        cause = f"{record['message']}: {record['root']}"
        found[cause] = found.get(cause, 0) + 1
    return [f"{n} × {cause}" for cause, n in sorted(found.items(), key=lambda item: -item[1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent township clerks")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the load")
    parser.add_argument("--residents", type=int, default=200_000, help="residents on file")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between pages (±50%%)")
    parser.add_argument("--ramp", type=float, default=25.0, help="seconds over which to log in")
    cpus = os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=2 * cpus + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="per worker (>1: gthread)")
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--database", default="pension_bench_load")
    parser.add_argument("--keep", action="store_true", help="keep the database and the log")
    args = parser.parse_args()

    check_database_name(args.database)
    server = server_url()
    admin = admin_connection(server)
    url = database_url(server, args.database)
    print(
        f"browse benchmark: {args.users} township clerks for {args.minutes:g} min, "
        f"{args.residents:,} residents of {COUNTY}, {server_summary(admin)} at "
        f"{urlsplit(server).hostname or 'localhost'}, database {args.database}",
        flush=True,
    )
    print(
        f"machine: {cpus} CPUs, load average {os.getloadavg()[0]:.1f}: 10 million Python "
        f"additions in {reference_loop():.2f} s (to compare machines: lower is faster)",
        flush=True,
    )
    create_database(admin, args.database)
    workdir = Path(tempfile.mkdtemp(prefix="pension-bench-load-"))
    log_path = workdir / "gunicorn.log"
    ok = False
    try:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        django_setup(url)
        started = time.perf_counter()
        password = secrets.token_urlsafe(16)
        setup = load(residents=args.residents, users=args.users, seed=args.seed, password=password)
        per_township = {}
        for _username, township in setup["clerks"]:
            per_township[township] = per_township.get(township, 0) + 1
        shares = sorted(len(pool) for pool in setup["pools"])
        print(
            f"setup: {args.residents:,} residents, {setup['payments']:,} payments, "
            f"{setup['unpaid']:,} enrolled residents not paid for {YEAR}; {args.users} clerks "
            f"over {len(per_township)} of {len(setup['townships'])} townships "
            f"({min(per_township.values())}-{max(per_township.values())} each), "
            f"{shares[0]:,}-{shares[-1]:,} unpaid residents each; in {since(started):.1f} s",
            flush=True,
        )
        from django.db import connections

        connections.close_all()
        kind = (
            f"{args.workers} gthread workers × {args.threads} threads"
            if args.threads > 1
            else f"{args.workers} sync workers"
        )
        rule = " (2 × CPUs + 1)" if args.workers == 2 * cpus + 1 and args.threads == 1 else ""
        print(
            f"gunicorn: {kind}{rule}, {args.workers * args.threads} database connections at "
            f"most; think time {args.think:g} s (±50%), logins spread over {args.ramp:g} s",
            flush=True,
        )
        tag = "BL" + secrets.token_hex(3).upper()
        server_process = gunicorn_start(
            url, args.port, workers=args.workers, threads=args.threads, log_path=log_path
        )
        try:
            warm_up(args.port, args.workers * args.threads * 2)
            recorder, clerks, wall = run_load(args, setup, password, tag)
        finally:
            gunicorn_stop(server_process)
        errors, p95 = report(recorder, wall)
        crashed = [f"{c.username}: {c.crashed}" for c in clerks if c.crashed]
        exhausted = sum(1 for c in clerks if c.exhausted)
        if exhausted:
            print(f"note: {exhausted} clerks paid every unpaid resident of their share")
        print(f"errors: {errors} (target 0: {'met' if errors == 0 else 'MISSED'})")
        if recorder.samples:
            distinct: dict[str, int] = {}
            for sample in recorder.samples:
                distinct[sample] = distinct.get(sample, 0) + 1
            for sample, n in sorted(distinct.items(), key=lambda item: -item[1])[:10]:
                print(f"  {n} × {sample}")
        for line in server_errors(log_path)[:10]:
            print(f"  server log: {line}")
        for line in crashed:
            print(f"  client crashed: {line}")
        met = p95 < TARGET_P95_MS
        print(
            f"p95 of all requests: {p95:.0f} ms (target < {TARGET_P95_MS:.0f} ms: "
            f"{'met' if met else 'MISSED'})"
        )
        stored_ok = check_database(recorder, tag, args.users)
        ok = errors == 0 and met and stored_ok and not crashed
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept: database {args.database}, gunicorn log {log_path}")
        else:
            drop_database(admin, args.database)
            log_path.unlink(missing_ok=True)
            workdir.rmdir()
        admin.close()
    print("targets met" if ok else "targets MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
