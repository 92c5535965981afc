"""Fixtures of the real-browser tests: Debian's Chromium, driven by Playwright, against
pytest-django's live server.

One headless browser serves every browser test of the session (they are all in this package);
each test gets a fresh context (cookies, storage, downloads) with one page. The live server
answers from a thread of this process: it sees the settings and the in-process tasks of the root
conftest, and the test's rows once they are committed, so these tests run on a transactional
database, which Django empties after each test. The regions and schedules the migrations ship
come back from the copy Django serialises when it creates the test database: before each
browser test (serialized rollback), and once after the last one, for the other apps'
transactional tests that run later and expect them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, Error, Page, expect, sync_playwright

from pension.models import User
from pension.tests.browser.support import ARTIFACTS, ConsoleLog, log_in, save_screenshot

# Debian's package, installed by `make browser`; Playwright is never asked to download one.
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)

_call_report = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep the outcome of the test body, so that `page` can photograph a failure."""
    report = yield
    if report.when == "call":
        item.stash[_call_report] = report
    return report


@pytest.fixture(scope="package")
def browser(django_db_setup) -> Iterator[Browser]:
    """One browser for all the browser tests (they are this one package), closed after them.

    While Playwright runs, its event loop counts as running in this thread, so Django treats
    the tests' queries as coming from async code: it refuses them unless allowed by its own
    switch, and gives them a connection of their own, which must carry the serialised copy of
    the database for serialized rollback to work. Both last only until the browser is closed.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests drive Debian's Chromium. "
            "Install it with `make browser`, which `make test` runs first.",
            pytrace=False,
        )
    serialized = getattr(connection, "_test_serialized_contents", None)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        if serialized is not None:  # on the connection Django hands out while the loop runs
            connection._test_serialized_contents = serialized
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="package", autouse=True)
def no_stale_failure_screenshots() -> None:
    """A failure photographed by an earlier run must not pass for one of this run."""
    for stale in ARTIFACTS.glob("failed-*.png"):
        stale.unlink()


@pytest.fixture(scope="package", autouse=True)
def shipped_rows_put_back(django_db_setup, django_db_blocker) -> Iterator[None]:
    """After the last browser test, the rows the migrations ship, as the tests found them."""
    yield
    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)


@pytest.fixture
def site(live_server, django_db_serialized_rollback) -> str:
    """The live server's address, with the shipped regions and schedules in its database."""
    return live_server.url


@pytest.fixture
def context(browser: Browser, site: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=site,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def console() -> ConsoleLog:
    """What the test's pages report as errors; `console.assert_clean()` fails on any."""
    return ConsoleLog()


@pytest.fixture
def page(context: BrowserContext, console: ConsoleLog, request) -> Iterator[Page]:
    page = context.new_page()
    console.watch(page)
    yield page
    report = request.node.stash.get(_call_report, None)
    if report is not None and report.failed:
        with contextlib.suppress(Error):  # a crashed page must not hide the test's own failure
            save_screenshot(page, f"failed-{request.node.name}")


@pytest.fixture
def log_in_as(context: BrowserContext, site: str) -> Callable[[User], None]:
    """Sign the test's browser in as a user without the login form."""

    def log_in_as(user: User) -> None:
        log_in(context, user, site)

    return log_in_as
