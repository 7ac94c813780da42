"""Discord bot: interaction received -> first response p99 < 200 ms; alert event -> channel message p95 < 100 ms.

A real TradeBot (build_discord_bot, logged in over REST to the local fake Discord API, no gateway) over a Runtime
with the engine and discord roles on SQLite, the Tradier and Polygon doubles behind the core, all in this process
(the offline recipe of tests/integration/test_discord_bot.py). Raw interaction payloads are injected into
discord.py's ConnectionState at a steady BENCH_BOT_RATE per second (default 20; BENCH_BOT_INTERACTIONS in all,
default 400), cycling /status, /quote, /risk and a position's Trim button; latency is from just before the
injection to the interaction callback (the ack or defer) recorded at the fake (both time.monotonic).
Then BENCH_BOT_ALERTS alerts (default 150, channels ws + discord) are crossed on the AlertEngine's tick hook, one
every 50 ms: latency is from the `alert` event reaching a bus subscriber to the card's POST to
DISCORD_ALERT_CHANNEL_ID at the fake (the delivery engine's outbox worker -> DiscordAlertNotifier).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

from bench._bots import POLLER_OFF_SEC, alert_post_latency, figures
from bench._server import percentile
from bots.discord import TradeBot, build_discord_bot
from core.runtime import Runtime
from core.settings import DiscordSettings, PolygonSettings, Settings, TradierSettings
from tests.doubles.discord_api import ALERT_CHANNEL_ID, APP_ID, GUILD_ID, DiscordApiDouble, button_click, slash
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble
from tests.integration.orders_helpers import small_account, unthrottled

RATE = float(os.environ.get("BENCH_BOT_RATE", "20"))
INTERACTIONS = int(os.environ.get("BENCH_BOT_INTERACTIONS", "400"))
ALERTS = int(os.environ.get("BENCH_BOT_ALERTS", "150"))
WARMUP = 12
ACK_GOAL_MS = 200.0
ALERT_GOAL_MS = 100.0
TRADER = 1
ANSWERED_AT_ONCE = "/status"
_CALLBACK = re.compile(r"^/interactions/(\d+)/[^/]+/callback$")
_FOLLOWUP = re.compile(rf"^/webhooks/{APP_ID}/([^/]+)$")

Payload = dict[str, Any]


def _settings(tmp: str, api: DiscordApiDouble, tradier: TradierDouble, pg: PolygonDouble) -> Settings:
    return Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", var_dir=tmp,
        traders=[f"discord:{TRADER}"], log_level="WARNING", alert_poll_sec=POLLER_OFF_SEC,
        tradier=TradierSettings(_env_file=None, access_token=TOKEN, account_id=ACCOUNT, base_url=tradier.base_url),
        polygon=PolygonSettings(_env_file=None, api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url),
        discord=DiscordSettings(_env_file=None, bot_token="bench-token", guild_ids=[GUILD_ID],
                                alert_channel_id=ALERT_CHANNEL_ID, api_url=api.base_url,
                                gateway_url="ws://127.0.0.1:9/"))


def _mix(position_message: Payload) -> list[tuple[str, Callable[[], Payload]]]:
    """The interactions cycled through: /status answers at once, the others defer and follow up."""
    return [(ANSWERED_AT_ONCE, lambda: slash("status", user_id=TRADER)),
            ("/quote", lambda: slash("quote", {"symbol": "AAPL"}, user_id=TRADER)),
            ("/risk", lambda: slash("risk", user_id=TRADER)),
            ("Trim button", lambda: button_click("pos:trim:AAPL", position_message, user_id=TRADER))]


def _receive(bot: TradeBot, payload: Payload) -> None:
    """What the gateway reader does with an INTERACTION_CREATE: discord.py parses and dispatches it."""
    bot._connection.parse_interaction_create(cast(Any, payload))


def _first_calls(api: DiscordApiDouble) -> tuple[dict[str, float], dict[str, float]]:
    """(interaction id -> when the fake recorded its first callback, token -> when it recorded its first
    followup message)."""
    acks: dict[str, float] = {}
    followups: dict[str, float] = {}
    for call in list(api.calls):
        if call.method != "POST":
            continue
        if match := _CALLBACK.match(call.path):
            acks.setdefault(match[1], call.at)
        elif match := _FOLLOWUP.match(call.path):
            followups.setdefault(match[1], call.at)
    return acks, followups


async def _inject(bot: TradeBot, api: DiscordApiDouble, payloads: list[tuple[str, Payload]],
                  rate: float) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Inject at a steady `rate`, then wait for every ack and followup; per kind, the ms from injection to the
    first callback (the ack) and to the first followup message at the fake."""
    sent: list[tuple[str, Payload, float]] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, (kind, payload) in enumerate(payloads):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        at = time.monotonic()
        _receive(bot, payload)
        sent.append((kind, payload, at))
    ids = {p["id"] for _, p, _ in sent}
    tokens = {p["token"] for kind, p, _ in sent if kind != ANSWERED_AT_ONCE}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        acks, followups = _first_calls(api)
        if ids <= acks.keys() and tokens <= followups.keys():
            break
        await asyncio.sleep(0.05)
    ack_ms: dict[str, list[float]] = {}
    followup_ms: dict[str, list[float]] = {}
    for kind, payload, at in sent:
        if payload["id"] in acks:
            ack_ms.setdefault(kind, []).append((acks[payload["id"]] - at) * 1000)
        if payload["token"] in followups:
            followup_ms.setdefault(kind, []).append((followups[payload["token"]] - at) * 1000)
    return ack_ms, followup_ms


