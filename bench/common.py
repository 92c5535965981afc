"""What the benchmark scripts share: their own databases on the server of DATABASE_URL, the
Django set-up of a timed child process, and the machine's figures printed beside the results.

Every script works in databases of its own (never `pension`, `postgres`, a template or a test
database), creates them afresh and drops them at the end unless told to keep them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_SECRET_KEY = "bench-only-not-a-secret"
PROTECTED_DATABASES = {"pension", "postgres", "template0", "template1"}


def check_database_name(name: str) -> None:
    if name in PROTECTED_DATABASES or name.startswith(("test", "template")):
        sys.exit(f"refusing to use the database {name!r}: pick a name of the benchmark's own")


def server_url() -> str:
    """The server part of DATABASE_URL (or the default); refuses anything but PostgreSQL."""
    raw = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    parts = urlsplit(raw)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        sys.exit(f"the benchmarks run on PostgreSQL only; DATABASE_URL is {parts.scheme}://")
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def admin_connection(server: str):
    """An autocommit connection to the server's maintenance database, for CREATE/DROP."""
    import dj_database_url
    import psycopg2

    params = dj_database_url.parse(database_url(server, "postgres"))
    connection = psycopg2.connect(
        dbname="postgres",
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


def drop_database(admin, name: str) -> None:
    from psycopg2 import sql

    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_database(admin, name: str, template: str | None = None) -> float:
    """(Re)create `name`, empty or as a copy of `template`; returns the seconds it took."""
    import psycopg2
    from psycopg2 import sql

    started = time.perf_counter()
    drop_database(admin, name)
    with admin.cursor() as cursor:
        if template is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            # FILE_COPY (PostgreSQL 15+) copies the files instead of writing every page to WAL.
            strategy = " STRATEGY = FILE_COPY" if admin.server_version >= 150000 else ""
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}" + strategy).format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
            # Settle the disk before a timed run: finish any checkpoint the setup left under
            # way (it would spread its writes over the run) and let the kernel write out the
            # copy, a few hundred MB that would otherwise compete with the run's own commits.
            with contextlib.suppress(psycopg2.Error):  # a role not allowed to: time it anyway
                cursor.execute("CHECKPOINT")
            os.sync()
    return time.perf_counter() - started


def server_summary(admin) -> str:
    with admin.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
        settings = []
        for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name} {cursor.fetchone()[0]}")
    return f"PostgreSQL {version} ({', '.join(settings)})"


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "pension.settings"
    import django

    django.setup()
    # A request made in this process (the test client's) would print its access-log line
    # among the figures; servers started by a benchmark keep theirs.
    logging.getLogger("pension.access").setLevel(logging.WARNING)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier (29 February falls back to 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def reference_loop() -> float:
    """Seconds for ten million additions in pure Python: how fast this machine runs Python."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    Linux keeps ru_maxrss across fork and exec, so a child started by the parent (which holds
    the generated county) would report the parent's size; VmHWM belongs to the process's own
    address space, which starts afresh at exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def since(started: float) -> float:
    return time.perf_counter() - started


def run_child(script: str, url: str, *arguments: str) -> dict[str, object]:
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0")
    env.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    command = [sys.executable, str(Path(script).resolve()), *arguments]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        sys.exit(f"the timed run {' '.join(arguments[:2])} failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


def mb(size: float) -> str:
    return f"{size / (1 << 20):.1f} MB"


@contextlib.contextmanager
def statement_times():
    """Collects (seconds, first words of the SQL) of every statement Django runs in the block."""
    from django.db import connection

    found: list[tuple[float, str]] = []

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            found.append((since(started), " ".join(str(sql).split())[:100]))

    with connection.execute_wrapper(wrapper):
        yield found


def print_slow_statements(
    found: list[tuple[float, str]], total: float | None = None, threshold: float = 0.05
) -> None:
    """The statements that took `threshold` seconds or more, in the order they ran, and what
    the statements do not account for of `total` (the commit, Python)."""
    quick = [took for took, _sql in found if took < threshold]
    for took, sql in found:
        if took >= threshold:
            print(f"    {took:6.2f} s  {sql}")
    if quick:
        print(f"    {sum(quick):6.2f} s  {len(quick)} statements under {threshold} s each")
    if total is not None:
        rest = max(0.0, total - sum(took for took, _sql in found))
        print(f"    {rest:6.2f} s  the rest: the commit (foreign-key checks) and Python")


def percentile(ordered: list[float], share: float) -> float:
    """The value below which `share` of the sorted values lie (nearest rank); 0 if none."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def gunicorn_start(
    url: str,
    port: int,
    *,
    workers: int,
    threads: int = 1,
    log_path: Path | None = None,
    config: Path | None = None,
    probe: str = "/login/",
    timeout: int = 120,
) -> subprocess.Popen:
    """gunicorn serving the project on 127.0.0.1:`port` against the database `url`, once it
    answers `probe`. More than one thread a worker means the gthread worker class. Its log
    (warnings and Django's 500 tracebacks) goes to `log_path`, or to this process's stderr."""
    import http.client

    root = Path(__file__).resolve().parents[1]
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    env.pop("CELERY_BROKER_URL", None)  # nothing enqueued here needs a worker
    command = [str(Path(sys.executable).with_name("gunicorn")), "pension.wsgi"]
    command += ["--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    command += ["--log-level", "warning", "--timeout", str(timeout)]
    if config:
        command += ["--config", str(config)]
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115  (closed with the server)
    try:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)  # noqa: S603
    finally:
        if log:
            log.close()  # the child keeps its own descriptor
    for _ in range(150):
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", probe)
            connection.getresponse().read()
            connection.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def gunicorn_stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def server_log_errors(log_path: Path, zone: str) -> list[dict[str, object]]:
    """Every error record in a gunicorn log written with the project's LOGGING (a time stamp
    in `zone`, the level, the logger, the message, then the traceback): its time (epoch
    seconds), its message, the first exception of its traceback (the root cause of a chain)
    and its whole text."""
    import re
    from zoneinfo import ZoneInfo

    stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) (\w+) \S+ (.*)$")
    exception = re.compile(r"^[\w.]+(Error|Exception|Warning)\b")
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    found: list[dict[str, object]] = []
    record: dict[str, object] | None = None
    for line in lines:
        match = stamp.match(line)
        if match:
            record = None
            if match.group(3) in ("ERROR", "CRITICAL"):
                moment = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
                when = moment.replace(tzinfo=ZoneInfo(zone)).timestamp()
                record = {
                    "time": when + int(match.group(2)) / 1000,
                    "message": match.group(4),
                    "root": "",
                    "text": line,
                }
                found.append(record)
        elif record is not None:
            record["text"] = f"{record['text']}\n{line}"
            if not record["root"] and exception.match(line):
                root = re.sub(r'connection to server at "[^"]*", port \d+ failed: ', "", line)
                record["root"] = " ".join(root.split())[:200]
    return found
