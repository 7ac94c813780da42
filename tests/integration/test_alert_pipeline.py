"""Tick -> alert end to end through the Polygon double: `alert` event with chips, then the trigger row and the
outbox delivered; never twice; a level crossed during a 3-second disconnect fires once from the back-fill, marked
late; a failed publish delivered from the outbox; a restart between trigger and
delivery; a crash between publish and commit; the Discord webhook double (429 then 204); the poller."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from core.bus import InProcessBus
from core.db.models import AlertDelivery, AlertTrigger
from core.db.repositories.alerts import AlertRepository
from core.domain.alert_views import AlertView
from core.domain.alerts import Alert, AlertSpec, AlertStatus, Condition, Fired, FireKind
from core.domain.events import AlertEvent
from core.engines.alerts import AlertEngine
from core.runtime import Runtime
from core.settings import DiscordSettings, PolygonSettings, Settings
from tests.doubles.discord_webhook import TOKEN, DiscordWebhookDouble
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble, frame
from tests.wire import as_json

ROLES = frozenset({"api", "engine"})


@pytest.fixture
async def hook() -> AsyncIterator[DiscordWebhookDouble]:
    async with DiscordWebhookDouble() as double:
        yield double


@pytest.fixture
def make(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble) -> Callable[..., Settings]:
    def _make(*, ws: bool = True, webhook: str | None = None, **overrides: Any) -> Settings:
        polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url,  # type: ignore[arg-type]
                                  ws_url=pg.ws_url if ws else "ws://127.0.0.1:9/stocks")
        discord = DiscordSettings(webhook_url=webhook)  # type: ignore[arg-type]
        values = {"database_url": database_url, "polygon": polygon, "discord": discord, "alert_poll_sec": 60}
        return make_settings(**{**values, **overrides})
    return _make


def trade(symbol: str, price: float) -> dict[str, Any]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": "1", "z": 3, "p": price, "s": 100, "c": [0],
            "t": time.time_ns() // 1_000_000, "q": 1}


async def next_alert(sub: Any, within: float = 10.0) -> AlertEvent:
    async def _next() -> AlertEvent:
        async for event in sub:
            if isinstance(event, AlertEvent):
                return event
        raise AssertionError("subscription closed")
    return await asyncio.wait_for(_next(), within)


async def wait_for(predicate: Callable[[], Any], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def deliveries(rt: Runtime) -> list[AlertDelivery]:
    async with rt.db.read() as session:
        return list((await session.scalars(select(AlertDelivery).order_by(AlertDelivery.channel))).all())


async def triggers(rt: Runtime) -> list[AlertTrigger]:
    async with rt.db.read() as session:
        return list((await session.scalars(select(AlertTrigger))).all())


async def all_delivered(rt: Runtime, count: int) -> bool:
    rows = await deliveries(rt)
    return len(rows) == count and all(r.status == "delivered" for r in rows)


async def test_crossing_trade_fires_once_with_chips_trigger_and_delivered_outbox(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    async with Runtime(make(), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="test")
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500"})
        assert created.armed is True  # the double's last price is 14.2284
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        await pg.push([trade("SPY", 499.0)])
        await pg.push([trade("SPY", 500.25)])
        event = await next_alert(sub)
        assert event.level == "warning" and event.msg == "SPY crossed above 500 at 500.25"
        meta = event.meta
        assert meta is not None
        assert (meta.alert_id, meta.symbol, meta.price, meta.condition, meta.kind, meta.late) == (
            created.id, "SPY", "500.25", "price_above", "crossed", False)
        chips = as_json(meta.actions)
        assert [c["id"] for c in chips] == ["plan", "dismiss"]  # no broker: a plan, then always Dismiss
        assert chips[0]["plan"] == {"symbol": "SPY", "side": "long", "entry": "500.25", "stop": "495.00",
                                    "targets": ["510.75"]}  # the default 2R: 500.25 + 2 x 5.25
        assert all({"id", "label", "kind"} <= set(c) for c in chips)

        await wait_for(lambda: _trigger_count(rt, 1))  # the group commit follows the publish
        [trigger] = await triggers(rt)
        assert trigger.id == meta.trigger_id and trigger.kind == "crossed" and trigger.price == Decimal("500.25")
        await wait_for(lambda: all_delivered(rt, 1))
        [row] = await deliveries(rt)
        assert row.channel == "ws" and row.attempts == 1 and row.latency_ms is not None and row.latency_ms >= 0
        alert = await rt.alerts.get(created.id)
        assert alert.status == "triggered" and alert.first_triggered_at is not None
        api_triggers = await rt.alerts.triggers(created.id)
        assert api_triggers[0].deliveries[0].status == "delivered"
        assert api_triggers[0].rationale is None  # no LLM configured

        # the same fire replayed in this process: not published again
        engine = rt.alert_engine
        assert engine is not None
        replay = Fired(_alert_of(alert, created.id), FireKind.CROSSED, Decimal("500.25"),
                       datetime.fromisoformat(meta.fired_at or ""))
        assert await engine.publish(replay, time.perf_counter_ns()) is None
        # ... and by a fresh engine (a restart re-reading the same tick): no second trigger, no second delivery
        fresh = AlertEngine(rt.db, InProcessBus(), rt.market, rt.settings_service, poll_sec=60)
        assert await fresh.publish(replay, time.perf_counter_ns()) is not None
        assert await fresh.commit() == []
        assert await rt.delivery.run_once("ws") == 0
        await pg.push([trade("SPY", 501.0)])  # still above: edge-triggered, and a `once` alert is done anyway
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=0.5)
        assert len(await triggers(rt)) == 1 and len(await deliveries(rt)) == 1
        await sub.close()


async def _trigger_count(rt: Runtime, n: int) -> bool:
    return len(await triggers(rt)) == n


def _alert_of(view: AlertView, alert_id: str) -> Alert:
    return Alert(alert_id, AlertSpec(view.symbol, Condition(view.condition), Decimal(view.level)),
                 status=AlertStatus(view.status), armed=False)


def second_bar(t: int, o: float, h: float, low: float, c: float) -> dict[str, Any]:
    return {"v": 1200, "vw": c, "o": o, "h": h, "l": low, "c": c, "t": t, "n": 9}


async def test_a_level_crossed_during_a_three_second_disconnect_fires_once_marked_late(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    async with Runtime(make(), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="test")
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500",
                                          "repeat": "every"})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        await pg.push([trade("SPY", 499.0)])
        dropped = time.time_ns() // 1_000_000
        crossed = dropped - dropped % 1000 + 1000
        # what the live stream would have carried: a spike through 500 and back below the re-arm point
        pg.second_bars["SPY"] = [second_bar(crossed, 499.2, 500.4, 499.1, 500.1),
                                 second_bar(crossed + 1000, 500.0, 500.0, 499.0, 499.2)]
        await pg.outage(3.0)
        event = await next_alert(sub, within=20)
        meta = event.meta
        assert meta is not None and (meta.alert_id, meta.price, meta.late) == (created.id, "500.4", True)
        assert datetime.fromisoformat(meta.fired_at or "") == datetime.fromtimestamp((crossed + 1000) / 1000, UTC)
        assert pg.hits("/v2/aggs/ticker/SPY/range/1/second/")

        # the live stream is back and repeats the spike's second (a late `A` bar): the same start, evaluated once
        # (it would fire again otherwise: the back-fill re-armed the alert)
        await pg.wait_until(lambda: "A.SPY" in pg.subscriptions)
        duplicates = rt.market.engine.duplicates
        await pg.push([{**frame("ws_stocks_A_second_agg.json")[0], "sym": "SPY", "o": 499.2, "h": 500.4,
                        "l": 499.1, "c": 500.1, "s": crossed, "e": crossed + 1000}])
        await pg.wait_until(lambda: rt.market.engine.duplicates == duplicates + 1)
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=1.0)
        await wait_for(lambda: all_delivered(rt, 1))
        [trigger] = await triggers(rt)
        assert trigger.late is True and trigger.price == Decimal("500.4")
        await sub.close()


class DeadBus:
    async def publish(self, event: Any) -> None:
        raise ConnectionError("bus unreachable")


async def test_failed_publish_is_delivered_from_the_outbox_and_a_restart_delivers_the_rest(
        make: Callable[..., Settings], pg: PolygonDouble, hook: DiscordWebhookDouble) -> None:
    # first life: no webhook configured (its row waits, pending), and the engine's own publish fails
    async with Runtime(make(), roles=ROLES) as rt:
        assert rt.alert_engine is not None
        rt.alert_engine.bus = DeadBus()  # type: ignore[assignment]
        sub = rt.bus.subscribe(["alert"], name="test")
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_below", "level": "100",
                                          "channels": ["ws", "discord_webhook"]})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        assert created.already_true is True  # the double's last price 14.2284 is below: re-arm first
        await pg.push([trade("SPY", 101.0)])
        await pg.push([trade("SPY", 99.5)])
        event = await next_alert(sub)  # the ws row was written pending: the delivery engine published it
        assert event.meta is not None and event.meta.alert_id == created.id
        assert event.meta.redelivered is True
        await wait_for(lambda: _count(rt, 2))
        await wait_for(lambda: _statuses(rt, {"discord_webhook": "pending", "ws": "delivered"}))
        await sub.close()
    assert hook.requests == []

    # second life on the same database, webhook configured: its row is delivered once, ws is not sent again
    async with Runtime(make(webhook=hook.url), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="test")
        await wait_for(lambda: all_delivered(rt, 2))
        await asyncio.sleep(0.3)
        assert len(hook.requests) == 1
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=0.3)
        await sub.close()
    assert len(await _triggers_after(make)) == 1


async def test_crash_between_publish_and_commit_fires_again_after_restart_and_delivers_once(
        make: Callable[..., Settings], pg: PolygonDouble, hook: DiscordWebhookDouble,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented window: published, never committed. The database still has the alert armed, so the next
    tick that satisfies it after the restart fires it again and every channel gets that trigger exactly once."""
    add_triggers = AlertRepository.add_triggers

    async def disk_gone(self: AlertRepository, rows: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(AlertRepository, "add_triggers", disk_gone)
    async with Runtime(make(webhook=hook.url), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="test")
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500",
                                          "channels": ["ws", "discord_webhook"]})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        await pg.push([trade("SPY", 500.5)])
        first = await next_alert(sub)  # published although nothing can be committed
        assert first.meta is not None and first.meta.alert_id == created.id
        await asyncio.sleep(0.3)
        assert await triggers(rt) == [] and await deliveries(rt) == []
        await sub.close()
    monkeypatch.setattr(AlertRepository, "add_triggers", add_triggers)

    async with Runtime(make(webhook=hook.url), roles=ROLES) as rt:
        alert = await rt.alerts.get(created.id)
        assert (alert.status, alert.armed, alert.first_triggered_at) == ("active", True, None)
        sub = rt.bus.subscribe(["alert"], name="test")
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        await pg.push([trade("SPY", 500.75)])
        again = await next_alert(sub)
        assert again.meta is not None and again.meta.trigger_id != first.meta.trigger_id
        await wait_for(lambda: all_delivered(rt, 2))
        [trigger] = await triggers(rt)
        assert trigger.id == again.meta.trigger_id
        await asyncio.sleep(0.3)
        assert hook.statuses == [204]
        await sub.close()


