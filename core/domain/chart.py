"""What a price chart draws besides the candles: session VWAP, the prior day's high/low, the 15-minute opening
range, and the trader's own levels (alerts, a plan's entry/stop/targets, positions, working stops, fills).

The intraday studies fold the candles through the picks scanner's `SessionState`, so the chart's VWAP, prior-day
levels and opening range are the very numbers a pick's setup was judged on (regular hours, New York time,
typical-price VWAP).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from core.domain.numbers import fmt_num
from core.domain.orders import BrokerOrder, OrderType, Position
from core.domain.setups.session import OPENING_RANGES, MinuteBar, SessionState

OPENING_RANGE_MINUTES = 15
_OR_SLOT = OPENING_RANGES.index(OPENING_RANGE_MINUTES)
MARKET_TZ = ZoneInfo("America/New_York")
LevelKind = Literal["alert", "plan_entry", "plan_stop", "plan_target", "position_avg", "position_stop", "fill"]
_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
_PLAN_KEYS: tuple[tuple[LevelKind, str], ...] = (("plan_entry", "entry"), ("plan_stop", "stop"))
_FILLED = frozenset({"filled", "partially_filled"})


@dataclass(frozen=True, slots=True)
class Candle:
    """One aggregate; ``t`` is its window start in epoch seconds (UTC)."""

    t: int
    o: float
    h: float
    l: float  # noqa: E741 (the OHLC letter the chart library and the wire use)
    c: float
    v: float


@dataclass(frozen=True, slots=True)
class Point:
    t: int
    value: float


@dataclass(frozen=True, slots=True)
class Range:
    high: float
    low: float


@dataclass(frozen=True, slots=True)
class OpeningRange:
    high: float
    low: float
    minutes: int = OPENING_RANGE_MINUTES


@dataclass(frozen=True, slots=True)
class Studies:
    vwap: list[Point]
    prior_day: Range | None
    opening_range: OpeningRange | None


@dataclass(frozen=True, slots=True)
class Level:
    kind: LevelKind
    price: float
    label: str


def intraday_studies(candles: Sequence[Candle], minutes_per_candle: int) -> Studies:
    """Session VWAP per regular-hours candle (reset each session), the high/low of the last regular session
    before the newest candle's day, and that day's opening range (None unless the candles divide its 15 minutes
    and it is over). Candles oldest first."""
    state = SessionState("chart")
    vwap: list[Point] = []
    for candle in candles:
        if state.add(MinuteBar(candle.t * 1000, candle.o, candle.h, candle.l, candle.c, candle.v)):
            vwap.append(Point(candle.t, round(state.vwap, 4)))
    if not candles or state.day is None:
        return Studies(vwap, None, None)
    if _day_of(candles[-1].t) > state.day:  # the newest candles are after that session (pre-market, evening)
        return Studies(vwap, _range(state.hod, state.lod), None)
    opening = None
    if OPENING_RANGE_MINUTES % minutes_per_candle == 0 and not math.isnan(state.or_high[_OR_SLOT]):
        opening = OpeningRange(state.or_high[_OR_SLOT], state.or_low[_OR_SLOT])
    return Studies(vwap, _range(state.history.prior_high, state.history.prior_low), opening)


def daily_prior_day(candles: Sequence[Candle]) -> Range | None:
    """On a daily chart: the day before the newest candle."""
    return Range(candles[-2].h, candles[-2].l) if len(candles) >= 2 else None


def last_days(candles: Sequence[Candle], days: int) -> list[Candle]:
    """The candles of the newest ``days`` New York dates present (oldest first)."""
    wanted = sorted({_day_of(c.t) for c in candles})[-days:]
    return [c for c in candles if wanted and _day_of(c.t) >= wanted[0]]


def _day_of(epoch_s: int) -> date:
    return datetime.fromtimestamp(epoch_s, MARKET_TZ).date()


def _range(high: float, low: float) -> Range | None:
    return None if math.isnan(high) or math.isnan(low) else Range(high, low)


def _price(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def _qty(value: Decimal) -> str:
    return format(abs(value).normalize(), "f")


def plan_levels(plan: Mapping[str, Any]) -> list[Level]:
    """A journal plan's entry, stop and targets (``targets`` list or a single ``target``); what is missing or
    not a positive number is left out."""
    levels = []
    for kind, key in _PLAN_KEYS:
        price = _price(plan.get(key))
        if price is not None:
            levels.append(Level(kind, float(price), f"Plan {key} {fmt_num(price)}"))
    targets = plan.get("targets")
    targets = targets if isinstance(targets, list) else [plan.get("target")]
    for number, target in enumerate(targets, start=1):
        price = _price(target)
        if price is not None:
            levels.append(Level("plan_target", float(price), f"Target {number} {fmt_num(price)}"))
    return levels


def position_level(position: Position) -> Level | None:
    if not position.quantity:
        return None
    side = "Long" if position.is_long else "Short"
    return Level("position_avg", float(position.average_price),
                 f"{side} {_qty(position.quantity)} avg {fmt_num(position.average_price)}")


def order_levels(orders: Iterable[BrokerOrder], symbol: str, today: date) -> list[Level]:
    """Working stop orders and today's fills in ``symbol`` (legs of brackets and OCOs included)."""
    levels = []
    for order in _flatten(orders):
        if order.symbol != symbol or order.option_symbol:
            continue
        if order.is_working and order.type in _STOP_TYPES and order.stop is not None:
            levels.append(Level("position_stop", float(order.stop), f"Stop {fmt_num(order.stop)}"))
        when = order.updated_at or order.created_at
        if (order.status in _FILLED and order.avg_fill_price is not None and when is not None
                and when.astimezone(MARKET_TZ).date() == today):
            verb = "Bought" if order.side.is_buy else "Sold"
            levels.append(Level("fill", float(order.avg_fill_price),
                                f"{verb} {_qty(order.exec_quantity or order.quantity)} @ "
                                f"{fmt_num(order.avg_fill_price)}"))
    return levels


def _flatten(orders: Iterable[BrokerOrder]) -> Iterable[BrokerOrder]:
    for order in orders:
        yield from _flatten(order.legs) if order.legs else (order,)
