"""Every page of the dashboard in Debian's chromium at desktop (1440x900) and phone (390x844) widths, against the app
with the Polygon and Tradier doubles: routes and deep links, no horizontal scroll on a phone, no `null` /
`undefined` / raw JSON on a page with live data, no serious or critical axe-core violation, the alert history
across a reload, the chart's candles and a plan's levels, the next step after a plan, keyboard shortcuts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from api.app import create_app
from core.domain.events import HealthEvent
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.actions_helpers import stored_fire
from tests.integration.conftest import TIMEOUT_MS, failed_in_dashboard
from tests.integration.orders_helpers import broker_settings, small_account, unthrottled
from tests.integration.test_alert_history import fire
from tests.integration.test_api_chart import tradier_order
from tests.integration.test_dashboard_browser import LiveServer, tid
from tests.integration.test_dashboard_watchlist_browser import trade

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency: make install")
expect = playwright_api.expect

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
PAGES = ["dashboard", "chart", "orders", "alerts", "coach", "journal", "news", "options", "settings", "health"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# Text a trader must never see: a JS null/undefined, NaN, an object dump or a JSON fragment.
LEAKS = re.compile(r"(?<![A-Za-z])(null|undefined|NaN)|\[object Object\]|\{\"|\"\s*:\s*\"")


@pytest_asyncio.fixture(loop_scope="module")
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"  # no data watchdog: the test pushes every tick
        yield double


@pytest_asyncio.fixture(loop_scope="module")
async def tradier_double() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        yield small_account(double)


@pytest_asyncio.fixture(loop_scope="module")
async def desk(make_settings: Callable[..., Settings], pg: PolygonDouble,
               tradier_double: TradierDouble) -> AsyncIterator[LiveServer]:
    """The app as a trader runs it: market data, a paper broker with 2 AAPL, the engines."""
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)  # type: ignore[arg-type]
    settings = broker_settings(make_settings, make_settings().database_url, tradier_double, polygon=polygon,
                               risk_eval_sec=1, price_event_hz=10)
    live = LiveServer(create_app(settings, roles=frozenset({"api", "engine"})))
    await live.start()
    unthrottled(live.app.state.runtime)
    try:
        yield live
    finally:
        await live.stop()


async def new_page(browser: Any, viewport: dict[str, int], *, bypass_csp: bool = False,
                   timezone_id: str | None = None) -> Any:
    """A page of a fresh context; `bypass_csp` only to inject axe-core (the app's CSP forbids inline scripts)."""
    context = await browser.new_context(viewport=viewport, bypass_csp=bypass_csp, timezone_id=timezone_id)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if failed_in_dashboard(message) else None)
    page.errors = errors
    return page


async def close(page: Any) -> None:
    await page.context.close()
    assert not page.errors, f"JavaScript errors on the page: {page.errors}"


async def fire_alert(desk: LiveServer, symbol: str = "SPY", level: str = "500", price: str = "500.25") -> None:
    async with desk.rest() as rest:
        response = await rest.post("/api/v1/alerts", json={"symbol": symbol, "condition": "price_above",
                                                           "level": level, "repeat": "every"})
        assert response.status_code == 201, response.text
    await fire(desk.app.state.runtime, response.json()["id"], price, datetime.now(UTC))


async def goto(page: Any, desk: LiveServer, route: str) -> None:
    await page.goto(f"{desk.url}/#/{route}")
    await expect(tid(page, f"page-{route.split('/', maxsplit=1)[0]}")).to_be_visible()


