"""Faults 1-7 of the reliability test plan: the Polygon stream and its REST gap fill misbehave while the engine
runs. Each test drives the whole runtime (feed, stream engine, alert engine, writer, outbox) through the Polygon
double and checks what a trader sees: the feed's state as the dashboard shows it, and alerts that fire exactly
once, never lost and never twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from structlog.testing import capture_logs

from core.domain.events import AlertEvent
from core.runtime import Runtime
from core.settings import Settings
from tests.contract.test_polygon_stream import Sink, running
from tests.doubles.polygon import PolygonDouble, frame
from tests.integration.test_alert_pipeline import next_alert, trade, triggers

ROLES = frozenset({"api", "engine"})
AM_BAR = {"ev": "AM", "sym": "SPY", "v": 100, "av": 100, "op": 440.0, "vw": 440.0, "o": 440.0, "c": 440.0,
          "h": 441.0, "l": 439.0, "a": 440.0, "z": 10}
LEVEL = "500"


@asynccontextmanager
async def armed(make: Callable[..., Settings], pg: PolygonDouble, symbols: tuple[str, ...] = ("SPY",),
                **overrides: Any) -> AsyncIterator[tuple[Runtime, Any]]:
    """A runtime with one `price_above 500` alert per symbol (armed: the double's price is ~14), subscribed at
    Polygon, and a subscription to its `alert` events."""
    async with Runtime(make(**overrides), roles=ROLES) as rt:
        sub = rt.bus.subscribe(["alert"], name="trader")
        for symbol in symbols:
            created = await rt.alerts.create({"symbol": symbol, "condition": "price_above", "level": LEVEL})
            assert created.armed is True
        await pg.wait_until(lambda: {f"T.{s}" for s in symbols} <= pg.subscriptions)
        try:
            yield rt, sub
        finally:
            await sub.close()


async def fired_once(rt: Runtime, sub: Any, symbol: str = "SPY") -> AlertEvent:
    """The alert event for `symbol`, then proof that no second one follows and one trigger is committed."""
    event = await next_alert(sub)
    assert event.meta is not None and event.meta.symbol == symbol
    with pytest.raises(TimeoutError):
        extra = await next_alert(sub, within=0.5)
        raise AssertionError(f"fired twice: {extra}")
    for _ in range(100):
        if len(await triggers(rt)) >= 1:
            break
        await asyncio.sleep(0.05)
    assert [t.alert_id for t in await triggers(rt)] == [event.meta.alert_id]
    return event


def feed(rt: Runtime) -> dict[str, Any]:
    """The feed as /diag/config and the dashboard's status bar show it."""
    status: dict[str, Any] = msgspec.to_builtins(rt.market.status())["feed"]
    return status


@pytest.mark.parametrize("close", ["clean_1000", "abnormal_1006", "server_error_1011"])
async def test_fault_1_ws_closed_mid_burst_reconnects_resubscribed_and_the_alert_fires_once(
        make: Callable[..., Settings], pg: PolygonDouble, close: str) -> None:
    """Fault 1: the Polygon socket closes cleanly (1000), with a server error (1011), or drops without a close
    frame (1006) in the middle of a burst. The trader sees the feed streaming again with the same subscriptions,
    and the alert whose level is crossed after the reconnect fires exactly once."""
    async with armed(make, pg) as (rt, sub):
        burst = [trade("SPY", 400 + n / 100) for n in range(400)]
        await pg.push(burst[:200])
        if close == "abnormal_1006":
            await pg.abort_all()
        else:
            await pg.close_all(1000 if close == "clean_1000" else 1011, "bye")
        await pg.push(burst[200:])  # into a closed socket: nothing of it may fire anything
        await pg.wait_until(lambda: pg.ws_connects == 2 and "T.SPY" in pg.subscriptions, within=10)
        await pg.wait_until(lambda: feed(rt)["state"] == "streaming")
        assert feed(rt)["counters"]["reconnects"] == 1
        await pg.push([trade("SPY", 499.0), trade("SPY", 500.5), trade("SPY", 501.0)])
        event = await fired_once(rt, sub)
        assert event.msg == "SPY crossed above 500 at 500.5"


async def test_fault_2_ws_silent_but_open_in_market_hours_is_reconnected_and_alerts_flow_again(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    """Fault 2: during market hours the socket stays open but sends nothing. The data watchdog reconnects within
    its 5 s budget (the transport's own ping timeout is the second layer), the feed reports why, and an alert
    crossed afterwards fires once."""
    pg.market = "open"
    async with armed(make, pg) as (rt, sub):
        started = time.monotonic()
        await pg.wait_until(lambda: pg.ws_connects >= 2 and "T.SPY" in pg.subscriptions, within=10)
        assert time.monotonic() - started < 8  # 3-5 s of silence, then a reconnect after a short backoff
        await pg.push([trade("SPY", 499.0), trade("SPY", 500.5)])
        await fired_once(rt, sub)


@pytest.mark.parametrize("refusal", ["auth_failed", "max_connections"])
async def test_fault_3_auth_failed_or_max_connections_backs_off_a_minute_and_says_why(
        make: Callable[..., Settings], pg: PolygonDouble, refusal: str) -> None:
    """Fault 3: Polygon answers `auth_failed` or "max connections". No hot loop against the vendor: one attempt,
    then at least a minute's wait; the trader sees the feed's state and the reason (the alarm), never silence."""
    pg.ws_plan.extend([refusal] * 5)
    async with Runtime(make(), roles=ROLES) as rt:
        await pg.wait_until(lambda: feed(rt)["state"] == refusal)
        await asyncio.sleep(1.0)
        status = feed(rt)
        assert pg.ws_connects == 1
        assert status["retry_in_s"] >= 55 and status["reason"]
        assert rt.market.status().state == refusal  # what the status event and /diag/config carry


async def test_fault_4_slow_consumer_fills_the_bounded_queue_drops_are_counted_and_the_feed_keeps_streaming(
        pg: PolygonDouble) -> None:
    """Fault 4: the consumer falls behind (20 ms per event behind a two-frame queue, a flood of 30 frames). The
    reader's queue stays bounded, so Polygon never sees a slow client: what does not fit is dropped, counted in
    the feed's status and logged as backpressure (the lag alarm); every frame is either processed or counted,
    and the connection keeps streaming.

    The feed itself, not the whole runtime: in one process a blocked loop stops the reader too, so the fault is
    a consumer slow per event, which this feed's own queue size makes visible with a few frames."""
    sink = Sink(slow=0.02)
    with capture_logs() as logs:
        async with running(pg, sink, queue_size=2) as polygon:
            await pg.wait_until(lambda: len(pg.subscriptions) == 4)
            for _ in range(30):
                await pg.push(frame("ws_stocks_T_trade.json"))
            await pg.wait_until(lambda: polygon.status.counters["frames"] >= 31)
            await asyncio.sleep(0.3)
            counters = polygon.status.counters
            assert counters["dropped"] > 0 and len(sink.trades) + counters["dropped"] == 30
            assert polygon.status.state == "streaming" and pg.ws_connects == 1
    assert any(log["event"] == "polygon_feed_backpressure" for log in logs)


async def test_fault_5_burst_at_the_open_fires_every_crossed_alert_exactly_once(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    """Fault 5: the open's burst, replayed at 1x then again at 5x (the same minute, five times as fast, with the
    same events repeated): 40 symbols crossing in one frame. Every alert fires exactly once, every fire is
    committed with its outbox row. (Latency and memory under that burst are measured by `make bench`:
    bench_alert_engine, bench_alert_ws.)"""
    symbols = tuple(f"B{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(40))
    async with armed(make, pg, symbols) as (rt, sub):
        minute = [event for s in symbols for event in (trade(s, 499.0), trade(s, 500.5), trade(s, 502.0))]
        await pg.push(minute)
        for _ in range(5):
            await pg.push(minute)
        seen: list[str] = []
        while len(seen) < len(symbols):
            event = await next_alert(sub)
            assert event.meta is not None
            seen.append(event.meta.symbol)
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=0.5)
        assert sorted(seen) == sorted(symbols)
        for _ in range(100):
            if len(await triggers(rt)) == len(symbols):
                break
            await asyncio.sleep(0.05)
        assert sorted(t.alert_id for t in await triggers(rt)) == sorted(
            a.id for a in await rt.alerts.list())


async def test_fault_6_duplicate_out_of_order_and_late_events_fire_the_alert_once(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    """Fault 6: the same trade twice, a trade whose time goes backwards, and a late minute bar, all crossing the
    level. The trader gets one alert, not three."""
    async with armed(make, pg) as (rt, sub):
        now = time.time_ns() // 1_000_000
        crossing = {**trade("SPY", 500.5), "t": now, "q": 7}
        await pg.push([{**trade("SPY", 499.0), "t": now - 1}, crossing, crossing])  # the same q twice
        await pg.push([{**trade("SPY", 501.0), "t": now - 5_000, "q": 3}])  # older than what was seen
        await pg.push([{**AM_BAR, "c": 501.0, "h": 502.0, "s": now - 120_000, "e": now - 60_000}])  # a late bar
        await fired_once(rt, sub)


async def test_fault_7_gap_fill_failing_with_429_5xx_or_timeout_leaves_the_stream_and_live_alerts_working(
        make: Callable[..., Settings], pg: PolygonDouble) -> None:
    """Fault 7: after a reconnect the REST gap fill fails (429, then 5xx, then a timeout; the client retries each
    with jitter). The trader keeps a streaming feed and live alerts fire once; the window that could not be
    back-filled is shown as an unverified gap in the market-data status (a level crossed in it may not have
    fired), never fatal."""
    async with armed(make, pg) as (rt, sub):
        pg.fail("/v2/aggs/ticker/SPY/range", 429, {"status": "ERROR", "error": "slow down"},
                headers={"Retry-After": "0"})
        pg.fail("/v2/aggs/ticker/SPY/range", 502, times=1)
        pg.fail("/v2/aggs/ticker/SPY/range", 200, {}, delay=15.0)
        now = time.time_ns() // 1_000_000
        minute = now - now % 60_000 - 5 * 60_000  # the last minute bar seen is five minutes old: a gap to fill
        await pg.push([trade("SPY", 450.0), {**AM_BAR, "s": minute, "e": minute + 60_000}])
        asked = len(pg.hits("/v2/aggs/ticker/SPY/range"))
        await pg.abort_all()
        await pg.wait_until(lambda: pg.ws_connects == 2 and "T.SPY" in pg.subscriptions, within=10)
        await pg.wait_until(lambda: len(pg.hits("/v2/aggs/ticker/SPY/range")) > asked)  # the gap fill ran into it
        await pg.wait_until(lambda: feed(rt)["state"] == "streaming")
        await pg.push([trade("SPY", 499.0), trade("SPY", 500.5)])
        await fired_once(rt, sub)
        await pg.wait_until(lambda: bool(feed(rt)["unverified_gaps"]), within=40)  # after the client's retries
        [gap] = feed(rt)["unverified_gaps"]
        assert gap["symbol"] == "SPY" and gap["from"] < gap["to"] and feed(rt)["counters"]["gap_fill_failed"] == 1
