"""Market use cases: quotes (live when fresh, else REST), bars, news, market status, the watched symbols and the
`status` events of the market-data integration. The live state is a `PriceStream` (core.engines.stream)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import msgspec
import structlog
from prometheus_client import Gauge

from core.domain.events import StatusEvent
from core.domain.market import (
    Bar,
    MarketSession,
    MarketStatus,
    OptionContract,
    Quote,
    epoch_ms,
    normalize_symbol,
)
from core.domain.market_views import REST_ONLY, Freshness, Headline, MarketDataStatus, WatchedPrice
from core.domain.prices import price_event
from core.errors import CoreError, IntegrationDisabled, Invalid
from core.ports import EventBus, MarketData, MarketFeed, PriceStream

log = structlog.get_logger("service.market")

BAR_TIMESPANS: dict[str, float] = {"second": 1 / 86400, "minute": 1 / 390, "hour": 1 / 7, "day": 1,
                                   "week": 7, "month": 31}
QUOTE_STALENESS = Gauge("tradeassist_quote_staleness_seconds",
                        "Seconds since a watched symbol's latest trade, quote or bar (exchange time)", ["symbol"])


_HOW_TO_ENABLE = "set POLYGON_API_KEY to your Polygon (Massive) API key and restart"


class MarketService:
    """Built by the runtime with the Polygon adapters, or with `data=None` when market data is disabled."""

    def __init__(self, bus: EventBus, engine: PriceStream, *, data: MarketData | None,
                 feed: MarketFeed | None = None, disabled_reason: str = "POLYGON_API_KEY is not set",
                 status_interval: float = 1.0, market_status_ttl: float = 60.0) -> None:
        self._bus, self._engine, self._data, self._feed = bus, engine, data, feed
        self._disabled_reason = disabled_reason
        self._status_interval, self._market_ttl = status_interval, market_status_ttl
        self._market: MarketStatus | None = None
        self._market_at = 0.0
        self._published: tuple[object, ...] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._prev_slots = asyncio.Semaphore(8)

    @property
    def engine(self) -> PriceStream:
        return self._engine

    def _require(self) -> MarketData:
        if self._data is None:
            raise IntegrationDisabled("market_data", self._disabled_reason, _HOW_TO_ENABLE)
        return self._data

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Engine publisher, feed, market-status refresh and status events; runs until cancelled."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._engine.run())
                if self._feed is not None:
                    group.create_task(self._feed.run())
                group.create_task(self._status_loop())
        finally:  # previous-close loads must not outlive the REST client the runtime closes next
            for task in list(self._tasks):
                task.cancel()

    async def watch(self, symbols: Iterable[str]) -> list[str]:
        """Replace the watched set (watchlist + alert symbols): normalised, subscribed live, prev closes loaded."""
        wanted = {normalize_symbol(s) for s in symbols}
        added = self._engine.watch(wanted)
        if self._feed is not None:
            await self._feed.set_symbols(wanted)
        if self._data is not None:
            for symbol in sorted(added):
                task = asyncio.create_task(self._load_prev_close(self._data, symbol))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return sorted(wanted)

    async def _load_prev_close(self, data: MarketData, symbol: str) -> None:
        try:
            async with self._prev_slots:  # 500 new symbols must not be 500 simultaneous requests
                bar = await data.previous_close(symbol)
        except CoreError as exc:
            log.warning("prev_close_failed", symbol=symbol, error=exc.message)
            return
        if bar is not None:
            self._engine.set_prev_close(symbol, bar.close)

    # -- queries -----------------------------------------------------------------------------------------------

    async def quote(self, symbol: str) -> Quote:
        """The live stream quote when fresh, otherwise a REST snapshot (NotFound with Polygon's reason)."""
        symbol = normalize_symbol(symbol)
        live = self._engine.quote(symbol)
        if live is not None:
            return live
        return await self._require().quote(symbol)

    async def bars(self, symbol: str, *, timespan: str = "minute", limit: int = 100,
                   multiplier: int = 1) -> list[Bar]:
        """The latest `limit` bars, oldest first, from REST aggregates."""
        symbol = normalize_symbol(symbol)
        if timespan not in BAR_TIMESPANS or not 1 <= limit <= 5000 or multiplier < 1:
            raise Invalid(f"timespan must be one of {sorted(BAR_TIMESPANS)}, limit 1-5000, multiplier >= 1",
                          details={"timespan": timespan, "limit": limit, "multiplier": multiplier})
        today = datetime.now(UTC).date()
        days = math.ceil(limit * multiplier * BAR_TIMESPANS[timespan] * 1.6) + 5
        bars = await self._require().bars(symbol, multiplier=multiplier, timespan=timespan,
                                          start=today - timedelta(days=days), end=today, limit=limit, sort="desc")
        return sorted(bars, key=lambda bar: bar.start)

    async def bars_between(self, symbol: str, *, timespan: str, multiplier: int, start: datetime,
                           end: datetime) -> list[Bar]:
        """Every bar from ``start`` to ``end`` (a chart's window), oldest first."""
        return await self._require().bars(normalize_symbol(symbol), multiplier=multiplier, timespan=timespan,
                                          start=epoch_ms(start), end=epoch_ms(end), limit=50_000)

    async def news(self, symbol: str | None = None, *, limit: int = 10) -> list[Headline]:
        if not 1 <= limit <= 100:
            raise Invalid("limit must be 1-100", details={"limit": limit})
        return await self._require().news(normalize_symbol(symbol) if symbol else None, limit=limit)

    async def options_chain(self, underlying: str, *, contract_type: Literal["call", "put"] | None = None,
                            max_contracts: int = 1000, expiration: date | None = None) -> list[OptionContract]:
        return await self._require().options_chain(normalize_symbol(underlying), contract_type=contract_type,
                                                   max_contracts=max_contracts, expiration=expiration)

    async def movers(self, direction: Literal["gainers", "losers"]) -> list[Quote]:
        return await self._require().movers(direction)

    async def market_status(self) -> MarketStatus:
        """Polygon's market status, cached for `market_status_ttl` seconds."""
        loop = asyncio.get_running_loop()
        if self._market is None or loop.time() - self._market_at > self._market_ttl:
            self._market = await self._require().market_status()
            self._market_at = loop.time()
            self._engine.market_open = self._market.session is MarketSession.OPEN
        return self._market

    def market_open(self) -> bool:
        return self._engine.is_market_hours()

    def snapshot(self) -> list[WatchedPrice]:
        """Every watched symbol for `GET /stream/prices`: last/bid/ask/change as strings, ts, age and stale flag."""
        now_ms = epoch_ms(datetime.now(UTC))
        rows = []
        for symbol in sorted(self._engine.symbols):
            state = self._engine.state(symbol)
            if state is None:
                continue
            event = price_event(state) if state.last is not None else None
            age = round((now_ms - state.seen_ms) / 1000, 3) if state.seen_ms else None
            stale = self._engine.is_stale(state, now_ms)
            if event is None:
                rows.append(WatchedPrice(symbol, None, None, None, None, None, None, age, stale))
            else:
                rows.append(WatchedPrice(symbol, event.last, event.bid, event.ask, event.change, event.change_pct,
                                         event.as_of, age, stale))
        return rows

    def freshness(self) -> list[Freshness]:
        """Every watched symbol's data age and staleness (the stream engine's rule), kept in QUOTE_STALENESS."""
        now_ms = epoch_ms(datetime.now(UTC))
        rows = []
        QUOTE_STALENESS.clear()
        for symbol in sorted(self._engine.symbols):
            state = self._engine.state(symbol)
            if state is None or not state.seen_ms:
                rows.append(Freshness(symbol, None, "no_data"))
                continue
            age = round((now_ms - state.seen_ms) / 1000, 3)
            QUOTE_STALENESS.labels(symbol=symbol).set(age)
            rows.append(Freshness(symbol, age, "stale" if self._engine.is_stale(state, now_ms) else "fresh"))
        return rows

    def status(self) -> MarketDataStatus:
        """The market-data integration as `/diag/config` and `status` events show it."""
        if self._data is None:
            return MarketDataStatus.disabled(self._disabled_reason, _HOW_TO_ENABLE)
        feed = self._feed.status if self._feed is not None else REST_ONLY
        return MarketDataStatus.running(feed, self._market.session.value if self._market else None,
                                        self._engine.stats())

    # -- background --------------------------------------------------------------------------------------------

    async def _status_loop(self) -> None:
        while True:
            if self._data is not None:
                try:
                    await self.market_status()
                except CoreError as exc:
                    log.warning("market_status_failed", error=exc.message)
            current = self.status()
            key = (current.enabled, current.state, current.reason, current.market, current.stale)
            if key != self._published:
                self._published = key
                await self._bus.publish(StatusEvent(integrations={"market_data": msgspec.to_builtins(current)}))
            await asyncio.sleep(self._status_interval)