async def _position_message(bot: TradeBot, api: DiscordApiDouble) -> Payload:
    """The /positions card (with its Trim / Close / Stop to BE buttons) as the fake stored it."""
    listed = slash("positions", user_id=TRADER)
    _receive(bot, listed)
    [followup] = await api.wait_for(lambda: api.followups(listed), within=30)
    message: Payload = followup.answer
    return message


async def _acks(bot: TradeBot, api: DiscordApiDouble) -> bool:
    mix = _mix(await _position_message(bot, api))
    await _inject(bot, api, [(kind, make()) for kind, make in mix * (WARMUP // len(mix))], RATE)
    payloads = [(mix[n % len(mix)][0], mix[n % len(mix)][1]()) for n in range(INTERACTIONS)]
    started, cpu = time.monotonic(), time.process_time()
    ack_ms, followup_ms = await _inject(bot, api, payloads, RATE)
    cpu = time.process_time() - cpu
    print(f"{INTERACTIONS} interactions at {RATE:.0f}/s, waited for over {time.monotonic() - started:.1f} s; "
          f"mix: {', '.join(kind for kind, _ in mix)}; process CPU {cpu / INTERACTIONS * 1000:.1f} ms per "
          f"interaction (bot, core and the doubles)")
    sent = Counter(kind for kind, _ in payloads)
    for kind, _ in mix:
        figures(f"  {kind:<12} ack", ack_ms.get(kind, []), goal_pct=99, goal_ms=ACK_GOAL_MS, expected=sent[kind])
    followups = [ms for samples in followup_ms.values() for ms in samples]
    if followups:
        print(f"  (context, no goal) received -> followup message: p50 {percentile(followups, 50):.0f} ms, "
              f"p95 {percentile(followups, 95):.0f} ms, {len(followups)} of {INTERACTIONS - sent[ANSWERED_AT_ONCE]}; "
              "p95 by kind: " + ", ".join(f"{kind} {percentile(ms, 95):.0f} ms" for kind, ms in followup_ms.items()))
    everything = [ms for samples in ack_ms.values() for ms in samples]
    return figures("received -> first response (all)", everything, goal_pct=99, goal_ms=ACK_GOAL_MS,
                   expected=INTERACTIONS)


async def _alerts(rt: Runtime, api: DiscordApiDouble) -> bool:
    channel = f"/channels/{ALERT_CHANNEL_ID}/messages"

    def posts() -> list[tuple[float, Any]]:
        return [(c.at, c.json) for c in api.calls if c.method == "POST" and c.path == channel]

    alert_ms = await alert_post_latency(rt, "discord", posts, fires=ALERTS, interval_sec=0.05)
    return figures("alert event -> channel message POST", alert_ms, goal_pct=95, goal_ms=ALERT_GOAL_MS,
                   expected=ALERTS)


async def _run() -> bool:
    async with DiscordApiDouble() as api, TradierDouble() as tradier, PolygonDouble() as pg:
        small_account(tradier).allowed = 1_000_000  # Tradier's 120/minute would stall the followups, not the acks
        pg.market = "closed"
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(tmp, api, tradier, pg)
            async with Runtime(settings, roles={"engine", "discord"}) as rt:
                unthrottled(rt)  # likewise the client's own Tradier budget (~2/s)
                bot = build_discord_bot(rt, settings)
                await bot.login("bench-token")  # REST only (the fake); runs setup_hook; no gateway connection
                try:
                    acks_ok = await _acks(bot, api)
                    return await _alerts(rt, api) and acks_ok
                finally:
                    await bot.close()


def main() -> bool:
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
