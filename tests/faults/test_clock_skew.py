"""Fault 11 of the reliability test plan: clocks ten minutes apart. The Slack request window (5 minutes) must
not open to a request whose timestamp is ten minutes off either way, and a trade stamped by an exchange clock
ten minutes off still moves the alerts exactly once (their latency is measured on monotonic clocks, and the SIP
time is only compared with the host's wall clock for freshness). Discord has no timestamped request to skew:
the bot receives its interactions over the gateway's authenticated session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from core.db.models import AlertRow
from core.runtime import Runtime
from core.settings import Settings, SlackSettings
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, TEAM_ID, SlackDouble
from tests.integration.slack.rig import CHANNEL, SECRET, TRADER, client_of, command, running, runtime_of, sign
from tests.integration.test_alert_pipeline import next_alert, trade, triggers

SKEWS = [-600, 600]


@pytest.mark.parametrize("skew", SKEWS, ids=["10_min_behind", "10_min_ahead"])
async def test_fault_11_a_slack_request_stamped_ten_minutes_off_is_refused_and_changes_nothing(
        make: Callable[..., Settings], skew: int) -> None:
    """Fault 11 (Slack): a correctly signed slash command whose timestamp is ten minutes in the past or in the
    future (a replay, or a skewed clock) is answered 401 and creates nothing; the same command stamped now
    works."""
    async with SlackDouble() as slack:
        slack_settings = SlackSettings(_env_file=None, bot_token=BOT_TOKEN, signing_secret=SECRET,  # type: ignore[call-arg]
                                       alert_channel=CHANNEL, api_url=slack.api_url)
        async with running(make(slack=slack_settings, traders=[f"slack:{TEAM_ID}:{TRADER}"])) as app, \
                client_of(app) as http:
            body = command(slack, "alert add SPY above 999", "r1")
            skewed = await http.post("/slack/events", content=body, headers=sign(body, ts=int(time.time()) + skew))
            assert skewed.status_code == 401
            await asyncio.sleep(0.2)
            assert slack.calls == []
            async with runtime_of(app).db.read() as session:
                assert await session.scalar(select(func.count()).select_from(AlertRow)) == 0
            fresh = await http.post("/slack/events", content=body, headers=sign(body))
            assert fresh.status_code == 200
            await slack.wait_for("response_url:r1")


@pytest.mark.parametrize("skew", SKEWS, ids=["exchange_10_min_behind", "exchange_10_min_ahead"])
async def test_fault_11_trades_stamped_ten_minutes_off_fire_the_alert_exactly_once(
        make: Callable[..., Settings], pg: PolygonDouble, skew: int) -> None:
    """Fault 11 (market data): the exchange's timestamps are ten minutes behind or ahead of this host. A crossing
    trade still fires the alert, once, and later trades above the level do not fire it again."""
    async with Runtime(make(), roles={"api", "engine"}) as rt:
        sub = rt.bus.subscribe(["alert"], name="trader")
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500"})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        offset = skew * 1000
        await pg.push([{**trade("SPY", 499.0), "t": trade("SPY", 0)["t"] + offset}])
        await pg.push([{**trade("SPY", 500.5), "t": trade("SPY", 0)["t"] + offset + 1}])
        event = await next_alert(sub)
        assert event.meta is not None and event.meta.alert_id == created.id
        await pg.push([{**trade("SPY", 501.0), "t": trade("SPY", 0)["t"] + offset + 2}])
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=0.5)
        for _ in range(100):
            if await triggers(rt):
                break
            await asyncio.sleep(0.05)
        assert [t.alert_id for t in await triggers(rt)] == [created.id]
        await sub.close()
