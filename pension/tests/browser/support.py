"""What the browser tests share besides their fixtures: where artefacts go, a record of what
the page wrote to its console, and a session for a user without going through the login form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Page

from pension.models import User

# Git-ignored (`artifacts/` in .gitignore): CI keeps the directory, nobody commits it.
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "browser"


def save_screenshot(page: Page, name: str) -> Path:
    """The whole page as `artifacts/browser/<name>.png`, replacing an earlier run's."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "-", name) + ".png")
    page.screenshot(path=path, full_page=True)
    return path


@dataclass
class ConsoleLog:
    """Errors a page reported: `console.error` messages (a failed script or stylesheet load
    among them) and uncaught exceptions (`pageerror`)."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console.error: {message.text} ({where})")

    def _page_error(self, error: Error) -> None:
        self.errors.append(f"pageerror: {error.message}")

    def assert_clean(self) -> None:
        assert self.errors == [], "the page reported errors:\n" + "\n".join(self.errors)


def log_in(context: BrowserContext, user: User, base_url: str) -> None:
    """Give the browser a session of `user`, as the login form would; the login form itself
    has its own test."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])