async def no_horizontal_scroll(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    inner = await page.evaluate("window.innerWidth")
    wide = await page.evaluate("""(inner) => [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > inner + 1 && el.offsetParent !== null
          && !el.parentElement.closest(".table-wrap, .nav ul"))
        .slice(0, 5).map((el) => `${el.tagName}.${el.className} ${el.dataset.testid || ""}`)""", inner)
    assert width <= inner, f"{page.url}: the page is {width}px wide in a {inner}px viewport: {wide}"


async def serious_violations(page: Any) -> list[dict[str, Any]]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE.read_text())
    result: list[dict[str, Any]] = await page.evaluate("""async () => {
        const report = await axe.run(document, { resultTypes: ["violations"] });
        return report.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    }""")
    return result


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_every_page_renders_live_data_without_leaks_scroll_or_serious_a11y_violations(
        desk: LiveServer, pg: PolygonDouble, browser: Any, viewport: dict[str, int]) -> None:
    await fire_alert(desk)
    async with desk.rest() as rest:
        assert (await rest.post("/api/v1/journal", json={"body": "Waited for the retest", "symbol": "SPY"})
                ).status_code == 201
    page = await new_page(browser, viewport, bypass_csp=True)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
    await pg.push([trade("SPY", 512.34)])
    spy = page.locator('[data-testid="watch-row"][data-symbol="SPY"]')
    await expect(spy.get_by_test_id("watch-last")).to_have_text("512.34")
    await expect(tid(page, "alert-card")).not_to_have_count(0)
    await expect(tid(page, "risk-usage-daily_loss")).to_contain_text("daily loss")  # a list of usages, not JSON

    for name in PAGES:
        await goto(page, desk, name)
        await expect(tid(page, "nav").locator(f'[data-route="{name}"]')).to_have_attribute("aria-current", "page")
        await page.wait_for_load_state("networkidle")
        await no_horizontal_scroll(page)
        text = await page.locator("body").inner_text()
        leak = LEAKS.search(text)
        assert leak is None, f"{name}: {leak.group()!r} in {text[max(0, leak.start() - 80):leak.end() + 80]!r}"
        assert await serious_violations(page) == [], name
    await close(page)


async def test_phone_first_screen_has_risk_and_live_alerts_and_thumb_navigation(
        desk: LiveServer, browser: Any) -> None:
    await fire_alert(desk, "QQQ", "400", "401.10")
    page = await new_page(browser, PHONE)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await expect(tid(page, "alert-card")).to_have_count(1)
    for testid in ("risk-banner", "panel-alerts-feed"):
        box = await tid(page, testid).bounding_box()
        assert box is not None and box["y"] < PHONE["height"], f"{testid} is below the first screen: {box}"
    await expect(tid(page, "forget-key")).to_be_in_viewport()
    nav = await tid(page, "nav").bounding_box()  # the page links sit at the bottom, under the thumb
    assert nav is not None and nav["y"] + nav["height"] >= PHONE["height"] - 1
    await tid(page, "nav").get_by_role("link", name="Orders", exact=True).click()
    tile = tid(page, "position-AAPL")
    await expect(tile).to_be_visible()
    for action in ("trim", "close", "stop-be", "hedge"):
        button = tid(page, f"{action}-AAPL")
        await expect(button).to_be_in_viewport()
        box = await button.bounding_box()
        assert box is not None and box["height"] >= 36 and box["x"] + box["width"] <= PHONE["width"]
    await no_horizontal_scroll(page)
    await close(page)


async def test_alert_history_survives_a_reload_with_its_chips(desk: LiveServer, browser: Any) -> None:
    await fire_alert(desk, "SPY", "505", "505.50")
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    card = tid(page, "alert-card").first
    await expect(card.get_by_test_id("alert-msg")).to_have_text("SPY crossed above 505 at 505.50")
    await expect(card.get_by_test_id("alert-chip-dismiss")).to_be_visible()
    await expect(card.get_by_test_id("alert-rationale")).to_have_count(0)  # no rationale: no line, never "null"
    await page.reload()
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    card = tid(page, "alert-card").first
    await expect(card.get_by_test_id("alert-msg")).to_have_text("SPY crossed above 505 at 505.50")
    await expect(card.get_by_test_id("alert-chip-dismiss")).to_be_visible()
    await goto(page, desk, "alerts")
    await expect(tid(page, "history-card").filter(has_text="505.50")).to_have_count(1)
    await expect(tid(page, "alert-row").filter(has_text="SPY")).not_to_have_count(0)
    await close(page)


