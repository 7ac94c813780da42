"""The dashboard in a real browser: Debian's chromium driven by Playwright against the app under uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from core.domain.events import AlertEvent, AlertMeta
from core.settings import Settings
from tests.conftest import API_KEY

# One browser for the module (launching chromium is the slow part); each test gets its own server and context.
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

SCREENSHOT = Path("/tmp/dashboard.png")

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency: make install")
expect = playwright_api.expect


class LiveServer:
    """The real app under uvicorn on a fixed free 127.0.0.1 port, in the test's event loop; can restart."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self._uvicorn: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self._uvicorn = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self._task = asyncio.create_task(self._uvicorn.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._uvicorn.started:
                if self._task.done():
                    self._task.result()
                    pytest.fail("uvicorn exited before it started")
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._uvicorn is None or self._task is None:
            return
        self._uvicorn.should_exit = True
        async with asyncio.timeout(10):
            await self._task
        self._uvicorn = self._task = None

    def rest(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"X-API-Key": API_KEY}, timeout=5)


@pytest_asyncio.fixture(loop_scope="module")
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    live = LiveServer(create_app(make_settings(risk_eval_sec=0.2), roles=frozenset({"api", "engine"})))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


def tid(page: playwright_api.Page, testid: str) -> playwright_api.Locator:
    return page.get_by_test_id(testid)


async def heartbeats(page: playwright_api.Page) -> int:
    """How many risk heartbeats the page has received (the page's CSP forbids string evaluation)."""
    return int(await tid(page, "risk-last").get_attribute("data-count") or 0)


async def wait_for_new_heartbeats(page: playwright_api.Page, count: int) -> None:
    """Wait until `count` more risk heartbeats have arrived than now."""
    for _ in range(count):
        await expect(tid(page, "risk-last")).not_to_have_attribute("data-count", str(await heartbeats(page)))


async def open_page(page: playwright_api.Page, name: str) -> None:
    """Go to one page of the dashboard through its navigation link, as a trader would."""
    await page.get_by_test_id("nav").get_by_role("link", name=name, exact=True).click()
    await expect(page.get_by_test_id(f"page-{name.lower()}")).to_be_visible()


async def enter_key(page: playwright_api.Page, key: str) -> None:
    await expect(tid(page, "key-gate")).to_be_visible()
    await page.get_by_label("API key").fill(key)
    await tid(page, "key-submit").click()


async def test_dashboard_connects_shows_heartbeat_and_adds_journal_entry(
        server: LiveServer, page: playwright_api.Page) -> None:
    await page.goto(server.url + "/")
    await enter_key(page, API_KEY)
    await expect(tid(page, "key-gate")).to_be_hidden()
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await expect(tid(page, "conn-state")).to_have_text("connected")

    # The risk heartbeat: state unknown with the broker reason, and it keeps arriving (every 0.2 s here).
    await expect(tid(page, "risk-state")).to_have_text("unknown")
    await expect(tid(page, "risk-reasons")).to_contain_text("broker not configured")
    await expect(tid(page, "risk-how")).to_contain_text("TRADIER_ACCESS_TOKEN")
    await expect(tid(page, "risk-badge")).to_have_text("risk: unknown")
    await wait_for_new_heartbeats(page, 2)
    await expect(tid(page, "risk-stale")).to_be_hidden()

    # Each integration with its reason and how to enable it, on the Settings page.
    await open_page(page, "Settings")
    broker = tid(page, "integration-broker")
    await expect(broker).to_have_attribute("data-enabled", "false")
    await expect(broker).to_contain_text("TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID not set")
    await expect(broker).to_contain_text("sandbox = paper account")
    for name in ("market_data", "coach", "discord", "discord_webhook", "slack"):
        await expect(tid(page, f"integration-{name}")).to_be_visible()

    # Add a journal entry through the form on the Journal page; markup in the body stays text.
    await open_page(page, "Journal")
    journal = tid(page, "panel-journal")
    await expect(tid(page, "journal-empty")).to_be_visible()
    await journal.get_by_label("Kind", exact=True).select_option("plan")
    await journal.get_by_label("Symbol", exact=True).fill("spy")
    await journal.get_by_label("Tags", exact=True).fill("Breakout, A+")
    body = "Long over 450 <b>not bold</b> & stop 447"
    await journal.get_by_label("Entry", exact=True).fill(body)
    await tid(page, "journal-submit").click()
    first = tid(page, "journal-entry").first
    await expect(first.get_by_test_id("journal-entry-body")).to_have_text(body)
    await expect(first.get_by_test_id("journal-entry-symbol")).to_have_text("SPY")
    await expect(first.get_by_test_id("journal-entry-kind")).to_have_text("plan")
    await expect(first.locator("b")).to_have_count(0)
    await expect(tid(page, "journal-body")).to_have_value("")

    async with server.rest() as rest:
        items = (await rest.get("/api/v1/journal", params={"symbol": "SPY"})).json()["items"]
    assert [(i["kind"], i["body"], i["tags"]) for i in items] == [("plan", body, ["a+", "breakout"])]
    assert await first.get_attribute("data-id") == items[0]["id"]

    # An API validation error is shown next to the field it concerns; nothing is added.
    await journal.get_by_label("Symbol", exact=True).fill("not a symbol!")
    await journal.get_by_label("Entry", exact=True).fill("second")
    await tid(page, "journal-submit").click()
    await expect(tid(page, "journal-error-symbol")).to_contain_text("is not a valid symbol")
    await expect(journal.get_by_label("Symbol", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(tid(page, "journal-entry")).to_have_count(1)
    await journal.get_by_label("Symbol", exact=True).fill("")
    await journal.get_by_label("Entry", exact=True).fill("")
    await tid(page, "journal-submit").click()
    await expect(tid(page, "journal-error-body")).to_be_visible()
    await expect(tid(page, "journal-error-symbol")).to_be_hidden()

    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    # The key is remembered, and the route is in the URL: a reload opens the same page without asking.
    await page.reload()
    await expect(tid(page, "page-journal")).to_be_visible()
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await expect(tid(page, "key-gate")).to_be_hidden()
    await expect(tid(page, "journal-entry")).to_have_count(1)

    # "Forget key" asks again and removes it from the browser.
    await tid(page, "forget-key").click()
    await expect(tid(page, "key-gate")).to_be_visible()
    assert await page.evaluate("localStorage.length") == 0


async def test_wrong_key_is_shown_and_not_retried(server: LiveServer, page: playwright_api.Page) -> None:
    attempts: list[str] = []
    page.on("websocket", lambda ws: attempts.append(ws.url))
    await page.goto(server.url + "/")
    await enter_key(page, "not-the-key")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "wrong-key")
    await expect(tid(page, "conn-state")).to_have_text("wrong API key")
    await expect(tid(page, "key-gate")).to_be_visible()
    await expect(tid(page, "key-error")).to_contain_text("rejected this API key")
    await page.wait_for_timeout(1500)
    assert len(attempts) <= 1, attempts
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "wrong-key")
    assert "not-the-key" not in await page.content()

    # The right key recovers without a reload.
    await enter_key(page, API_KEY)
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await expect(tid(page, "risk-state")).to_have_text("unknown")


