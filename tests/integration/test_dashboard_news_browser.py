"""The News panel in headless chromium: stored watchlist news newest first with sentiment chips, earnings badges
on the panel and the watchlist rows, the calendar that is off named, and a new item on a watched symbol arriving
over /ws at the top of the list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from core.domain.news import ET
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY
from tests.doubles.feeds import FeedHost
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.polygon import fixture as polygon_fixture
from tests.integration.test_dashboard_browser import LiveServer, tid

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency: make install")
expect = playwright_api.expect

UBS_TITLE = "Markets are underestimating Fed cuts: UBS By Investing.com - Investing.com UK"


@pytest_asyncio.fixture(loop_scope="module")
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"
        yield double


@pytest_asyncio.fixture(loop_scope="module")
async def host() -> AsyncIterator[FeedHost]:
    async with FeedHost() as feeds:
        yield feeds


@pytest_asyncio.fixture(loop_scope="module")
async def server(make_settings: Callable[..., Settings], pg: PolygonDouble,
                 host: FeedHost) -> AsyncIterator[LiveServer]:
    tomorrow = (datetime.now(ET) + timedelta(days=1)).date().isoformat()
    example = polygon_fixture("docs_benzinga_earnings.json")["results"][0]
    pg.earnings_rows = [{**example, "ticker": "NVDA", "date": tomorrow, "time": "21:00:00"}]
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    live = LiveServer(create_app(make_settings(polygon=polygon, watchlist=["NVDA", "UBS"], news_poll_sec=0.2,
                                               risk_eval_sec=5), roles=frozenset({"api", "engine"})))
    await live.start()
    try:
        async with live.rest() as rest:
            feeds = [{"label": "Desk Wire", "url": host.url("markets_rss.xml")}]
            assert (await rest.put("/api/v1/settings", json={"news_feeds": feeds})).status_code == 200
            await _stored(rest, 4)
        yield live
    finally:
        await live.stop()


async def _stored(rest: httpx.AsyncClient, count: int) -> None:
    for _ in range(200):
        if len((await rest.get("/api/v1/news")).json()["items"]) >= count:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the news engine did not store {count} items")


async def test_news_panel_shows_watchlist_news_badges_and_a_live_item(server: LiveServer, host: FeedHost,
                                                                      page: playwright_api.Page) -> None:
    await page.goto(f"{server.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    panel = tid(page, "panel-news")
    titles = panel.get_by_test_id("news-title")
    await expect(titles).to_have_text(["NVDA extends rally as data-center orders beat estimates", UBS_TITLE,
                                       f"{UBS_TITLE} (page 2)"])  # newest first; AAPL is not watched
    first_ubs = panel.get_by_test_id("news-item").nth(1)
    await expect(first_ubs.get_by_test_id("news-sentiment")).to_have_text("▲UBS positive")
    await expect(first_ubs.get_by_test_id("news-sentiment")).to_have_attribute("data-sentiment", "positive")
    await expect(first_ubs.get_by_test_id("news-source")).to_have_text("polygon")
    assert await titles.nth(0).get_attribute("href") == \
        "https://desk-wire.example/markets/2026/12/04/nvda-data-center-orders"

    # Earnings: the badge in the panel and on the NVDA watchlist row; the calendar that is off says so.
    await expect(panel.get_by_test_id("news-earnings-badge")).to_contain_text("NVDA ER")
    await expect(panel.get_by_test_id("news-earnings-badge")).to_contain_text("after close")
    nvda_row = page.locator('[data-testid="watch-row"][data-symbol="NVDA"]')
    await expect(nvda_row.get_by_test_id("earnings-badge")).to_contain_text("after close")
    await expect(page.locator('[data-testid="watch-row"][data-symbol="UBS"]').get_by_test_id("earnings-badge")) \
        .to_have_count(0)
    await expect(panel.get_by_test_id("news-earnings-source")).to_contain_text(
        "earnings tradier:calendars off: TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID not set")

    # A new item on a watched symbol: the engine stores it and /ws puts it on top.
    host.add_rss_item("markets_rss.xml", title="NVDA halted pending news", link="https://desk-wire.example/halt",
                      published=datetime.now(UTC) - timedelta(seconds=30))
    await expect(titles.first).to_have_text("NVDA halted pending news")
    await expect(panel.get_by_test_id("news-item").first).to_have_attribute("data-fresh", "true")
    await expect(panel.get_by_test_id("news-item").first.get_by_test_id("news-symbol")).to_have_text("NVDA")
