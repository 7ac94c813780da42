"""MarketService + StreamEngine over fakes of the ports: state, conflated price events, freshness, fallbacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from core.adapters.polygon.wire import MinuteAgg
from core.adapters.polygon.wire import Quote as WireQuote
from core.adapters.polygon.wire import Trade as WireTrade
from core.domain.events import Event, EventType, PriceEvent, StatusEvent
from core.domain.market import Bar, MarketSession, MarketStatus, Quote
from core.domain.market_views import FeedStatus, Headline
from core.engines.stream import StreamEngine
from core.errors import IntegrationDisabled, Invalid
from core.services.market import MarketService


class FakeBus:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    def subscribe(self, types: Sequence[EventType] | None = None, *, maxsize: int = 1024) -> Any:
        raise NotImplementedError

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def queue_depths(self) -> dict[str, int]:
        return {}

    def prices(self) -> list[PriceEvent]:
        return [e for e in self.events if isinstance(e, PriceEvent)]


class FakeData:
    """Only what MarketService calls; anything else would be an AttributeError."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.session = MarketSession.OPEN

    async def quote(self, symbol: str) -> Quote:
        self.calls.append(("quote", symbol))
        return Quote(symbol, Decimal("10"), None, None, None, None, Decimal("9"), None, "polygon:snapshot")

    async def previous_close(self, symbol: str) -> Bar:
        self.calls.append(("prev", symbol))
        return Bar(symbol, Decimal(1), Decimal(1), Decimal(1), Decimal("100"), 1, datetime.now(UTC), "day")

    async def bars(self, symbol: str, **kwargs: Any) -> list[Bar]:
        self.calls.append(("bars", kwargs))
        start = datetime(2024, 1, 2, tzinfo=UTC)
        return [Bar(symbol, Decimal(1), Decimal(1), Decimal(1), Decimal(i), 1, start.replace(minute=i), "minute")
                for i in (3, 2, 1)]

    async def market_status(self) -> MarketStatus:
        self.calls.append(("status", None))
        return MarketStatus(self.session, None, "polygon")

    async def news(self, symbol: str | None, *, limit: int = 10) -> list[Headline]:
        self.calls.append(("news", symbol))
        return [Headline(title="x")]


class FakeFeed:
    def __init__(self) -> None:
        self.symbols: set[str] = set()
        self.state = "streaming"

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def set_symbols(self, symbols: set[str]) -> None:
        self.symbols = set(symbols)

    @property
    def status(self) -> FeedStatus:
        return FeedStatus(state=self.state, reason="")


def now_ms() -> int:
    return int(time.time() * 1000)


def trade(symbol: str, price: float, ts: int | None = None) -> WireTrade:
    return WireTrade(symbol=symbol, price=price, size=100, ts_ms=ts if ts is not None else now_ms())


def bar(symbol: str, start: int, close: float = 1.0) -> MinuteAgg:
    return MinuteAgg(symbol=symbol, open=1, high=close + 1, low=0.5, close=close, volume=10, start_ms=start,
                     end_ms=start + 60_000)


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def engine(bus: FakeBus) -> StreamEngine:
    eng = StreamEngine(bus, minute_bars=5)
    eng.market_open = True
    eng.watch({"AAPL", "MSFT"})
    return eng


async def publish_once(engine: StreamEngine) -> None:
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_price_events_are_conflated_with_change_vs_prev_close(engine: StreamEngine, bus: FakeBus) -> None:
    engine.set_prev_close("AAPL", Decimal("100"))
    engine.on_quote(WireQuote(symbol="AAPL", bid=101.1, bid_size=1, ask=101.3, ask_size=2, ts_ms=now_ms()), 1)
    for price in (101.0, 101.1, 101.2):
        engine.on_trade(trade("AAPL", price), time.time_ns())
    await publish_once(engine)
    (event,) = bus.prices()
    assert (event.symbol, event.last, event.bid, event.ask) == ("AAPL", "101.2", "101.1", "101.3")
    assert (event.change, event.change_pct) == ("1.2", "1.20")
    assert event.as_of is not None and event.as_of.endswith("+00:00")
    lag = engine.stats().engine_lag_ms
    assert lag is None or lag.p95 >= 0


async def test_no_change_without_prev_close_and_no_event_without_a_price(engine: StreamEngine,
                                                                          bus: FakeBus) -> None:
    engine.on_quote(WireQuote(symbol="MSFT", bid=1, bid_size=1, ask=2, ask_size=1, ts_ms=now_ms()), 1)
    engine.on_trade(trade("AAPL", 5.0), time.time_ns())
    await publish_once(engine)
    assert [(e.symbol, e.change) for e in bus.prices()] == [("AAPL", None)]


def test_unwatched_symbols_are_ignored(engine: StreamEngine) -> None:
    engine.on_trade(trade("TSLA", 1.0), 1)
    assert engine.state("TSLA") is None


def test_tick_hooks_see_trades_and_bars_including_late_ones(engine: StreamEngine) -> None:
    seen: list[tuple[str, float, float, float, int, bool]] = []
    engine.add_tick_hook(lambda *args: seen.append(args))
    engine.on_trade(trade("AAPL", 10.0, 1_000), 1)
    engine.on_bar(bar("AAPL", 60_000, close=11.0), 60, 1, late=True)
    engine.on_bar(bar("AAPL", 60_000, close=11.0), 60, 1)  # the same start again: not evaluated twice
    assert seen == [("AAPL", 10.0, 10.0, 10.0, 1_000, False), ("AAPL", 11.0, 12.0, 0.5, 120_000, True)]


