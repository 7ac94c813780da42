"""Fixtures shared by the integration tests: the Polygon and Tradier doubles (a module may define its own), and for
the dashboard tests one Debian chromium per module and a fresh page per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import small_account

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


@pytest.fixture
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"  # no data watchdog: a quiet double must not force reconnects mid-test
        yield double


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, unmigrated database: SQLite, and an empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    """The Tradier double with one small position, so every risk limit has room for a small order."""
    async with TradierDouble() as double:
        yield small_account(double)


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium; enable the browser tests with "
                    "`sudo apt-get install chromium` (or run `make test` as root, which installs it)")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    require_chromium()
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency")
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


def failed_in_dashboard(message: Any) -> bool:
    """A handler or panel of the dashboard threw (app.js catches it so the others run, and logs it)."""
    return bool(message.type == "error" and message.text.startswith("dashboard:"))


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if failed_in_dashboard(message) else None)
    try:
        yield page
    finally:
        await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
