"""Playwright driving Debian's Chromium (never a downloaded browser) against the app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="needs Debian's chromium (bash .ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser():
    """Chromium for a module's tests (one Playwright per process at a time: per module)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (bash .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def open_app(browser, runtime, *, color_scheme: str = "light", until: str = "body[data-ws=open]"):
    """A fresh page on the app, returned once `until` is there (by default: its WebSocket
    is open)."""
    context = browser.new_context(
        viewport={"width": 1180, "height": 760}, color_scheme=color_scheme
    )
    page = context.new_page()
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector(until, state="attached", timeout=15_000)
    return page