async def test_key_from_url_fragment_is_stored_and_removed_from_address_bar(
        server: LiveServer, page: playwright_api.Page) -> None:
    await page.goto(f"{server.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await expect(tid(page, "key-gate")).to_be_hidden()
    assert page.url == server.url + "/"
    assert await page.evaluate("location.hash") == ""
    assert await page.evaluate("localStorage.getItem('tradeassist.apiKey')") == API_KEY


async def test_journal_load_more_and_stale_heartbeat(server: LiveServer, page: playwright_api.Page) -> None:
    async with server.rest() as rest:
        for i in range(25):
            response = await rest.post("/api/v1/journal", json={"body": f"entry {i}", "symbol": "QQQ"})
            assert response.status_code == 201
    await page.goto(f"{server.url}/#key={API_KEY}")
    await open_page(page, "Journal")
    await expect(tid(page, "journal-entry")).to_have_count(20)
    await expect(tid(page, "journal-entry").first.get_by_test_id("journal-entry-body")).to_have_text("entry 24")
    await tid(page, "journal-more").click()
    await expect(tid(page, "journal-entry")).to_have_count(25)
    await expect(tid(page, "journal-entry").last.get_by_test_id("journal-entry-body")).to_have_text("entry 0")
    await expect(tid(page, "journal-more")).to_be_hidden()

    # Heartbeats stop (the engine task dies): after 3x RISK_EVAL_SEC the dashboard marks the risk state stale.
    await expect(tid(page, "risk-state")).to_have_text("unknown")
    await expect(tid(page, "risk-stale")).to_be_hidden()
    runtime = server.app.state.runtime
    heartbeat = next(task for task in asyncio.all_tasks() if task.get_name() == "heartbeat")
    assert "heartbeat" in runtime.tasks
    heartbeat.cancel()
    await expect(tid(page, "risk-stale")).to_be_visible()
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")


async def test_reconnects_after_the_server_restarts(server: LiveServer, page: playwright_api.Page) -> None:
    await page.goto(f"{server.url}/#key={API_KEY}")
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    await server.stop()
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "reconnecting")
    await expect(tid(page, "conn-detail")).to_contain_text("retry in")
    await server.start()
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected", timeout=20_000)
    await expect(tid(page, "conn-detail")).to_have_text("")
    await wait_for_new_heartbeats(page, 1)
    await expect(tid(page, "risk-stale")).to_be_hidden()


async def test_a_rationale_update_joins_the_card_of_its_alert(server: LiveServer, page: playwright_api.Page) -> None:
    await page.goto(server.url + "/")
    await enter_key(page, API_KEY)
    await expect(tid(page, "conn-state")).to_have_attribute("data-state", "connected")
    bus = server.app.state.runtime.bus
    meta = AlertMeta(kind="crossed", alert_id="a1", trigger_id="t1", actions=())
    await bus.publish(AlertEvent(level="warning", msg="SPY crossed above 450", meta=meta))
    await expect(tid(page, "alert-card")).to_have_count(1)
    await bus.publish(AlertEvent(level="info", msg="SPY: rationale", meta=AlertMeta(
        kind="crossed", alert_id="a1", trigger_id="t1", update="rationale", rationale="Breakout on volume <b>x</b>")))
    await expect(tid(page, "alert-rationale")).to_have_text("Why: Breakout on volume <b>x</b>")
    await expect(tid(page, "alert-card")).to_have_count(1)
    # an update whose card is gone (or never shown) still reaches the trader as its own card
    await bus.publish(AlertEvent(level="info", msg="QQQ: rationale", meta=AlertMeta(
        kind="crossed", alert_id="a2", trigger_id="t2", update="rationale", rationale="Gap fill")))
    await expect(tid(page, "alert-card")).to_have_count(2)
    await expect(tid(page, "alert-rationale").first).to_have_text("Why: Gap fill")
