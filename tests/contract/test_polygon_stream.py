"""PolygonFeed against the local Polygon WebSocket double: handshake, diffed subscriptions, faults, fallbacks (the
faults as a trader sees them, through the whole runtime: tests/faults/test_market_feed.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.polygon.stream import PolygonFeed
from core.domain.market import BarTick, QuoteTick, TradeTick
from tests.doubles.polygon import API_KEY, PolygonDouble, frame

STATUS_ACK = {"ev": "status", "status": "success", "message": "subscribed to: T.MSFT"}


class Sink:
    def __init__(self, slow: float = 0.0) -> None:
        self.trades: list[tuple[str, float, int]] = []
        self.quotes: list[tuple[str, float, float]] = []
        self.bars: list[tuple[str, int, int, bool]] = []
        self.slow = slow

    def on_trade(self, trade: TradeTick, recv_ns: int) -> None:
        assert recv_ns > 0
        self.trades.append((trade.symbol, trade.price, trade.ts_ms))
        if self.slow:
            time.sleep(self.slow)

    def on_quote(self, quote: QuoteTick, recv_ns: int) -> None:
        self.quotes.append((quote.symbol, quote.bid, quote.ask))

    def on_bar(self, bar: BarTick, seconds: int, recv_ns: int, late: bool = False) -> None:
        self.bars.append((bar.symbol, seconds, bar.start_ms, late))


@pytest.fixture
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        yield double


@asynccontextmanager
async def running(pg: PolygonDouble, sink: Sink, symbols: set[str] | None = None,
                  **options: Any) -> AsyncIterator[PolygonFeed]:
    options.setdefault("backoff_base", 0.01)
    options.setdefault("market_hours", lambda: False)
    async with PolygonMarketData(pg.rest_url, SecretStr(API_KEY)) as rest:
        feed = PolygonFeed(pg.ws_url, SecretStr(options.pop("key", API_KEY)), sink, rest=rest, **options)
        await feed.set_symbols(symbols if symbols is not None else {"MSFT"})
        task = asyncio.create_task(feed.run())
        try:
            yield feed
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def state_is(feed: PolygonFeed, state: str) -> Callable[[], bool]:
    return lambda: feed.status["state"] == state


async def test_handshake_subscribe_and_mixed_frames(pg: PolygonDouble) -> None:
    sink = Sink()
    async with running(pg, sink) as feed:
        await pg.wait_until(lambda: len(pg.subscriptions) == 4)
        assert pg.ws_messages[0] == {"action": "auth", "params": API_KEY}
        assert pg.subscriptions == {"T.MSFT", "Q.MSFT", "A.MSFT", "AM.MSFT"}
        await pg.push([*frame("ws_stocks_T_trade.json", "ws_stocks_Q_quote.json"), STATUS_ACK,
                       *frame("ws_stocks_AM_minute_agg.json", "ws_stocks_A_second_agg.json",
                              "ws_stocks_LULD.json")])
        await pg.wait_until(lambda: len(sink.bars) == 2)
        assert sink.trades == [("MSFT", 114.125, 1536036818784)]
        assert sink.quotes == [("MSFT", 114.125, 114.128)]
        assert sink.bars == [("GTE", 60, 1610144640000, False), ("SPCE", 1, 1610144868000, False)]
        status = feed.status
        assert status["state"] == "streaming" and status["counters"]["events"] == 5
        assert API_KEY not in repr(status)


async def test_set_symbols_diffs_without_reconnecting(pg: PolygonDouble) -> None:
    async with running(pg, Sink(), {"MSFT", "AAPL"}) as feed:
        await pg.wait_until(lambda: len(pg.subscriptions) == 8)
        await feed.set_symbols({"AAPL", "SPY"})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions and "T.MSFT" not in pg.subscriptions)
        actions = [m for m in pg.ws_messages if m["action"] != "auth"]
        assert actions[-2] == {"action": "unsubscribe", "params": "A.MSFT,AM.MSFT,Q.MSFT,T.MSFT"}
        assert actions[-1] == {"action": "subscribe", "params": "A.SPY,AM.SPY,Q.SPY,T.SPY"}
        assert pg.ws_connects == 1


async def test_silence_outside_market_hours_is_fine(pg: PolygonDouble) -> None:
    async with running(pg, Sink(), market_hours=lambda: False, silence_timeout=0.2) as feed:
        await pg.wait_until(state_is(feed, "streaming"))
        await asyncio.sleep(0.8)
        assert pg.ws_connects == 1


async def test_refusals_never_storm(pg: PolygonDouble) -> None:
    pg.ws_plan.extend(["auth_failed"] * 50)
    async with running(pg, Sink(), fatal_backoff=0.4):
        await asyncio.sleep(1.0)
    assert 1 <= pg.ws_connects <= 3


async def test_wrong_key_is_auth_failed(pg: PolygonDouble) -> None:
    async with running(pg, Sink(), key="wrong") as feed:
        await pg.wait_until(state_is(feed, "auth_failed"))
    assert "wrong" not in repr(feed.status)


async def test_plan_without_websocket_falls_back_to_polling(pg: PolygonDouble) -> None:
    pg.ws_plan.append("no_access")
    sink = Sink()
    async with running(pg, sink, {"AAPL", "MSFT"}, poll_interval=0.1) as feed:
        await pg.wait_until(lambda: len(sink.trades) >= 4)
        status = feed.status
        assert status["state"] == "polling" and status["reason"].startswith("polling, not streaming")
        assert {t[0] for t in sink.trades} == {"AAPL", "MSFT"} and sink.quotes
        assert pg.hits("/v2/snapshot/locale/us/markets/stocks/tickers")[0].query["tickers"] == "AAPL,MSFT"


MALFORMED = [
    b'{"ev":"T","sym":"MSFT"}',  # not an array
    b'[{"ev":"ZZ","sym":"MSFT"}]',  # unknown ev
    b'[{"ev":"T","sym":"MSFT","p":1.5}]',  # missing fields
    b'[{"ev":"T","sym":"MSFT","p":"1.5","s":1,"t":1}]',  # strings for numbers
    b"[" + b"9" * (1 << 20),  # 1 MB of garbage
    b"not json at all",
]


async def test_malformed_frames_are_counted_never_fatal(pg: PolygonDouble) -> None:
    sink = Sink()
    async with running(pg, sink) as feed:
        await pg.wait_until(lambda: len(pg.subscriptions) == 4)
        for bad in MALFORMED:
            await pg.push(bad.decode())
        good = frame("ws_stocks_T_trade.json")
        await pg.push([{"ev": "T", "sym": "MSFT"}, *good])  # the good event of a bad frame survives
        await pg.push(good * 5000)  # a ~1 MB frame of real events decodes
        await pg.wait_until(lambda: len(sink.trades) == 5001)
        assert feed.status["counters"]["malformed"] == len(MALFORMED) + 1
        assert feed.status["state"] == "streaming" and pg.ws_connects == 1


async def test_gap_fill_after_reconnect_marks_bars_late(pg: PolygonDouble) -> None:
    sink = Sink()
    now_ms = int(time.time() * 1000)
    last_minute = now_ms - now_ms % 60_000 - 5 * 60_000
    async with running(pg, sink):
        await pg.wait_until(lambda: len(pg.subscriptions) == 4)
        await pg.push([{**frame("ws_stocks_AM_minute_agg.json")[0], "sym": "MSFT", "s": last_minute,
                        "e": last_minute + 60_000}])
        await pg.wait_until(lambda: len(sink.bars) == 1)
        await pg.abort_all()
        await pg.wait_until(lambda: any(late for *_, late in sink.bars))
        late = [b for b in sink.bars if b[3]]
        assert late[0] == ("MSFT", 60, last_minute + 60_000, True) and len(late) >= 4
        assert pg.hits("/v2/aggs/ticker/MSFT/range/1/minute/")
