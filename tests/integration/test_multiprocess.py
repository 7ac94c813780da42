"""The product as docker-compose runs it: `tradeassist api`, `engine`, `discord` and `slack` as four OS processes
on one PostgreSQL and one Redis, all started at once on a fresh database (they migrate it one at a time). The
vendors are the doubles of tests/doubles, served from this test's event loop on 127.0.0.1 ports the children
reach: Polygon (the engine's stream, everyone's REST), the Discord REST API and gateway (the bot's alert cards),
the Slack Web API and a Discord webhook.

What a trader must be able to rely on: an alert created through the API process fires in the engine process and
reaches every channel (the Discord channel, the Slack channel, the Discord webhook, /ws on the API process)
exactly once; and a `kill -9` of the engine in the middle of a burst of fires loses no committed trigger and,
once the engine is restarted, repeats none of them on any channel; and the API process's `/diag/kpis` reports
the KPIs the other processes measure (alert delivery per channel, the engine's data freshness).
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import orjson
import pytest
import websockets

from tests.conftest import REDIS_URL
from tests.doubles.discord_api import ALERT_CHANNEL_ID, DiscordApiDouble
from tests.doubles.discord_gateway import DiscordGatewayDouble
from tests.doubles.discord_webhook import DiscordWebhookDouble
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, SlackDouble
from tests.serve import free_port, tradeassist

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

KEY = "multiprocess-api-key-0123456789abcdef0123"
LEVEL = 1000.0  # above anything the Polygon double serves: every new alert starts armed
ROLES = ("api", "engine", "discord", "slack")
EVERY_CHANNEL = ["ws", "discord", "slack", "discord_webhook"]
_HEX_ID = re.compile(r"[0-9a-f]{32}")


def trade(symbol: str, price: float) -> dict[str, Any]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": "1", "z": 3, "p": price, "s": 100, "c": [0],
            "t": time.time_ns() // 1_000_000, "q": 1}


async def eventually(probe: Callable[[], Awaitable[bool]], what: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        assert time.monotonic() < deadline, f"not within {within:.0f} s: {what}"
        await asyncio.sleep(0.1)


def alert_ids_in(bodies: list[Any], names: dict[str, set[str]]) -> Counter[str]:
    """How many of `bodies` (the JSON a channel received) name each alert of `names` (by its id or one of its
    fires' trigger ids: a Slack card's buttons carry only the trigger id), one count per body."""
    counts: Counter[str] = Counter()
    for body in bodies:
        found = set(_HEX_ID.findall(orjson.dumps(body).decode()))
        counts.update(alert_id for alert_id, ids in names.items() if ids & found)
    return counts


@dataclass
class Deployment:
    """The four processes, the doubles they talk to, and what the test reads: the database and a /ws client."""

    env: dict[str, str]
    cwd: Path
    database: str  # asyncpg DSN of the deployment's database
    pg: PolygonDouble
    discord: DiscordApiDouble
    slack: SlackDouble
    hook: DiscordWebhookDouble
    api: str = ""
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    logs: dict[str, IO[str]] = field(default_factory=dict)
    ws_alerts: list[dict[str, Any]] = field(default_factory=list)  # every `alert` event /ws delivered, in order
    ws_types: set[str] = field(default_factory=set)  # every event type /ws delivered

    def start(self, role: str) -> None:
        port = free_port()
        if role == "api":
            self.api = f"http://127.0.0.1:{port}"
        log = self.logs.get(role) or (self.cwd / f"{role}.log").open("a")
        self.logs[role] = log
        self.processes[role] = tradeassist(role, env={**self.env, "API_PORT": str(port)}, cwd=self.cwd, log=log)

    def kill(self, role: str) -> None:
        process = self.processes.pop(role)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs.values():
            log.close()

    def output(self) -> str:
        return "\n".join(f"--- {role}.log ---\n{(self.cwd / f'{role}.log').read_text()[-3000:]}" for role in ROLES)

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.api, headers={"X-API-Key": KEY}, timeout=10) as http:
            response = await http.request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def create_alerts(self, symbols: list[str], channels: list[str]) -> dict[str, str]:
        """symbol -> alert id, created through the API process."""
        ids = {}
        for symbol in symbols:
            body = await self.request("POST", "/api/v1/alerts", json={
                "symbol": symbol, "condition": "price_above", "level": str(LEVEL), "channels": channels})
            assert body["armed"] is True
            ids[symbol] = body["id"]
        return ids

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database, timeout=5)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def triggers(self, alert_ids: set[str]) -> dict[str, str]:
        """trigger id -> alert id, as committed."""
        rows = await self.fetch("SELECT id, alert_id FROM alert_triggers WHERE alert_id = ANY($1::text[])",
                                list(alert_ids))
        return {row["id"]: row["alert_id"] for row in rows}

    async def deliveries(self, trigger_ids: set[str]) -> list[tuple[str, str, str]]:
        rows = await self.fetch("SELECT trigger_id, channel, status FROM alert_deliveries "
                                "WHERE trigger_id = ANY($1::text[])", list(trigger_ids))
        return [(row["trigger_id"], row["channel"], row["status"]) for row in rows]

    async def all_delivered(self, alert_ids: set[str], channels: int) -> None:
        async def delivered() -> bool:
            rows = await self.deliveries(set(await self.triggers(alert_ids)))
            return len(rows) == len(alert_ids) * channels and all(status == "delivered" for _, _, status in rows)

        await eventually(delivered, "every outbox row is delivered by the process that owns its channel")

    def received(self, alert_ids: set[str]) -> dict[str, Counter[str]]:
        """Per channel, how many cards named each alert."""
        names = {alert_id: {alert_id} for alert_id in alert_ids}
        for event in self.ws_alerts:
            if event["meta"].get("alert_id") in names and event["meta"].get("trigger_id"):
                names[event["meta"]["alert_id"]].add(event["meta"]["trigger_id"])
        return {
            "discord": alert_ids_in([c.json for c in self.discord.find("POST", rf"/channels/{ALERT_CHANNEL_ID}/"
                                                                               r"messages$")], names),
            "slack": alert_ids_in([c.body for c in self.slack.calls_to("chat.postMessage")], names),
            "discord_webhook": alert_ids_in([c.json for c in self.hook.accepted], names),
            "ws": Counter(e["meta"]["alert_id"] for e in self.ws_alerts if e["meta"].get("alert_id") in alert_ids),
        }

    async def cross(self, symbols: list[str], *, pause: float = 0.0) -> None:
        """A trade below the level, then one above it, for each symbol (through the engine's Polygon socket)."""
        for symbol in symbols:
            await self.pg.push([trade(symbol, LEVEL - 1), trade(symbol, LEVEL + 1)])
            if pause:
                await asyncio.sleep(pause)

    async def engine_watches(self, symbols: list[str]) -> None:
        """Wait until the engine process has picked the alerts up and subscribed their trades at Polygon."""
        wanted = {f"T.{symbol}" for symbol in symbols}
        await eventually(lambda: _true(wanted <= self.pg.subscriptions), f"the engine subscribes {sorted(wanted)}")


async def _true(value: bool) -> bool:
    return value


async def _ready(base: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{base}/api/v1/diag/ready", headers={"X-API-Key": KEY})).status_code == 200
    except httpx.TransportError:
        return False


async def _read_ws(deployment: Deployment, connected: asyncio.Event) -> None:
    url = deployment.api.replace("http", "ws") + f"/ws?api_key={KEY}"
    async with websockets.connect(url) as ws:
        connected.set()
        async for raw in ws:
            event = orjson.loads(raw)
            deployment.ws_types.add(event.get("type"))
            if event.get("type") == "alert" and isinstance(event.get("meta"), dict):
                deployment.ws_alerts.append(event)


@asynccontextmanager
async def deployment(postgres_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    """The doubles, then the four processes started together on the fresh database `postgres_url`, a /ws client
    on the API process; everything stopped afterwards (each process's output shown when the test failed)."""
    async with PolygonDouble() as pg, DiscordApiDouble() as discord, DiscordGatewayDouble() as gateway, \
            SlackDouble() as slack, DiscordWebhookDouble() as hook:
        env = {
            "DATABASE_URL": postgres_url, "EVENT_BUS_URL": REDIS_URL.rsplit("/", 1)[0] + f"/{random.randint(1, 15)}",
            "API_KEY": KEY, "VAR_DIR": str(tmp_path / "var"), "LOG_LEVEL": "WARNING", "API_HOST": "127.0.0.1",
            "WATCHLIST": "SPY", "TRADERS": "api",
            "ALERT_POLL_SEC": "1",  # how often the engine looks for alerts the API created
            "POLYGON_API_KEY": POLYGON_KEY, "POLYGON_REST_URL": pg.rest_url, "POLYGON_WS_URL": pg.ws_url,
            "DISCORD_BOT_TOKEN": "test-token", "DISCORD_API_URL": discord.base_url,
            "DISCORD_GATEWAY_URL": gateway.url, "DISCORD_ALERT_CHANNEL_ID": str(ALERT_CHANNEL_ID),
            "DISCORD_WEBHOOK_URL": hook.url,
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "slack-signing-secret-0123456789",
            "SLACK_ALERT_CHANNEL": "C0ALERTS", "SLACK_API_URL": slack.api_url,
        }
        dsn = postgres_url.replace("+asyncpg", "")
        running = Deployment(env, tmp_path, dsn, pg, discord, slack, hook)
        reader: asyncio.Task[None] | None = None
        try:
            for role in ROLES:
                running.start(role)
            await eventually(lambda: _ready(running.api), "the API process is ready", within=40)
            await gateway.wait_identified()
            connected = asyncio.Event()
            reader = asyncio.create_task(_read_ws(running, connected))
            await asyncio.wait_for(connected.wait(), 10)
            yield running
        except BaseException:
            print(running.output())
            raise
        finally:
            if reader is not None:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
            running.stop()


async def test_alerts_cross_processes_to_every_channel_once_and_a_killed_engine_loses_and_repeats_nothing(
        postgres_url: str, tmp_path: Path) -> None:
    async with deployment(postgres_url, tmp_path) as ta:
        await _every_channel_exactly_once(ta)
        await _kpis_add_up_every_process(ta)
        await _kill_9_of_the_engine_mid_burst(ta)


async def _every_channel_exactly_once(ta: Deployment) -> None:
    """Alerts created in the API process fire in the engine process; the Discord bot process, the Slack process,
    the engine (the webhook) and the API process (/ws, through Redis) each deliver every one exactly once."""
    symbols = ["AAPL", "MSFT"]
    ids = await ta.create_alerts(symbols, EVERY_CHANNEL)
    alert_ids = set(ids.values())
    await ta.engine_watches(symbols)

    async def fired() -> bool:
        await ta.cross(symbols)  # again until the engine has seen it: a `once` alert fires only once anyway
        return len(await ta.triggers(alert_ids)) == len(symbols)

    await eventually(fired, "both alerts fire in the engine process")
    await ta.all_delivered(alert_ids, len(EVERY_CHANNEL))
    await ta.cross(symbols)  # still above: nothing fires again
    await asyncio.sleep(2.5)  # two idle polls of every delivery worker: a second card would have gone out by now
    triggers = await ta.triggers(alert_ids)
    assert sorted(triggers.values()) == sorted(alert_ids)  # one trigger per alert
    assert ta.received(alert_ids) == {channel: Counter(alert_ids) for channel in EVERY_CHANNEL}
    assert sorted(e["meta"]["trigger_id"] for e in ta.ws_alerts if e["meta"]["alert_id"] in alert_ids) == \
        sorted(triggers)


async def _kpis_add_up_every_process(ta: Deployment) -> None:
    """Each channel was delivered by another process than the API (Discord, Slack, the engine's webhook and /ws
    publish); every process publishes its KPI window on the bus, so the API reports all of them, and the
    freshness of the symbols the engine streams. Those `metrics` events never reach a /ws client."""
    latest: dict[str, Any] = {}

    async def measured() -> bool:
        latest.update(await ta.request("GET", "/api/v1/diag/kpis"))
        delivery = {k.get("channel"): k for k in latest["kpis"] if k["name"] == "alert_delivery_p95"}
        return all(delivery.get(channel, {}).get("status") == "ok" for channel in EVERY_CHANNEL)

    await eventually(measured, "the API process reports every channel's delivery KPI")
    for kpi in latest["kpis"]:
        if kpi["name"] == "alert_delivery_p95":
            assert 0 < kpi["value"] <= kpi["goal"], kpi
    # the engine's watchlist: the API process streams nothing, so it watches no symbol itself
    assert [row["symbol"] for row in latest["freshness"]] == ["SPY"]
    assert "metrics" not in ta.ws_types and "alert" in ta.ws_types


async def _kill_9_of_the_engine_mid_burst(ta: Deployment) -> None:
    """A burst of fires, `kill -9` of the engine once some are committed, a restart, the same prices again:
    every trigger committed before the kill is still there, every alert has exactly one, and every channel got
    each committed trigger exactly once."""
    symbols = [f"Q{a}{b}" for a in "ABC" for b in "ABCDEFGH"]  # 24 alerts
    # The Discord webhook is posted by the engine process itself: a kill between the webhook's 204 and the commit
    # of `delivered` sends that card again once its lease (60 s) ends, the at-least-once window that
    # core/engines/delivery.py documents. The first half of this test covers that channel.
    channels = ["ws", "discord", "slack"]
    ids = await ta.create_alerts(symbols, channels)
    alert_ids = set(ids.values())
    await ta.engine_watches(symbols)

    await ta.cross(symbols[:12], pause=0.01)
    await eventually(lambda: _at_least(ta.triggers(alert_ids), 3), "the first fires of the burst are committed")
    burst = asyncio.create_task(ta.cross(symbols[12:], pause=0.02))
    await asyncio.sleep(0.05)  # the second half of the burst is on its way
    ta.kill("engine")  # SIGKILL: no drain, no goodbye
    committed = await ta.triggers(alert_ids)
    connects = ta.pg.ws_connects
    await burst
    assert 3 <= len(committed) < len(symbols), "the kill should land mid-burst"

    ta.start("engine")
    pending = [symbol for symbol, alert_id in ids.items() if alert_id not in committed.values()]
    await eventually(lambda: _true(ta.pg.ws_connects > connects), "the restarted engine connects to Polygon")
    await ta.engine_watches(pending)

    async def all_fired() -> bool:
        await ta.cross(pending)
        return len(await ta.triggers(alert_ids)) >= len(symbols)

    await eventually(all_fired, "every alert not committed before the kill fires after the restart")
    await ta.all_delivered(alert_ids, len(channels))
    await asyncio.sleep(2.5)  # two idle polls of every delivery worker: a second card would have gone out by now
    after = await ta.triggers(alert_ids)
    assert committed.items() <= after.items(), "a trigger committed before the kill is gone"
    assert sorted(after.values()) == sorted(alert_ids), "an alert has no trigger, or two"
    received = ta.received(alert_ids)
    assert received["discord"] == received["slack"] == Counter(alert_ids)
    # /ws: every committed trigger once. A fire published in the last milliseconds before the kill and not yet
    # committed was shown on /ws and fires again after the restart with a new trigger id (the crash window that
    # core/engines/alerts.py documents), so an alert may appear there once more under an uncommitted trigger id.
    shown = Counter(e["meta"]["trigger_id"] for e in ta.ws_alerts if e["meta"]["alert_id"] in alert_ids)
    assert {trigger_id: shown[trigger_id] for trigger_id in after} == dict.fromkeys(after, 1)
    assert all(n == 1 for n in shown.values())


async def _at_least(rows: Awaitable[dict[str, str]], n: int) -> bool:
    return len(await rows) >= n