async def test_chart_draws_candles_levels_and_a_plan_and_offers_the_next_step(
        desk: LiveServer, browser: Any) -> None:
    async with desk.rest() as rest:
        response = await rest.post("/api/v1/alerts", json={"symbol": "AAPL", "condition": "price_above",
                                                           "level": "450"})
        assert response.status_code == 201, response.text
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await goto(page, desk, "chart/AAPL")  # a deep link: the symbol is in the route
    canvas = tid(page, "chart-canvas")
    await expect(canvas).not_to_have_attribute("data-candles", "0")
    assert int(await canvas.get_attribute("data-candles") or 0) > 10
    levels = tid(page, "chart-levels")
    await expect(levels).to_contain_text("Alert above 450.00")
    await expect(levels).to_contain_text("Long 2 avg 400.00")
    await expect(tid(page, "chart-status")).to_contain_text("AAPL")
    drawn = await page.evaluate("""() => [...document.querySelectorAll('[data-testid="chart-canvas"] canvas')]
        .some((c) => { const ctx = c.getContext('2d'); if (!ctx || !c.width || !c.height) return false;
          const px = ctx.getImageData(0, 0, c.width, c.height).data; const first = px.slice(0, 4).join();
          for (let i = 0; i < px.length; i += 4 * 97) if (px.slice(i, i + 4).join() !== first) return true;
          return false; })""")
    assert drawn, "the chart canvas is blank"

    # A plan typed below is drawn on the chart as price lines, and the next step is offered.
    plan = tid(page, "panel-plan")
    await expect(tid(page, "plan-symbol")).to_have_value("AAPL")
    await tid(page, "plan-entry").fill("440")
    await tid(page, "plan-stop").fill("430")
    await tid(page, "plan-target0").fill("460")
    await expect(levels.locator('[data-kind="plan_entry"]')).to_contain_text("440.00")
    await expect(levels.locator('[data-kind="plan_stop"]')).to_contain_text("430.00")
    await expect(levels.locator('[data-kind="plan_target"]')).to_contain_text("460.00")
    lines = int(await canvas.get_attribute("data-lines") or 0)
    assert lines >= 5  # the server's levels plus entry, stop, target
    await expect(tid(page, "plan-next")).to_be_visible()
    await tid(page, "plan-journal").click()
    await expect(tid(page, "plan-next-status")).to_have_text("Saved to the journal.")
    async with desk.rest() as rest:
        items = (await rest.get("/api/v1/journal", params={"kind": "plan"})).json()["items"]
    assert items and items[0]["symbol"] == "AAPL"

    # An invalid long plan (stop above entry) shows the error only: no size, no next step, no plan lines.
    await tid(page, "plan-stop").fill("450")
    await expect(plan.locator('[data-testid^="plan-error-"]:visible').first).to_be_visible()
    await expect(tid(page, "plan-size-qty")).to_have_count(0)
    await expect(tid(page, "plan-next")).to_be_hidden()
    await expect(levels.locator('[data-kind="plan_entry"]')).to_have_count(0)

    # "Set alert at entry" opens the Alerts page with the form prefilled.
    await tid(page, "plan-stop").fill("430")
    await expect(tid(page, "plan-next")).to_be_visible()
    await tid(page, "plan-set-alert").click()
    await expect(tid(page, "page-alerts")).to_be_visible()
    await expect(tid(page, "alert-level")).to_have_value("440")
    await expect(tid(page, "alert-symbol")).to_have_value("AAPL")
    await close(page)


async def test_keyboard_shortcuts_and_help(desk: LiveServer, browser: Any) -> None:
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await expect(tid(page, "page-dashboard")).to_be_visible()
    await page.keyboard.press("g")
    await page.keyboard.press("o")
    await expect(tid(page, "page-orders")).to_be_visible()
    assert page.url.endswith("#/orders")
    await page.keyboard.press("g")
    await page.keyboard.press("h")
    await expect(tid(page, "page-health")).to_be_visible()
    await page.go_back()
    await expect(tid(page, "page-orders")).to_be_visible()
    await page.keyboard.press("?")
    help_dialog = tid(page, "help-dialog")
    await expect(help_dialog).to_be_visible()
    await expect(help_dialog).to_contain_text("go to Chart")
    await page.keyboard.press("Escape")
    await expect(help_dialog).to_be_hidden()
    await close(page)


