"""PolygonFeed against the local Polygon WebSocket double: handshake, diffed subscriptions, fallbacks, back-fill
after a reconnect; and the double is as strict as Polygon's socket (text control frames, auth first, Polygon's own
status messages for what it refuses). The faults as a trader sees them, through the whole runtime, are in
tests/faults/test_market_feed.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.adapters.polygon import stream as polygon_stream
from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.polygon.stream import PolygonFeed
from core.adapters.polygon.wire import encode_action
from core.domain.market import BarTick, QuoteTick, TradeTick
from tests.doubles.polygon import API_KEY, FIXTURES, PolygonDouble, frame

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
    return lambda: feed.status.state == state


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
        assert status.state == "streaming" and status.counters["events"] == 5
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
        assert status.state == "polling" and status.reason.startswith("polling, not streaming")
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
        assert feed.status.counters["malformed"] == len(MALFORMED) + 1
        assert feed.status.state == "streaming" and pg.ws_connects == 1


async def test_a_long_outage_is_back_filled_with_minute_bars_marked_late(pg: PolygonDouble) -> None:
    sink = Sink()
    now_ms = int(time.time() * 1000)
    last_minute = now_ms - now_ms % 60_000 - 5 * 60_000
    async with running(pg, sink, second_fill_max=0):
        await pg.wait_until(lambda: len(pg.subscriptions) == 4)
        await pg.push([{**frame("ws_stocks_AM_minute_agg.json")[0], "sym": "MSFT", "s": last_minute,
                        "e": last_minute + 60_000}])
        await pg.wait_until(lambda: len(sink.bars) == 1)
        await pg.abort_all()
        await pg.wait_until(lambda: any(late for *_, late in sink.bars))
        late = [b for b in sink.bars if b[3]]
        assert late[0] == ("MSFT", 60, last_minute + 60_000, True) and len(late) >= 4
        assert pg.hits("/v2/aggs/ticker/MSFT/range/1/minute/")
        assert not pg.hits("/v2/aggs/ticker/MSFT/range/1/second/")


def second_bar(t: int, price: float) -> dict[str, Any]:
    return {"v": 300, "vw": price, "o": price, "c": price, "h": price, "l": price, "t": t, "n": 3}


async def test_a_short_outage_is_back_filled_with_the_second_bars_of_the_gap_marked_late(pg: PolygonDouble) -> None:
    sink = Sink()
    async with running(pg, sink, {"MSFT", "AAPL"}):
        await pg.wait_until(lambda: len(pg.subscriptions) == 8)
        await pg.push(frame("ws_stocks_T_trade.json"))
        await pg.wait_until(lambda: len(sink.trades) == 1)
        dropped = int(time.time() * 1000)
        second = dropped - dropped % 1000
        during = [second + 1000, second + 2000]
        # seen live well before the drop; in the gap; after the live stream is back
        pg.second_bars["MSFT"] = [second_bar(t, 100.0) for t in (second - 10_000, *during, second + 60_000)]
        await pg.outage(2.5)
        await pg.wait_until(lambda: len(pg.hits("/v2/aggs/ticker/")) == 2 and len(sink.bars) == 2, within=15)
        assert sink.bars == [("MSFT", 1, t, True) for t in during]
        hit = pg.hits("/v2/aggs/ticker/MSFT/range/1/second/")[0]
        start, end = (int(edge) for edge in hit.path.rsplit("/", 2)[1:])
        assert start % 1000 == 0 and second - 3000 <= start <= second and end >= dropped + 2500
        assert pg.hits("/v2/aggs/ticker/AAPL/range/1/second/") and not pg.hits("/v2/aggs/ticker/MSFT/range/1/minute/")


# -- the strict socket -----------------------------------------------------------------------------------------

def recorded(name: str, status: str) -> list[dict[str, Any]]:
    """The recorded status frame of ``status`` (tests/fixtures/polygon/ws_status_*.jsonl)."""
    frames = [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line]
    return next(f for f in frames if f[0]["status"] == status)


CONNECTED = recorded("ws_status_handshake_marketstore.jsonl", "connected")
AUTH_SUCCESS = recorded("ws_status_handshake_marketstore.jsonl", "auth_success")
AUTH_TIMEOUT = recorded("ws_status_errors_marketstore.jsonl", "auth_timeout")
NOT_AUTHORIZED = [{"ev": "status", "status": "error", "message": "not authorized"}]


async def received(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_binary_auth_is_never_read_and_ends_in_auth_timeout(pg: PolygonDouble) -> None:
    pg.auth_timeout = 0.5
    async with connect(pg.ws_url) as ws:
        assert await received(ws) == CONNECTED
        await ws.send(json.dumps({"action": "auth", "params": API_KEY}).encode())  # a binary frame
        assert await received(ws) == AUTH_TIMEOUT
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert pg.ws_messages == [] and len(pg.ws_binary) == 1


async def test_a_feed_sending_binary_control_frames_never_authenticates(
        pg: PolygonDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    pg.auth_timeout = 0.5
    monkeypatch.setattr(polygon_stream, "encode_action", lambda action, params: encode_action(action, params).encode())
    feed = PolygonFeed(pg.ws_url, SecretStr(API_KEY), Sink(), market_hours=lambda: False)
    await feed.set_symbols({"MSFT"})
    task = asyncio.create_task(feed.run())
    try:
        await pg.wait_until(lambda: feed.status.state == "auth_timeout")
        status = feed.status
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert status.reason == AUTH_TIMEOUT[0]["message"] and API_KEY not in repr(status)
    assert pg.ws_messages == [] and pg.subscriptions == set()


async def test_our_feed_sends_text_frames_and_streams(pg: PolygonDouble) -> None:
    feed = PolygonFeed(pg.ws_url, SecretStr(API_KEY), Sink(), market_hours=lambda: False)
    await feed.set_symbols({"MSFT"})
    task = asyncio.create_task(feed.run())
    try:
        await pg.wait_until(lambda: len(pg.subscriptions) == 4)
        assert feed.status.state == "streaming"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert pg.ws_binary == []
    assert pg.ws_messages == [{"action": "auth", "params": API_KEY},
                              {"action": "subscribe", "params": "A.MSFT,AM.MSFT,Q.MSFT,T.MSFT"}]


async def test_subscribe_before_auth_is_not_authorized(pg: PolygonDouble) -> None:
    async with connect(pg.ws_url) as ws:
        assert await received(ws) == CONNECTED
        await ws.send(encode_action("subscribe", "T.AAPL"))  # before auth
        assert await received(ws) == NOT_AUTHORIZED
        await ws.send(encode_action("auth", API_KEY))
        assert await received(ws) == AUTH_SUCCESS
        await ws.send(encode_action("subscribe", "T.AAPL"))
        assert await received(ws) == [{"ev": "status", "status": "success", "message": "subscribed to: T.AAPL"}]
        assert pg.subscriptions == {"T.AAPL"}


async def test_after_auth_unknown_actions_bad_json_binary_and_unknown_topics_go_nowhere(pg: PolygonDouble) -> None:
    async with connect(pg.ws_url) as ws:
        assert await received(ws) == CONNECTED
        await ws.send(encode_action("auth", API_KEY))
        assert await received(ws) == AUTH_SUCCESS
        await ws.send(encode_action("subscribe", "ZZ.AAPL"))  # an unknown topic: dropped, no ack
        await ws.send(encode_action("subscribe", "T.MSFT").encode())  # binary: never read
        await ws.send(encode_action("sub", "T.AAPL"))
        [refused] = await received(ws)
        assert refused["status"] == "error" and "sub" in refused["message"]
        await ws.send("{not json")
        [refused] = await received(ws)
        assert refused["status"] == "error"
        await ws.send(encode_action("subscribe", "T.NOTATICKER"))  # an unknown ticker is acked
        assert await received(ws) == [{"ev": "status", "status": "success", "message": "subscribed to: T.NOTATICKER"}]
        assert pg.subscriptions == {"T.NOTATICKER"} and len(pg.ws_binary) == 1