def test_minute_ring_dedupes_live_and_gap_filled_and_stays_bounded(engine: StreamEngine) -> None:
    for start in (0, 60_000, 240_000):
        engine.on_bar(bar("AAPL", start), 60, 1)
    engine.on_bar(bar("AAPL", 180_000), 60, 1, late=True)  # gap fill lands in the middle
    engine.on_bar(bar("AAPL", 240_000), 60, 1, late=True)  # already live: a duplicate
    assert [b.start.minute for b in engine.bars("AAPL", 60)] == [0, 1, 3, 4]
    assert engine.duplicates == 1
    for start in range(5, 12):
        engine.on_bar(bar("AAPL", start * 60_000), 60, 1)
    assert len(engine.bars("AAPL", 60)) == 5 and engine.bars("AAPL", 60)[-1].start.minute == 11


def test_freshness_uses_max_of_two_seconds_and_three_median_gaps(engine: StreamEngine) -> None:
    state = engine.state("AAPL")
    assert state is not None and engine.is_stale(state)  # nothing yet
    for ts in (0, 1_000, 2_000, 3_000):  # median gap 1 s -> limit max(2 s, 3 s) = 3 s
        engine.on_trade(trade("AAPL", 1.0, ts), 1)
    assert not engine.is_stale(state, now_ms=5_900)
    assert engine.is_stale(state, now_ms=6_100)
    engine.market_open = False
    assert not engine.is_stale(state, now_ms=60_000)


def test_engine_uses_clock_hours_until_polygon_status_known(bus: FakeBus) -> None:
    eng = StreamEngine(bus, market_hours=lambda: True)
    assert eng.is_market_hours()
    eng.market_open = False
    assert not eng.is_market_hours()


async def test_quote_is_live_when_fresh_else_rest(engine: StreamEngine, bus: FakeBus) -> None:
    data = FakeData()
    service = MarketService(bus, engine, data=data)  # type: ignore[arg-type]
    engine.on_trade(trade("AAPL", 123.5), time.time_ns())
    live = await service.quote("aapl")
    assert live.source == "polygon:stream" and live.last == Decimal("123.5")
    rest = await service.quote("msft")
    assert rest.source == "polygon:snapshot" and data.calls == [("quote", "MSFT")]


@pytest.mark.parametrize("raw", ["", "   ", "A" * 40, "AAPL; DROP", "../etc", "$$$"])
async def test_bad_symbols_are_invalid(engine: StreamEngine, bus: FakeBus, raw: str) -> None:
    service = MarketService(bus, engine, data=FakeData())  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        await service.quote(raw)


async def test_dotted_lower_case_symbols_are_normalised(engine: StreamEngine, bus: FakeBus) -> None:
    data, feed = FakeData(), FakeFeed()
    service = MarketService(bus, engine, data=data, feed=feed)  # type: ignore[arg-type]
    assert await service.watch(["brk.b", " spy "]) == ["BRK.B", "SPY"]
    assert feed.symbols == {"BRK.B", "SPY"} and engine.symbols == {"BRK.B", "SPY"}
    await asyncio.sleep(0.01)
    assert engine.state("SPY").prev_close == Decimal("100")  # type: ignore[union-attr]


async def test_disabled_service_says_why(engine: StreamEngine, bus: FakeBus) -> None:
    service = MarketService(bus, engine, data=None)
    with pytest.raises(IntegrationDisabled) as err:
        await service.market_status()
    assert "POLYGON_API_KEY" in err.value.how_to_enable
    assert service.status().state == "disabled"


async def test_bars_latest_n_oldest_first(engine: StreamEngine, bus: FakeBus) -> None:
    data = FakeData()
    service = MarketService(bus, engine, data=data)  # type: ignore[arg-type]
    bars = await service.bars("AAPL", timespan="minute", limit=3)
    assert [b.close for b in bars] == [1, 2, 3]
    kwargs = data.calls[0][1]
    assert kwargs["sort"] == "desc" and kwargs["limit"] == 3 and isinstance(kwargs["start"], date)
    with pytest.raises(Invalid):
        await service.bars("AAPL", timespan="decade")


async def test_status_events_on_change_and_market_open_from_polygon(engine: StreamEngine,
                                                                     bus: FakeBus) -> None:
    data, feed = FakeData(), FakeFeed()
    data.session = MarketSession.CLOSED
    service = MarketService(bus, engine, data=data, feed=feed, status_interval=0.01,  # type: ignore[arg-type]
                            market_status_ttl=0)
    task = asyncio.create_task(service.run())
    await asyncio.sleep(0.05)
    feed.state = "backoff"
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    statuses = [e.integrations["market_data"] for e in bus.events if isinstance(e, StatusEvent)]
    assert [s["state"] for s in statuses] == ["streaming", "backoff"]
    assert statuses[0]["market"] == "closed" and engine.market_open is False


async def test_snapshot_lists_every_watched_symbol(engine: StreamEngine, bus: FakeBus) -> None:
    service = MarketService(bus, engine, data=FakeData())  # type: ignore[arg-type]
    engine.on_trade(trade("AAPL", 2.5), time.time_ns())
    rows = {r.symbol: r for r in service.snapshot()}
    assert rows["AAPL"].last == "2.5" and rows["AAPL"].stale is False
    assert rows["MSFT"].last is None and rows["MSFT"].stale is True