async def test_coach_says_it_is_disabled_before_anything_is_sent(desk: LiveServer, browser: Any) -> None:
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "coach")
    await expect(tid(page, "coach-disabled")).to_contain_text("The coach is disabled")
    await expect(tid(page, "coach-disabled")).to_contain_text("LLM_BASE_URL")
    await expect(tid(page, "coach-send")).to_be_disabled()
    await close(page)


async def test_settings_show_the_trading_mode_read_only_and_save_a_risk_limit(desk: LiveServer, browser: Any) -> None:
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "settings")
    await expect(tid(page, "settings-mode")).to_contain_text("PAPER")
    await expect(tid(page, "trading-mode")).to_have_text("PAPER trading")
    await expect(tid(page, "settings-mode").locator("input, select, button")).to_have_count(0)
    await expect(tid(page, "integration-broker")).to_have_attribute("data-enabled", "true")
    await expect(tid(page, "integration-coach")).to_contain_text("How to enable")

    field = tid(page, "settings-risk-max_trades_per_day")
    await field.fill("0")
    await tid(page, "settings-risk-save").click()
    await expect(field).to_have_attribute("aria-invalid", "true")
    await field.fill("7")
    await tid(page, "settings-risk-save").click()
    await expect(tid(page, "settings-risk-result")).to_have_text("Saved.")

    await tid(page, "routing-discord-info").uncheck()
    await expect(tid(page, "routing-ws-news")).to_have_count(0)  # /ws always carries news: no box to untick
    await expect(tid(page, "routing-ws-news-fixed")).to_contain_text("/ws always carries news")
    await expect(tid(page, "routing-slack-news")).not_to_be_checked()
    await tid(page, "routing-slack-news").check()
    await tid(page, "settings-routing-save").click()
    await expect(tid(page, "settings-routing-result")).to_have_text("Saved.")
    await tid(page, "settings-watchlist-watchlist").fill("spy, qqq, msft")
    await tid(page, "settings-watchlist-save").click()
    await expect(tid(page, "settings-watchlist-result")).to_have_text("Saved.")
    await tid(page, "settings-news-news_feeds").fill("no comma here")
    await tid(page, "settings-news-save").click()
    await expect(tid(page, "settings-news-result")).to_contain_text("write the label, a comma, then the URL")
    async with desk.rest() as rest:
        saved = (await rest.get("/api/v1/settings")).json()
    assert saved["risk"]["max_trades_per_day"] == 7 and saved["watchlist"] == ["SPY", "QQQ", "MSFT"]
    assert "info" not in saved["alert_types"]["discord"] and "info" in saved["alert_types"]["ws"]
    assert "news" in saved["alert_types"]["slack"] and "news" not in saved["alert_types"]["ws"]
    assert saved["news_feeds"] == []
    await goto(page, desk, "dashboard")  # the watchlist follows
    await expect(tid(page, "watch-row")).to_have_count(3)
    await close(page)


async def test_health_page_shows_the_kpis_and_a_breach_reaches_the_risk_banner(
        desk: LiveServer, browser: Any) -> None:
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "health")
    kpis = tid(page, "health-kpi")
    for name in ("ws_uptime", "quote_latency_p95", "alert_delivery_p95", "plan_compute_p95", "api_error_rate"):
        await expect(kpis.and_(page.locator(f'[data-name="{name}"]')).first).to_be_visible()
    await expect(page.locator('[data-testid="health-kpi"][data-name="api_error_rate"]')).to_contain_text("goal 1 %")
    await expect(page.locator('[data-testid="health-fresh-row"][data-symbol="SPY"]')).to_be_visible()
    await expect(tid(page, "health-integration-broker")).to_have_attribute("data-enabled", "true")
    await expect(tid(page, "health-integration-coach")).to_contain_text("How to enable")

    bus = desk.app.state.runtime.bus
    await bus.publish(HealthEvent(kpi="quote_latency_p95", status="breach", value=2400.0, goal=1500.0,
                                  msg="Quote latency p95 2400 ms is over its 1500 ms goal"))
    breach = tid(page, "risk-health-breach")
    await expect(breach).to_have_text("Quote latency p95 2400 ms is over its 1500 ms goal")
    await goto(page, desk, "dashboard")  # the banner is on every page
    await expect(breach).to_be_visible()
    await bus.publish(HealthEvent(kpi="quote_latency_p95", status="ok", value=900.0, goal=1500.0,
                                  msg="Quote latency p95 back under its goal"))
    await expect(breach).to_have_count(0)
    await close(page)


