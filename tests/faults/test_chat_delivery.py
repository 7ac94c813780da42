"""Fault 12 of the reliability test plan: Discord and Slack answer 429 and 5xx while alerts are delivered. One
API + engine + Slack process (as `tradeassist run` composes it) with the Discord bot logged in, over the
Polygon, Discord REST, Slack and Discord webhook doubles."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import discord
import orjson
import pytest

from core.runtime import Runtime
from core.settings import DiscordSettings, Settings, SlackSettings
from tests.doubles.discord_api import ALERT_CHANNEL_ID, DiscordApiDouble
from tests.doubles.discord_webhook import DiscordWebhookDouble
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, SlackDouble
from tests.integration.discord.rig import logged_in
from tests.integration.slack.rig import CHANNEL, SECRET, runtime_of
from tests.integration.slack.rig import running as slack_app
from tests.integration.test_alert_pipeline import next_alert, trade

_HEX_ID = re.compile(r"[0-9a-f]{32}")
FAILURES = 2  # each channel's first two posts fail: a 429 with a retry hint, then a 5xx


def _named(bodies: list[Any], fires: dict[str, set[str]]) -> Counter[str]:
    """How many bodies name each alert, by its id or its fire's trigger id (a Slack card's buttons carry only
    the trigger id)."""
    counts: Counter[str] = Counter()
    for body in bodies:
        found = set(_HEX_ID.findall(orjson.dumps(body).decode()))
        counts.update(alert_id for alert_id, names in fires.items() if names & found)
    return counts


async def test_fault_12_discord_and_slack_429_and_5xx_on_delivery_each_alert_reaches_each_channel_once(
        make: Callable[..., Settings], pg: PolygonDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault 12: every chat channel (the Discord bot's channel, the Slack channel, the Discord webhook) refuses
    its first posts with 429, then 5xx. Ingestion is unaffected (both alerts are published at once, whatever the
    channels do); each channel then gets each alert exactly once, from the outbox, and every row ends
    `delivered`."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)  # the bot repoints these globals
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    async with DiscordApiDouble() as api, SlackDouble() as slack, DiscordWebhookDouble() as hook:
        discord_settings = DiscordSettings(  # type: ignore[call-arg]
            _env_file=None, bot_token="test-token", alert_channel_id=ALERT_CHANNEL_ID, api_url=api.base_url,
            gateway_url="ws://127.0.0.1:9/", webhook_url=hook.url)
        slack_settings = SlackSettings(_env_file=None, bot_token=BOT_TOKEN, signing_secret=SECRET,  # type: ignore[call-arg]
                                       alert_channel=CHANNEL, api_url=slack.api_url)
        api.fail_channel_posts = [429, 503]
        slack.fail("chat.postMessage", status=429, retry_after="0")
        slack.fail("chat.postMessage", status=503, retry_after=None)
        hook.script(429, {"message": "You are being rate limited.", "retry_after": 0.1, "global": False})
        hook.script(502, {"message": "bad gateway"})
        settings = make(discord=discord_settings, slack=slack_settings)
        channels = ["ws", "discord", "slack", "discord_webhook"]
        async with slack_app(settings) as app:
            rt: Runtime = runtime_of(app)
            async with logged_in(rt):
                sub = rt.bus.subscribe(["alert"], name="trader")
                ids = {}
                for symbol in ("SPY", "QQQ"):
                    created = await rt.alerts.create({"symbol": symbol, "condition": "price_above",
                                                      "level": "500", "channels": channels})
                    ids[symbol] = created.id
                await pg.wait_until(lambda: {"T.SPY", "T.QQQ"} <= pg.subscriptions)
                await pg.push([trade("SPY", 499.0), trade("SPY", 500.5)])
                await pg.push([trade("QQQ", 499.0), trade("QQQ", 500.5)])
                published = {(await next_alert(sub)).meta.alert_id for _ in range(2)}  # type: ignore[union-attr]
                assert published == set(ids.values())  # the failing channels did not hold ingestion back
                alert_ids = set(ids.values())

                async def delivered() -> bool:
                    rows = [d for alert_id in alert_ids for t in await rt.alerts.triggers(alert_id)
                            for d in t.deliveries]
                    return len(rows) == 2 * len(channels) and all(d.status == "delivered" for d in rows)

                for _ in range(300):
                    if await delivered():
                        break
                    await asyncio.sleep(0.05)
                assert await delivered()
                await asyncio.sleep(1.5)  # one more idle poll of each worker: a second card would be out by now
                fires = {alert_id: {alert_id, *(t.id for t in await rt.alerts.triggers(alert_id))}
                         for alert_id in alert_ids}
                await sub.close()
    posts = api.find("POST", rf"/channels/{ALERT_CHANNEL_ID}/messages$")
    slack_posts = slack.calls_to("chat.postMessage")
    assert (len(posts), len(slack_posts), len(hook.requests)) == (2 + FAILURES,) * 3
    once = Counter(alert_ids)
    assert _named([c.json for c in posts[FAILURES:]], fires) == once
    assert _named([c.body for c in slack_posts[FAILURES:]], fires) == once
    assert _named([c.json for c in hook.accepted], fires) == once
    assert hook.statuses == [429, 502, 204, 204]
