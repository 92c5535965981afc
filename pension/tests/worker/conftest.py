"""Fixtures of the tests that send tasks through the real broker: a Celery worker and beat
started as processes of their own, on Redis and on the test database, as a county runs them.

The worker sees only committed rows, so these tests run on a transactional database, which
Django empties after each test; the regions and schedules the migrations ship come back from the
copy Django serialises when it creates the test database (serialized rollback), and once more
after the last of these tests, for the transactional tests that run later and expect them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from pension.celery import app

PROJECT = Path(settings.BASE_DIR)
# Short, so that a task whose worker was killed is handed out again within seconds.
VISIBILITY_TIMEOUT = 2


def wait_for(condition: Callable[[], object], *, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"not within {seconds} s: {what}")


class CeleryProcess:
    """`celery -A pension <command>` in a process group of its own, logging to a file."""

    def __init__(self, command: list[str], *, env: dict[str, str], log: Path, ready: str):
        self.command, self.env, self.log, self.ready = command, env, log, ready
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
                [sys.executable, "-m", "celery", "-A", "pension", *self.command],
                cwd=PROJECT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(self._ready, seconds=60, what=f"celery {self.command[0]} ready")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"celery {self.command[0]} exited:\n{self.log.read_text()}")
        return self.ready in self.log.read_text(errors="replace")

    def kill(self) -> None:
        """As when its machine dies: no warning, no clean-up, every process of it at once."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, number: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, number)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="package", autouse=True)
def real_services_only(django_db_setup) -> None:
    if connection.vendor != "postgresql" or settings.CELERY_BROKER_URL.startswith("memory"):
        pytest.skip("needs PostgreSQL and a Redis broker")


@pytest.fixture(scope="package", autouse=True)
def shipped_rows_put_back_after_these_tests(django_db_blocker) -> Iterator[None]:
    yield
    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)


@pytest.fixture
def through_the_broker(django_db_serialized_rollback) -> Iterator[None]:
    """Tasks go to the broker, as in production, instead of running in this process; the broker
    starts empty of anything an earlier run left in these queues."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("unacked", "unacked_index", "unacked_mutex", *settings.TASK_QUEUES)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def services_env(settings) -> dict[str, str]:
    """The worker's and beat's environment: this test's database, broker and files."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CACHE_URL": settings.CACHE_URL or "",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "TASK_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }


@pytest.fixture
def start_worker(through_the_broker, services_env, tmp_path) -> Iterator[Callable]:
    """Start a worker on every queue (one process at a time, as a small county runs it); each
    call starts another, after the one before it was killed or stopped."""
    started: list[CeleryProcess] = []

    def start() -> CeleryProcess:
        queues = ",".join(settings.TASK_QUEUES)
        name = f"w{len(started)}@tests"
        worker = CeleryProcess(
            ["worker", "-Q", queues, "-c", "1", "-n", name, "--without-gossip",
             "--without-mingle", "--loglevel", "INFO"],
            env=services_env, log=tmp_path / f"{name}.log", ready=f"{name} ready.",
        )  # fmt: skip
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def start_beat(through_the_broker, services_env, tmp_path) -> Iterator[Callable]:
    beats: list[CeleryProcess] = []

    def start() -> CeleryProcess:
        beat = CeleryProcess(
            ["beat", "--loglevel", "INFO", "-s", str(tmp_path / "beat-schedule")],
            env=services_env, log=tmp_path / "beat.log", ready="beat: Starting...",
        )  # fmt: skip
        beats.append(beat)
        return beat.start()

    yield start
    for beat in beats:
        beat.stop()