async def test_orders_page_modify_and_cancel_open_the_confirm_dialog_in_words(
        desk: LiveServer, tradier_double: TradierDouble, browser: Any) -> None:
    tradier_double.orders["2001"] = tradier_order(2001, side="sell", type="stop", status="open", stop_price=395.5)
    async with desk.rest() as rest:  # the position came from a plan: its tile shows the R at the last price
        plan = {"side": "long", "entry": "400", "stop": "390", "targets": ["420"]}
        assert (await rest.post("/api/v1/journal", json={"kind": "plan", "body": "AAPL base", "symbol": "AAPL",
                                                         "plan": plan})).status_code == 201
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "orders")
    tile = tid(page, "position-AAPL")
    await expect(tile).to_contain_text("2 @ 400.00")  # "2", never "2.000000"
    await expect(tile.get_by_test_id("position-r")).to_have_text("+3.89R")  # (438.89 - 400) / (400 - 390)
    await expect(tid(page, "orders-mode")).to_have_text("PAPER")
    row = tid(page, "order-2001")
    await expect(row).to_contain_text("stop 395.50")

    await tid(page, "modify-2001").click()
    await tid(page, "modify-form").get_by_label("Stop price").fill("397")
    await tid(page, "modify-submit").click()
    dialog = tid(page, "order-dialog")
    await expect(dialog).to_be_visible()
    await expect(tid(page, "order-dialog-order")).to_contain_text("Modify order #2001")
    await expect(tid(page, "order-dialog-risk")).to_contain_text("approved")
    await expect(tid(page, "order-dialog-mode")).to_have_text("PAPER")
    assert not LEAKS.search(await dialog.inner_text())
    await tid(page, "order-cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(tid(page, "orders-message")).to_have_text("Cancelled: nothing was sent.")

    await tid(page, "cancel-2001").click()
    await expect(tid(page, "order-dialog-order")).to_contain_text("Cancel order #2001: Sell 2 AAPL stop")
    await tid(page, "order-confirm").click()
    await expect(dialog).to_be_hidden()
    await expect(tid(page, "orders-message")).to_contain_text("Order")
    await close(page)


async def test_chips_tiles_and_plans_run_by_reference_and_confirm_shows_the_bracket(
        desk: LiveServer, tradier_double: TradierDouble, browser: Any) -> None:
    fired = await stored_fire(desk.app.state.runtime, "MSFT", "price_above", "35.00", "35.47")
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    card = tid(page, "alert-card").filter(has_text="MSFT")  # from the trigger history: its chips work after a reload
    await expect(card).to_have_attribute("data-trigger-id", fired["trigger_id"])
    await card.get_by_test_id("alert-chip-setup").click()
    dialog = tid(page, "order-dialog")
    await expect(dialog).to_be_visible()
    await expect(tid(page, "bracket-entry")).to_have_text("35.47")
    await expect(tid(page, "bracket-stop")).to_have_text("34.65")
    await expect(tid(page, "bracket-target")).to_have_text("37.11")
    await expect(tid(page, "bracket-quantity")).to_have_text(re.compile(r"^\d+$"))
    await expect(tid(page, "bracket-one-r")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    await expect(tid(page, "order-dialog-risk")).to_contain_text("approved")
    assert not LEAKS.search(await dialog.inner_text())
    assert tradier_double.orders == {}  # nothing is sent before Confirm
    await tid(page, "order-confirm").click()
    await expect(dialog).to_be_hidden()
    await expect(card.get_by_test_id("alert-chip-status")).to_contain_text("1R = $")
    assert len(tradier_double.orders) == 1

    await goto(page, desk, "orders")
    await tid(page, "close-AAPL").click()
    await expect(tid(page, "order-dialog-order")).to_have_text(re.compile(r"^Sell 2 AAPL market"))
    await expect(tid(page, "order-dialog-risk")).to_contain_text("reduces an open position")
    await tid(page, "order-cancel").click()
    await expect(dialog).to_be_hidden()

    await goto(page, desk, "chart/MSFT")
    await tid(page, "plan-entry").fill("35.4")
    await tid(page, "plan-stop").fill("34.9")
    await tid(page, "plan-take").click()
    await expect(tid(page, "bracket-target")).to_have_text("none")
    await expect(tid(page, "bracket-stop")).to_have_text("34.90")
    await tid(page, "order-cancel").click()
    await expect(dialog).to_be_hidden()
    assert len(tradier_double.orders) == 1
    await close(page)


async def test_journal_attaches_the_plan_edits_in_place_and_exports(desk: LiveServer, browser: Any) -> None:
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "chart/AAPL")
    await tid(page, "plan-entry").fill("440")
    await tid(page, "plan-stop").fill("430")
    await tid(page, "plan-target0").fill("460")
    await expect(tid(page, "plan-next")).to_be_visible()

    await goto(page, desk, "journal")
    journal = tid(page, "panel-journal")
    await tid(page, "journal-attach-plan").click()
    await expect(tid(page, "journal-attached")).to_contain_text("plan long AAPL entry 440 stop 430")
    await journal.get_by_label("Entry", exact=True).fill("Reclaim of 440, stop under the range")
    await tid(page, "journal-submit").click()
    entry = tid(page, "journal-entry").first
    await expect(entry.get_by_test_id("journal-entry-plan")).to_have_text(
        "Plan: long AAPL entry 440 stop 430 targets 460")

    await entry.get_by_test_id("journal-edit").click()
    await tid(page, "journal-edit-body").fill("Reclaim of 440; took half at 450")
    await tid(page, "journal-edit-save").click()
    await expect(tid(page, "journal-entry").first.get_by_test_id("journal-entry-body")).to_have_text(
        "Reclaim of 440; took half at 450")
    async with desk.rest() as rest:
        [stored] = (await rest.get("/api/v1/journal")).json()["items"]
    assert stored["body"] == "Reclaim of 440; took half at 450" and stored["plan"]["entry"] == "440"

    async with page.expect_download() as download_info:
        await tid(page, "journal-export-csv").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    exported = await asyncio.to_thread(Path(await download.path()).read_text)
    assert "took half at 450" in exported
    await close(page)


async def test_alerts_page_creates_edits_with_expiry_and_shows_field_errors(desk: LiveServer, browser: Any) -> None:
    page = await new_page(browser, PHONE, timezone_id="America/New_York")  # expiry typed and shown in local time
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "alerts")
    await tid(page, "alert-symbol").fill("QQQ")
    await tid(page, "alert-level").fill("not a price")
    await tid(page, "alert-submit").click()
    await expect(tid(page, "alert-level")).to_have_attribute("aria-invalid", "true")
    await expect(tid(page, "alert-error-level")).not_to_have_text("")

    await tid(page, "alert-level").fill("450")
    await tid(page, "alert-expires").fill("2099-01-02T15:30")
    await tid(page, "alert-submit").click()
    await expect(tid(page, "alert-form-status")).to_contain_text("Created.")
    row = tid(page, "alert-row").filter(has_text="QQQ")
    await expect(row).to_contain_text("450.00")
    await expect(row).to_contain_text("2099-01-02 15:30")
    async with desk.rest() as rest:
        [stored] = (await rest.get("/api/v1/alerts", params={"status": "active"})).json()["items"]
    assert stored["expires_at"].startswith("2099-01-02T20:30")  # 15:30 in New York, stored in UTC

    await row.get_by_test_id("alert-edit").click()
    await expect(tid(page, "alert-level")).to_have_value("450.00")
    await expect(tid(page, "alert-expires")).to_have_value("2099-01-02T15:30")  # local time, both ways
    await tid(page, "alert-level").fill("455")
    await tid(page, "alert-submit").click()
    await expect(tid(page, "alert-form-status")).to_contain_text("Saved.")
    await expect(tid(page, "alert-row").filter(has_text="QQQ")).to_contain_text("455.00")
    await no_horizontal_scroll(page)
    await close(page)


