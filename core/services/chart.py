"""A symbol's chart: Polygon candles with the studies and the trader's levels (core/domain/chart.py).

The candles always come from Polygon aggregates (market data disabled: IntegrationDisabled, never invented
candles). Levels come from this database (live alerts, the newest journal plan) and, with a broker, from the
account (position average, working stops, today's fills); a broker that does not answer leaves its levels out
and says so in ``warnings``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog

from core.db.repositories.alerts import AlertRepository
from core.db.repositories.journal import JournalRepository
from core.db.session import Database
from core.domain.chart import (
    MARKET_TZ,
    Candle,
    Level,
    OpeningRange,
    Point,
    Range,
    daily_prior_day,
    intraday_studies,
    last_days,
    order_levels,
    plan_levels,
    position_level,
)
from core.domain.market import Bar
from core.domain.numbers import fmt_num
from core.domain.symbols import normalize_symbol
from core.errors import CoreError, Invalid
from core.ports import Broker
from core.services.market import MarketService

log = structlog.get_logger("service.chart")

Timespan = Literal["minute", "day"]
TIMESPANS: tuple[Timespan, ...] = ("minute", "day")
MAX_MULTIPLIER = 60
MAX_DAYS: dict[str, int] = {"minute": 10, "day": 1000}


@dataclass(frozen=True, slots=True)
class Chart:
    symbol: str
    as_of: str
    candles: list[Candle]
    vwap: list[Point]
    prior_day: Range | None
    opening_range: OpeningRange | None
    levels: list[Level]
    warnings: list[str] = field(default_factory=list)
    source: Literal["polygon"] = "polygon"


def _candle(bar: Bar) -> Candle:
    return Candle(int(bar.start.timestamp()), float(bar.open), float(bar.high), float(bar.low), float(bar.close),
                  float(bar.volume))


def _check(timespan: str, multiplier: int, days: int) -> None:
    if timespan not in TIMESPANS:
        raise Invalid(f"timespan must be one of {', '.join(TIMESPANS)}", details={"field": "timespan"})
    if not 1 <= multiplier <= MAX_MULTIPLIER:
        raise Invalid(f"multiplier must be 1-{MAX_MULTIPLIER}", details={"field": "multiplier"})
    if not 1 <= days <= MAX_DAYS[timespan]:
        raise Invalid(f"days must be 1-{MAX_DAYS[timespan]} for {timespan} candles", details={"field": "days"})


class ChartService:
    def __init__(self, market: MarketService, db: Database, broker: Broker | None) -> None:
        self.market, self.db, self.broker = market, db, broker

    async def chart(self, symbol: str, *, timespan: str = "minute", multiplier: int = 1, days: int = 1) -> Chart:
        """``days`` sessions of candles (minute), or ``days`` daily candles (day), with studies and levels."""
        symbol = normalize_symbol(symbol)
        _check(timespan, multiplier, days)
        now = datetime.now(UTC)
        # calendar days that hold `days` sessions plus the one before them, across weekends and a holiday
        back = days + 2 * ((days + 4) // 5) + 4 if timespan == "minute" else days * 7 // 5 + 10
        bars, (levels, warnings) = await asyncio.gather(
            self.market.bars_between(symbol, timespan=timespan, multiplier=multiplier,
                                     start=now - timedelta(days=back), end=now),
            self.levels(symbol, now))
        every = [_candle(bar) for bar in bars]
        if timespan == "day":
            candles = every[-days:]
            return Chart(symbol, now.isoformat(), candles, [], daily_prior_day(every), None, levels, warnings)
        candles = last_days(every, days)
        studies = intraday_studies(every, multiplier)
        first = candles[0].t if candles else 0
        vwap = [point for point in studies.vwap if point.t >= first]
        return Chart(symbol, now.isoformat(), candles, vwap, studies.prior_day, studies.opening_range, levels,
                     warnings)

    async def levels(self, symbol: str, now: datetime) -> tuple[list[Level], list[str]]:
        """The trader's levels on ``symbol``: live alerts, the newest plan, then the account's (with a broker)."""
        async with self.db.read() as session:
            alerts = await AlertRepository(session).live_of(symbol)
            plan = (await JournalRepository(session).latest_plans([symbol])).get(symbol)
        levels = [Level("alert", float(row.level), f"Alert {row.condition.removeprefix('price_')} "
                                                   f"{fmt_num(row.level)}") for row in alerts]
        levels += plan_levels(plan) if plan is not None else []
        if self.broker is None:
            return levels, []
        try:
            positions, orders = await asyncio.gather(self.broker.positions(), self.broker.orders())
        except CoreError as exc:
            log.warning("chart.broker_levels_failed", symbol=symbol, error=exc.message)
            return levels, [f"position, stop and fill levels are missing: the broker did not answer ({exc.message})"]
        for position in positions:
            level = position_level(position) if position.symbol == symbol else None
            levels += [level] if level is not None else []
        return levels + order_levels(orders, symbol, now.astimezone(MARKET_TZ).date()), []