async def _statuses(rt: Runtime, expected: dict[str, str]) -> bool:
    return {r.channel: r.status for r in await deliveries(rt)} == expected


async def _count(rt: Runtime, n: int) -> bool:
    return len(await deliveries(rt)) == n


async def _triggers_after(make: Callable[..., Settings]) -> list[AlertTrigger]:
    async with Runtime(make(ws=False), roles=frozenset({"api"})) as rt:
        return await triggers(rt)


async def test_discord_webhook_429_then_204_delivers_once_with_the_embed(
        make: Callable[..., Settings], pg: PolygonDouble, hook: DiscordWebhookDouble,
        capsys: pytest.CaptureFixture[str]) -> None:
    hook.script(429, {"message": "You are being rate limited.", "retry_after": 0.2, "global": False})
    async with Runtime(make(webhook=hook.url), roles=ROLES) as rt:
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500",
                                          "threshold_pct": "1", "note": "@everyone breakout",
                                          "channels": ["discord_webhook"]})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        await pg.push([trade("SPY", 496.0)])  # within 1% of 500: approaching
        await wait_for(lambda: all_delivered(rt, 1))
        [row] = await deliveries(rt)
        assert row.attempts == 2 and row.channel == "discord_webhook"
    assert hook.statuses == [429, 204]
    first, second = hook.requests
    assert second.at - first.at >= 0.19  # waited retry_after
    assert second.query == {"wait": "true"}
    body = second.json
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == "SPY approaching 500 (within 1%) at 496.0"
    assert embed["color"] == 0x3498DB  # info
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Symbol"] == "SPY" and fields["Price"] == "496.0" and fields["Condition"].startswith("above 500")
    assert fields["Note"] == "@everyone breakout" and fields["Time"]
    assert f"alert={created.id}" in embed["url"]
    assert "Set limit at level" in embed["description"] or "Plan this setup" in embed["description"]
    assert "Snooze 15m" in embed["description"] and "Dismiss" in embed["description"]
    assert TOKEN not in capsys.readouterr().out


