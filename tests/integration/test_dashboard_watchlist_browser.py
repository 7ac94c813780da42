"""The watchlist panel in headless chromium: live prices from the Polygon double, add/remove, disabled state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import pytest_asyncio

from api.app import create_app
from core.domain.events import StatusEvent
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.integration.test_dashboard_browser import (
    LiveServer,
    tid,
)

SCREENSHOT = Path("/tmp/dashboard-watchlist.png")
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency: make install")
expect = playwright_api.expect


@pytest_asyncio.fixture(loop_scope="module")
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"  # no data watchdog, no time-based staleness: the test controls every tick
        yield double


async def _live(settings: Settings) -> AsyncIterator[LiveServer]:
    live = LiveServer(create_app(settings, roles=frozenset({"api", "engine"})))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def streaming(make_settings: Callable[..., Settings], pg: PolygonDouble) -> AsyncIterator[LiveServer]:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    async for live in _live(make_settings(polygon=polygon, risk_eval_sec=1, price_event_hz=10)):
        yield live


@pytest_asyncio.fixture(loop_scope="module")
async def disabled(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    # a long heartbeat, so a market_data-only status event is not immediately followed by a full one
    async for live in _live(make_settings(polygon=PolygonSettings(api_key=None), risk_eval_sec=30)):
        yield live


def trade(symbol: str, price: float) -> dict[str, Any]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": "1", "z": 3, "p": price, "s": 100, "c": [0],
            "t": time.time_ns() // 1_000_000, "q": 1}


def nbbo(symbol: str, bid: float, ask: float) -> dict[str, Any]:
    return {"ev": "Q", "sym": symbol, "bx": 4, "bp": bid, "bs": 100, "ax": 7, "ap": ask, "as": 160, "c": 0,
            "t": time.time_ns() // 1_000_000, "q": 2, "z": 3}


def row(page: playwright_api.Page, symbol: str) -> playwright_api.Locator:
    return page.locator(f'[data-testid="watch-row"][data-symbol="{symbol}"]')


async def test_live_prices_add_and_remove(streaming: LiveServer, pg: PolygonDouble,
                                          page: playwright_api.Page) -> None:
    await page.goto(f"{streaming.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await expect(tid(page, "watch-row")).to_have_count(2)
    spy = row(page, "SPY")
    await expect(spy).to_have_attribute("data-stale", "true")
    await expect(spy.get_by_test_id("watch-stale")).to_have_text("no data")
    await expect(tid(page, "watchlist-feed-state")).to_have_attribute("data-state", "streaming")
    await expect(tid(page, "watchlist-disabled")).to_be_hidden()
    await pg.wait_until(lambda: {"T.SPY", "T.QQQ"} <= pg.subscriptions, within=10)

    # Ticks from the Polygon socket show up live; markup-looking text never becomes HTML.
    for price in (512.01, 512.2, 512.34):
        await pg.push([trade("SPY", price)])
    await pg.push([nbbo("SPY", 512.3, 512.38)])
    await expect(spy.get_by_test_id("watch-last")).to_have_text("512.34")
    await expect(spy.get_by_test_id("watch-bid")).to_have_text("512.30")
    await expect(spy.get_by_test_id("watch-ask")).to_have_text("512.38")
    await expect(spy).to_have_attribute("data-stale", "false")
    await expect(spy.get_by_test_id("watch-stale")).to_be_hidden()
    # the change is against Polygon's previous close (the double's recorded daily bar closes at 74.3575)
    await expect(spy.get_by_test_id("watch-change")).to_have_text("+437.98 (+589.02%)")
    await expect(spy.get_by_test_id("watch-change")).to_have_attribute("data-dir", "up")
    await expect(row(page, "QQQ").get_by_test_id("watch-last")).to_have_text("—")

    # Add a symbol (lower case is fine): saved in settings, subscribed live on the same socket, then priced.
    await page.get_by_label("Add symbol").fill("aapl")
    await tid(page, "watchlist-add").click()
    await expect(tid(page, "watch-row")).to_have_count(3)
    await pg.wait_until(lambda: "T.AAPL" in pg.subscriptions, within=10)
    await pg.push([trade("AAPL", 190.5)])
    await expect(row(page, "AAPL").get_by_test_id("watch-last")).to_have_text("190.50")

    # Bad input is refused with the server's reason, next to the field.
    await page.get_by_label("Add symbol").fill("$$$")
    await tid(page, "watchlist-add").click()
    await expect(tid(page, "watchlist-error")).to_contain_text("is not a valid symbol")
    await expect(tid(page, "watch-row")).to_have_count(3)

    # Remove one: gone from the table, the settings and the Polygon subscription, still one connection.
    await row(page, "QQQ").get_by_test_id("watch-remove").click()
    await expect(tid(page, "watch-row")).to_have_count(2)
    await pg.wait_until(lambda: "T.QQQ" not in pg.subscriptions, within=10)
    async with streaming.rest() as rest:
        assert (await rest.get("/api/v1/settings")).json()["watchlist"] == ["SPY", "AAPL"]
    assert pg.ws_connects == 1
    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    # A reload paints the last prices from /stream/prices before any new tick arrives.
    await page.reload()
    await expect(row(page, "SPY").get_by_test_id("watch-last")).to_have_text("512.34")
    await expect(row(page, "AAPL").get_by_test_id("watch-last")).to_have_text("190.50")


async def test_disabled_market_data_says_how_to_enable(disabled: LiveServer, page: playwright_api.Page) -> None:
    await page.goto(f"{disabled.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    banner = tid(page, "watchlist-disabled")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("Market data disabled: POLYGON_API_KEY is not set")
    await expect(banner).to_contain_text("restart")
    await expect(tid(page, "watchlist-feed-state")).to_have_text("feed: disabled")
    await expect(tid(page, "watch-row")).to_have_count(2)
    await expect(row(page, "SPY").get_by_test_id("watch-last")).to_have_text("—")  # nothing invented
    await expect(tid(page, "integration-broker")).to_be_attached()

    # A status event that carries only market_data updates that entry and keeps the others (merged, not replaced).
    runtime = disabled.app.state.runtime
    await runtime.bus.publish(StatusEvent(integrations={"market_data": {
        **msgspec.to_builtins(runtime.market.status()), "reason": "injected reason"}}))
    await expect(banner).to_contain_text("injected reason")
    await expect(tid(page, "integration-market_data")).to_contain_text("injected reason")
    await expect(tid(page, "integration-broker")).to_be_attached()
    await expect(tid(page, "integration-slack")).to_be_attached()
