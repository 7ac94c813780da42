"""The Options panel in headless chromium against the Tradier double: expirations, the chain with greeks, the
screen, and an express-plan candidate taken through the confirm dialog (the double receives the option order)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from api.app import create_app
from core.settings import Settings
from tests.conftest import API_KEY
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, placed, small_account, unthrottled
from tests.integration.test_dashboard_browser import LiveServer, open_page, tid

SCREENSHOT = Path("/tmp/dashboard-options.png")
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency: make install")
expect = playwright_api.expect


@pytest_asyncio.fixture(loop_scope="module")
async def tradier_double() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        yield small_account(double)


@pytest_asyncio.fixture(loop_scope="module")
async def server(make_settings: Callable[..., Settings], tradier_double: TradierDouble) -> AsyncIterator[LiveServer]:
    settings = broker_settings(make_settings, make_settings().database_url, tradier_double, risk_eval_sec=30)
    live = LiveServer(create_app(settings, roles=frozenset({"api"})))
    await live.start()
    runtime = unthrottled(live.app.state.runtime)
    runtime.options.clock = lambda: datetime(2013, 6, 3, 15, tzinfo=UTC)  # the recorded expirations are 2013
    try:
        yield live
    finally:
        await live.stop()


async def test_chain_screen_and_take_an_express_candidate(server: LiveServer, tradier_double: TradierDouble,
                                                          page: playwright_api.Page) -> None:
    await page.goto(f"{server.url}/#key={API_KEY}")
    await open_page(page, "Options")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await tid(page, "opt-symbol").fill("aapl")
    await tid(page, "opt-load").click()
    await expect(tid(page, "opt-expiration").locator("option")).to_have_count(12)
    rows = tid(page, "opt-chain-body").locator("tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first.get_by_test_id("opt-delta")).to_have_text("0.520")
    await expect(tid(page, "opt-status")).to_contain_text("AAPL 2013-06-07 · underlying 438.89 · tradier")

    await tid(page, "opt-type").select_option("call")
    await tid(page, "opt-dte_max").fill("12")
    await tid(page, "opt-screen-run").click()
    await expect(tid(page, "opt-screen-hit")).to_have_count(2)
    await expect(tid(page, "opt-screen-hit").first).to_contain_text("AAPL130607C00150000")

    await tid(page, "opt-entry").fill("438.89")
    await tid(page, "opt-stop").fill("436.89")
    await tid(page, "opt-targets").fill("442.89")
    await tid(page, "opt-express_dte_max").fill("5")
    await tid(page, "opt-structure").select_option("single")
    await tid(page, "opt-express-run").click()
    await expect(tid(page, "opt-candidate")).to_have_count(1)
    await expect(tid(page, "opt-candidate-numbers")).to_contain_text("1 contracts · risk at stop $96.00")
    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    await tid(page, "opt-take-0").click()
    await expect(tid(page, "order-dialog")).to_be_visible()
    await expect(tid(page, "order-dialog-risk")).to_contain_text("approved")
    await tid(page, "order-confirm").click()
    await expect(tid(page, "order-dialog")).to_be_hidden()
    [sent] = placed(tradier_double)
    assert sent["class"] == "option" and sent["option_symbol"] == "AAPL130607C00150000"

    # a protective put for 200 shares: its dollar effect shown, then the same confirm dialog
    tradier_double.positions = [{"cost_basis": 80000.0, "date_acquired": "2013-05-01T14:41:11.405Z", "id": 1,
                                 "quantity": 200.0, "symbol": "AAPL"}]
    await tid(page, "opt-hedge-run").click()
    await expect(tid(page, "opt-hedge-result")).to_contain_text("2 x AAPL130705P00150000 at 2.20: costs $440.00")
    await expect(tid(page, "order-dialog")).to_be_visible()
    await tid(page, "order-cancel").click()
    await expect(tid(page, "order-dialog")).to_be_hidden()
    assert len(placed(tradier_double)) == 1
