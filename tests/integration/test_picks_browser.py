"""The Top picks panel in a real browser: cards from GET /picks, factors on hover, a trigger arriving live over
/ws from a trade on the Polygon double, and Take setup opening the order confirm dialog."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from api.app import create_app
from core.domain.setups.session import MINUTE_MS, session_open_ms
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble, fixture
from tests.integration.test_api_market import trade
from tests.integration.test_dashboard_browser import LiveServer
from tests.unit.picks_series import minute_bars
from tests.unit.test_setups import RANGE

SCREENSHOT = Path("/tmp/dashboard-picks.png")
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency: make install")
expect = playwright_api.expect


@pytest_asyncio.fixture(loop_scope="module")
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"  # no data watchdog: the test controls every tick
        yield double


@pytest_asyncio.fixture(loop_scope="module")
async def live(make_settings: Callable[..., Settings], pg: PolygonDouble) -> AsyncIterator[LiveServer]:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    server = LiveServer(create_app(make_settings(polygon=polygon, watchlist=["AAPL", "MSFT"]),
                                   roles=frozenset({"api", "engine"})))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_top_picks_panel_updates_live(live: LiveServer, pg: PolygonDouble, page: playwright_api.Page) -> None:
    engine = live.app.state.runtime.picks_engine
    await engine.ready.wait()
    day = datetime.now(UTC).date()
    now = session_open_ms(day) + 5 * MINUTE_MS + 1_000
    engine.clock = lambda: now
    for symbol, shift in (("AAPL", 0.0), ("MSFT", 300.0)):
        for bar in minute_bars([(o + shift, h + shift, lo + shift, c + shift, v) for o, h, lo, c, v in RANGE],
                               day=day):
            engine.scanner.on_bar(symbol, bar)
    await pg.wait_until(lambda: "T.AAPL" in pg.subscriptions, within=10)
    [recorded] = fixture("docs_benzinga_earnings.json")["results"]
    pg.earnings_rows = [{**recorded, "ticker": "AAPL", "date": (day + timedelta(days=1)).isoformat(),
                         "time": "16:05:00", "date_status": "confirmed"}]

    await page.goto(f"{live.url}/#key={API_KEY}")
    panel = page.locator('[data-testid="panel-picks"]')
    cards = panel.locator('[data-testid="pick-card"]')
    await expect(cards.first).to_be_visible()
    aapl = panel.locator('[data-testid="pick-card"]', has_text="5-min opening range").filter(has_text="AAPL")
    await expect(aapl).to_contain_text("trigger 101.00")
    await expect(aapl).to_contain_text("stop 99.00")
    await expect(aapl.locator('[data-testid="pick-status"]')).to_have_text("forming")
    badge = aapl.locator('[data-testid="pick-earnings"]')
    await expect(badge).to_contain_text(f"ER {(day + timedelta(days=1)).isoformat()[5:]}")
    await expect(badge).to_have_attribute("title", re.compile(r"^AAPL reports \S+ \(confirmed\)$"))
    msft = panel.locator('[data-testid="pick-card"]').filter(has_text="MSFT")
    await expect(msft.first).to_be_visible()
    await expect(msft.locator('[data-testid="pick-earnings"]')).to_have_count(0)  # no release in the window
    await aapl.hover()
    await expect(aapl.locator('[data-testid="pick-factors"]')).to_contain_text("distance to trigger")
    await page.mouse.move(0, 0)
    await panel.screenshot(path=str(SCREENSHOT))

    await pg.push([trade("AAPL", 101.25, now)])
    await expect(aapl.locator('[data-testid="pick-status"]')).to_have_text("triggered")
    await expect(aapl).to_have_attribute("data-status", "triggered")

    await aapl.locator('[data-testid="pick-explain"]').click()
    await expect(panel.locator('[data-testid="picks-status"]')).to_contain_text("coach")
