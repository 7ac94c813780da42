"""Screenshots of the dashboard's main pages for the README, from a run against the local doubles (Polygon, Tradier):
`python -m tests.screenshots [out_dir]` (default docs/screenshots). Needs Debian's chromium at /usr/bin/chromium.

Writes dashboard.png, chart.png, orders.png, health.png (1440x900) and dashboard-phone.png (390x844)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright, expect

from api.app import create_app
from core.settings import PolygonSettings, Settings, TradierSettings
from tests.conftest import API_KEY
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble
from tests.integration.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.integration.orders_helpers import small_account
from tests.integration.test_alert_history import fire
from tests.serve import serve

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def settings(tmp: str, pg: PolygonDouble, tradier: TradierDouble) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp}/tradeassist.db", var_dir=f"{tmp}/var",
        api_key=API_KEY, traders=["api"], allowed_hosts=["127.0.0.1"], risk_eval_sec=1, price_event_hz=10,
        polygon=PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url),  # type: ignore[arg-type]
        tradier=TradierSettings(_env_file=None, access_token=TOKEN, account_id=ACCOUNT,  # type: ignore[call-arg]
                                base_url=tradier.base_url))


def tick(symbol: str, price: float) -> dict[str, Any]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": "1", "z": 3, "p": price, "s": 100, "c": [0],
            "t": time.time_ns() // 1_000_000, "q": 1}


async def seed(url: str, app: Any, pg: PolygonDouble) -> None:
    """What a trader's morning leaves behind: an alert that fired, a journal note, live prices."""
    import httpx

    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": API_KEY}) as rest:
        created = await rest.post("/api/v1/alerts", json={"symbol": "SPY", "condition": "price_above", "level": "510"})
        await rest.post("/api/v1/alerts", json={"symbol": "AAPL", "condition": "price_above", "level": "450"})
        await rest.post("/api/v1/journal", json={"kind": "note", "symbol": "SPY", "body": "Waited for the retest."})
    await fire(app.state.runtime, created.json()["id"], "510.40", datetime.now(UTC))
    await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
    await pg.push([tick("SPY", 512.34), tick("QQQ", 441.20)])


async def shoot(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with PolygonDouble() as pg, TradierDouble() as tradier:
            pg.market = "closed"
            small_account(tradier)
            app = create_app(settings(tmp, pg, tradier), roles=frozenset({"api", "engine"}))
            async with serve(app) as url, async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                desk = await browser.new_page(viewport=DESKTOP)
                await desk.goto(f"{url}/#key={API_KEY}")
                await expect(desk.get_by_test_id("conn-state")).to_have_attribute("data-state", "connected")
                await seed(url, app, pg)
                await expect(desk.get_by_test_id("alert-card")).not_to_have_count(0)
                await expect(desk.get_by_test_id("watch-last").first).not_to_have_text("—")
                await desk.screenshot(path=str(out / "dashboard.png"))

                await desk.goto(f"{url}/#/chart/AAPL")
                await expect(desk.get_by_test_id("chart-canvas")).not_to_have_attribute("data-candles", "0")
                for field, value in (("plan-entry", "440"), ("plan-stop", "430"), ("plan-target0", "460")):
                    await desk.get_by_test_id(field).fill(value)
                await expect(desk.get_by_test_id("plan-next")).to_be_visible()
                await desk.screenshot(path=str(out / "chart.png"))

                await desk.goto(f"{url}/#/orders")
                await expect(desk.get_by_test_id("position-AAPL")).to_be_visible()
                await desk.screenshot(path=str(out / "orders.png"))

                await desk.goto(f"{url}/#/health")
                await expect(desk.get_by_test_id("health-kpi").first).to_be_visible()
                await desk.screenshot(path=str(out / "health.png"))

                phone = await browser.new_page(viewport=PHONE)
                await phone.goto(f"{url}/#key={API_KEY}")
                await expect(phone.get_by_test_id("alert-card")).not_to_have_count(0)
                await phone.screenshot(path=str(out / "dashboard-phone.png"))
                await browser.close()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(target))