def _bars(start_ms: int, *, close: float, high: float, low: float) -> dict[str, Any]:
    return {"ticker": "SPY", "status": "OK", "request_id": "scripted", "resultsCount": 1, "queryCount": 1,
            "adjusted": True, "results": [{"o": close, "h": high, "l": low, "c": close, "v": 1000, "vw": close,
                                           "n": 3, "t": start_ms}]}


async def test_poller_fires_minute_day_and_tick_alerts_without_websocket(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    minute_path, day_path = "/v2/aggs/ticker/SPY/range/1/minute", "/v2/aggs/ticker/SPY/range/1/day"
    async with Runtime(make(ws=False, alert_poll_sec=0.3), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="test")
        minute = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "100.5",
                                         "timeframe": "minute"})
        day = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "98.5",
                                      "timeframe": "day"})
        tick = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "102.5"})
        # Two day-bar requests later a whole poller round has started after the three alerts existed, so every
        # symbol/timeframe has had its first look; only then do bars appear that close after it, however slow
        # the machine is.
        looked = len(pg.hits(day_path)) + 2
        await pg.wait_until(lambda: len(pg.hits(day_path)) >= looked, within=10)
        closes_ms = time.time_ns() // 1_000_000 + 500
        pg.fail(minute_path, 200, _bars(closes_ms - 60_000, close=101.0, high=103.0, low=100.0), times=10_000)
        pg.fail(day_path, 200, _bars(closes_ms - 16 * 3_600_000, close=99.0, high=99.5, low=98.0), times=10_000)
        seen = {}
        for _ in range(3):
            event = await next_alert(sub, within=10)
            assert event.meta is not None
            seen[event.meta.alert_id] = event.meta
        assert seen[minute.id].price == "101.0" and seen[minute.id].timeframe == "minute"
        assert seen[day.id].price == "99.0"
        assert seen[tick.id].price == "103.0"  # the bar's high: a spike between polls still fires
        await wait_for(lambda: all_delivered(rt, 3))
        with pytest.raises(TimeoutError):  # later polls see the same bars: nothing fires twice
            await next_alert(sub, within=1.0)
        assert len(await triggers(rt)) == 3
        await sub.close()
        rows = await rt.alerts.list("triggered")
        assert {r.id for r in rows} == {minute.id, day.id, tick.id}
    assert pg.hits(minute_path)