async def test_the_chart_folds_live_prices_into_its_last_candle(
        desk: LiveServer, pg: PolygonDouble, browser: Any) -> None:
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "chart/SPY")
    canvas = tid(page, "chart-canvas")
    await expect(canvas).not_to_have_attribute("data-candles", "0")
    before = int(await canvas.get_attribute("data-candles") or 0)
    await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
    await pg.push([trade("SPY", 512.34)])
    await expect(canvas).to_have_attribute("data-last", "512.34")
    await pg.push([trade("SPY", 512.9)])
    await expect(canvas).to_have_attribute("data-last", "512.9")
    after = int(await canvas.get_attribute("data-candles") or 0)
    assert before <= after <= before + 2  # folded into the last candle, or a new minute's first candle
    await close(page)


async def test_a_hedge_shows_its_dollar_effect_before_confirm(
        desk: LiveServer, tradier_double: TradierDouble, browser: Any) -> None:
    desk.app.state.runtime.options.clock = lambda: datetime(2013, 6, 3, 15, tzinfo=UTC)  # the recorded chains
    tradier_double.positions = [{"cost_basis": 80000.0, "date_acquired": "2024-06-03T14:41:11.405Z", "id": 1,
                                 "quantity": 200.0, "symbol": "AAPL"}]  # a hedge covers 100 shares or more
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "orders")
    await tid(page, "hedge-AAPL").click()
    effect = tid(page, "order-dialog-effect")
    await expect(effect).to_have_text(re.compile(r"^[^:]+: [-+]?\$[\d,]+\.\d\d"))  # "label: -$440.00 — detail"
    assert not LEAKS.search(await tid(page, "order-dialog").inner_text())
    await tid(page, "order-cancel").click()
    await expect(tid(page, "order-dialog")).to_be_hidden()
    assert tradier_double.orders == {}
    await close(page)


