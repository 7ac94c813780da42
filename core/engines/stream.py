"""Price stream engine: the `FeedSink` behind the market feed, and the publisher of `price` events.

The feed calls `on_trade`/`on_quote`/`on_bar` synchronously from its decoder task; they only update per-symbol
state (last, NBBO, bounded second/minute bar rings, inter-event gaps, feed lag), run the registered tick
hooks and mark the symbol dirty. `run()` publishes one `PriceEvent` per dirty symbol on the bus (conflated:
a burst of ticks becomes one event), so nothing in the feed path awaits I/O.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import structlog
from prometheus_client import Histogram

from core.domain.market import Bar, BarTick, QuoteTick, TradeTick, epoch_ms, us_equity_hours, utc_from_epoch
from core.domain.market import Quote as QuoteValue
from core.domain.market_views import Percentiles, StreamStats
from core.domain.prices import SymbolState, TickHook, price_event
from core.ports import EventBus

log = structlog.get_logger("engine.stream")

FEED_LAG = Histogram("market_feed_lag_seconds", "Receive time minus exchange timestamp (latest trade per update)",
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 900))
ENGINE_LAG = Histogram("market_engine_price_lag_seconds", "Frame receive time to price event published",
                       buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25))

_MIN_STALE_MS = 2_000


def _percentiles(samples: deque[float]) -> Percentiles | None:
    if len(samples) < 2:
        return None
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return Percentiles(round(cuts[49], 3), round(cuts[94], 3), round(cuts[98], 3))


class StreamEngine:
    """Hot per-symbol market state; `run()` is the price publisher task."""

    def __init__(self, bus: EventBus, *, second_bars: int = 600, minute_bars: int = 390,
                 lag_samples: int = 4096, market_hours: Callable[[], bool] | None = None) -> None:
        self._bus = bus
        self._caps = {1: second_bars, 60: minute_bars}
        self._states: dict[str, SymbolState] = {}
        self._dirty: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._hooks: list[TickHook] = []
        self._feed_lag: deque[float] = deque(maxlen=lag_samples)
        self._engine_lag: deque[float] = deque(maxlen=lag_samples)
        self._clock_hours = market_hours or (lambda: us_equity_hours(datetime.now(UTC)))
        self.market_open: bool | None = None
        self.duplicates = 0
        self.published = 0

    # -- configuration -----------------------------------------------------------------------------------------

    def watch(self, symbols: set[str]) -> set[str]:
        """Keep state only for these symbols; returns the ones newly added."""
        for gone in self._states.keys() - symbols:
            del self._states[gone]
            self._dirty.pop(gone, None)
        added = symbols - self._states.keys()
        for symbol in added:
            self._states[symbol] = SymbolState(symbol)
        return added

    def set_prev_close(self, symbol: str, close: Decimal) -> None:
        state = self._states.get(symbol)
        if state is not None:
            state.prev_close = close
            self._mark(state, time.time_ns())

    def add_tick_hook(self, hook: TickHook) -> None:
        """Called synchronously on every trade and bar; it must be fast and never await (the alert engine)."""
        self._hooks.append(hook)

    def remove_tick_hook(self, hook: TickHook) -> None:
        self._hooks.remove(hook)

    def is_market_hours(self) -> bool:
        """Polygon's market status when known, else the clock (the feed's watchdog predicate)."""
        return self.market_open if self.market_open is not None else self._clock_hours()

    # -- FeedSink ----------------------------------------------------------------------------------------------

    def on_trade(self, trade: TradeTick, recv_ns: int) -> None:
        state = self._states.get(trade.symbol)
        if state is None:
            return
        ts, price = trade.ts_ms, trade.price
        if ts > state.last_ts_ms:
            if state.last_ts_ms:
                state.gaps.append(ts - state.last_ts_ms)
            state.last_ts_ms = ts
        state.last = price
        state.seen_ms = max(state.seen_ms, ts)
        state.lag_s = recv_ns / 1e9 - ts / 1e3
        for hook in self._hooks:
            hook(trade.symbol, price, price, price, ts, False)
        self._mark(state, recv_ns)

    def on_quote(self, quote: QuoteTick, recv_ns: int) -> None:
        state = self._states.get(quote.symbol)
        if state is None:
            return
        state.bid, state.ask = quote.bid, quote.ask
        state.bid_size, state.ask_size = quote.bid_size, quote.ask_size
        state.seen_ms = max(state.seen_ms, quote.ts_ms)
        self._mark(state, recv_ns)

    def on_bar(self, bar: BarTick, seconds: int, recv_ns: int, late: bool = False) -> None:
        state = self._states.get(bar.symbol)
        if state is None:
            return
        ring = state.seconds if seconds == 1 else state.minutes
        if not _insert(ring, bar, self._caps.get(seconds, 390)):
            self.duplicates += 1
            return
        end_ms = bar.start_ms + seconds * 1000
        if not late:
            state.seen_ms = max(state.seen_ms, end_ms)
            if state.last is None:
                state.last, state.last_ts_ms = bar.close, end_ms
                self._mark(state, recv_ns)
        for hook in self._hooks:
            hook(bar.symbol, bar.close, bar.high, bar.low, end_ms, late)

    # -- publishing --------------------------------------------------------------------------------------------

    def _mark(self, state: SymbolState, recv_ns: int) -> None:
        if state.symbol not in self._dirty:
            self._dirty[state.symbol] = recv_ns
            self._wake.set()

    async def run(self) -> None:
        """Publish one conflated `PriceEvent` per changed symbol; runs until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            dirty, self._dirty = self._dirty, {}
            for symbol, recv_ns in dirty.items():
                state = self._states.get(symbol)
                if state is None or state.last is None:
                    continue
                await self._bus.publish(price_event(state))
                lag = (time.time_ns() - recv_ns) / 1e9
                ENGINE_LAG.observe(lag)
                self._engine_lag.append(lag * 1e3)
                if state.lag_s is not None:  # the latest trade's feed lag, once per published update
                    FEED_LAG.observe(state.lag_s)
                    self._feed_lag.append(state.lag_s * 1e3)
                    state.lag_s = None
                self.published += 1

    # -- reads -------------------------------------------------------------------------------------------------

    @property
    def symbols(self) -> set[str]:
        return set(self._states)

    def state(self, symbol: str) -> SymbolState | None:
        return self._states.get(symbol)

    def is_stale(self, state: SymbolState, now_ms: int | None = None) -> bool:
        """Stale: no data yet, or (in market hours) older than max(2 s, 3x the symbol's median trade gap)."""
        if not state.seen_ms:
            return True
        if not self.is_market_hours():
            return False
        now_ms = now_ms if now_ms is not None else epoch_ms(datetime.now(UTC))
        limit = max(_MIN_STALE_MS, 3 * statistics.median(state.gaps)) if state.gaps else _MIN_STALE_MS
        return now_ms - state.seen_ms > limit

    def quote(self, symbol: str) -> QuoteValue | None:
        """The live quote when the stream has a fresh one, else None."""
        state = self._states.get(symbol)
        if state is None or state.last is None or self.is_stale(state):
            return None
        return QuoteValue(symbol=symbol, last=_dec(state.last), bid=_dec(state.bid), ask=_dec(state.ask),
                          bid_size=state.bid_size, ask_size=state.ask_size, prev_close=state.prev_close,
                          ts=utc_from_epoch(state.last_ts_ms, "ms") if state.last_ts_ms else None,
                          source="polygon:stream")

    def bars(self, symbol: str, seconds: int) -> list[Bar]:
        """The ring buffer of second (1) or minute (60) bars as domain values, oldest first."""
        state = self._states.get(symbol)
        ring = (state.seconds if seconds == 1 else state.minutes) if state else []
        span = "second" if seconds == 1 else "minute"
        return [Bar(symbol=symbol, open=Decimal(repr(b.open)), high=Decimal(repr(b.high)),
                    low=Decimal(repr(b.low)), close=Decimal(repr(b.close)), volume=int(b.volume),
                    start=utc_from_epoch(b.start_ms, "ms"), timespan=span) for b in ring]

    def stats(self) -> StreamStats:
        now_ms = epoch_ms(datetime.now(UTC))
        return StreamStats(symbols=len(self._states), published=self.published, duplicate_bars=self.duplicates,
                           feed_lag_ms=_percentiles(self._feed_lag), engine_lag_ms=_percentiles(self._engine_lag),
                           stale=tuple(sorted(s.symbol for s in self._states.values() if self.is_stale(s, now_ms))))


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _insert(ring: list[BarTick], bar: BarTick, cap: int) -> bool:
    """Insert keeping start order (gap-filled bars land in the middle); False when that start is already there."""
    start = bar.start_ms
    index = len(ring)
    while index and ring[index - 1].start_ms > start:
        index -= 1
    if index and ring[index - 1].start_ms == start:
        return False
    ring.insert(index, bar)
    if len(ring) > cap:
        del ring[: len(ring) - cap]
    return True