async def test_expired_alert_is_marked_and_reported_once(make: Callable[..., Settings]) -> None:
    async with Runtime(make(ws=False), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="test")
        expires = datetime.now(UTC) + timedelta(milliseconds=600)
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500",
                                          "expires_at": expires})
        event = await next_alert(sub, within=5)
        assert event.meta is not None and event.meta.kind == "expired" and event.meta.alert_id == created.id
        await wait_for(lambda: _status(rt, created.id, "expired"))
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=0.8)
        await sub.close()


async def _status(rt: Runtime, alert_id: str, status: str) -> bool:
    return (await rt.alerts.get(alert_id)).status == status


async def test_unregistered_channel_rows_stay_pending(make: Callable[..., Settings], pg: PolygonDouble) -> None:
    async with Runtime(make(), roles=ROLES) as rt:
        await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500",
                                "channels": ["slack"]})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        await pg.push([trade("SPY", 500.5)])
        await wait_for(lambda: _count(rt, 1))
        await asyncio.sleep(0.3)
        [row] = await deliveries(rt)
        assert (row.channel, row.status, row.attempts) == ("slack", "pending", 0)
        async with rt.db.uow() as session:  # and nothing ever moves it to failed
            await session.execute(update(AlertDelivery).values(next_attempt_at=datetime.now(UTC)))
        assert "slack" not in rt.delivery.notifiers
