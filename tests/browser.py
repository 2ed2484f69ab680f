"""Headless Debian Chromium driven by Playwright (never a downloaded browser), with strict page checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GILIRAN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # as the hall PC is started (docs/display.md)
]


def chromium_or_skip() -> str:
    """The Chromium binary; outside CI a machine without it skips browser tests, in CI it fails."""
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


class PageProblems:
    """Collects what a page must never do: fail a request, answer 4xx/5xx, log an error."""

    def __init__(self, page) -> None:
        self.items: list[str] = []
        self.expected: list[str] = []
        page.on("requestfailed", lambda r: self._failed(r))
        page.on("response", lambda r: r.status >= 400 and self.items.append(f"{r.status} {r.url}"))
        page.on("console", lambda m: m.type == "error" and self.items.append(f"console: {m.text} {m.location}"))
        page.on("pageerror", lambda e: self.items.append(f"page error: {e}"))

    def _failed(self, request) -> None:
        # A stream cut when the test closes the page is not a failed resource.
        if "events" not in request.url:
            self.items.append(f"failed {request.url}: {request.failure}")

    def expect(self, fragment: str) -> None:
        """A refusal the test provokes on purpose (its URL contains `fragment`)."""
        self.expected.append(fragment)

    def check(self) -> None:
        unexpected = [item for item in self.items if not any(f in item for f in self.expected)]
        assert unexpected == [], unexpected


def artifact(name: str) -> Path:
    """Where a screenshot goes (tests/artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    path = chromium_or_skip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=FLAGS)
        yield browser
        await browser.close()