async def test_a_roll_shows_its_net_debit_before_confirm_and_places_one_multileg_order(
        desk: LiveServer, tradier_double: TradierDouble, browser: Any) -> None:
    later = [(date.today() + timedelta(days=days)).isoformat() for days in (7, 45)]
    held = f"AAPL{later[0][2:4]}{later[0][5:7]}{later[0][8:10]}C00150000"
    tradier_double.positions = [{"cost_basis": 300.0, "date_acquired": "2024-06-03T14:41:11.405Z", "id": 2,
                                 "quantity": 1.0, "symbol": held}]
    tradier_double.quotes[held] = {**tradier_double.quotes["AAPL"], "symbol": held, "last": 3.0, "bid": 2.9,
                                   "ask": 3.1}
    tradier_double.expirations = later  # the roll buys the same strike one expiration out (the double's chain)
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{desk.url}/#key={API_KEY}")
    await goto(page, desk, "orders")
    await expect(tid(page, f"hedge-{held}")).to_have_count(0)  # an option is rolled, not hedged
    await tid(page, f"roll-{held}").click()
    dialog = tid(page, "order-dialog")
    await expect(dialog).to_be_visible()
    # sell the held call at its chain bid 2.10, buy the next expiration's 150 call at its ask 2.20
    await expect(tid(page, "order-dialog-effect")).to_have_text(
        "Roll: -$10.00 — net debit 0.10 x 100 x 1 contract(s) = $10.00 paid")
    await expect(tid(page, "order-dialog-order")).to_contain_text(held)
    assert not LEAKS.search(await dialog.inner_text())
    assert tradier_double.orders == {}  # nothing is sent before Confirm
    await tid(page, "order-confirm").click()
    await expect(dialog).to_be_hidden()
    [order] = tradier_double.orders.values()
    assert order["class"] == "multileg"
    await close(page)
