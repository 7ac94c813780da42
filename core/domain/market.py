"""Market values: what a trade, a quote, a bar and the market's session look like inside the product.

Prices are ``Decimal`` at the seams the user sees; the hot feed path keeps floats in msgspec structs and converts
only when a value leaves the engine (see core/adapters/polygon/wire.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from core.domain import symbols


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    price: Decimal
    size: int
    ts: datetime


@dataclass(frozen=True, slots=True)
class Quote:
    """Last known prices for one symbol; any part may be unknown (None) and is then never invented."""

    symbol: str
    last: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    bid_size: int | None
    ask_size: int | None
    prev_close: Decimal | None
    ts: datetime | None
    source: str

    @property
    def change(self) -> Decimal | None:
        if self.last is None or self.prev_close is None:
            return None
        return self.last - self.prev_close

    @property
    def change_pct(self) -> Decimal | None:
        if self.last is None or not self.prev_close:
            return None
        return (self.last - self.prev_close) / self.prev_close * 100

    @property
    def spread(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return self.ask - self.bid


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    start: datetime
    timespan: str
    vwap: Decimal | None = None


class MarketSession(StrEnum):
    OPEN = "open"
    EXTENDED_HOURS = "extended-hours"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class MarketStatus:
    session: MarketSession
    server_time: datetime | None
    source: str
    early_hours: bool = False
    after_hours: bool = False
    exchanges: dict[str, str] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.session is MarketSession.OPEN


@dataclass(frozen=True, slots=True)
class OptionGreeks:
    """Greeks and implied volatility for one contract (Tradier takes them from ORATS, refreshed hourly)."""

    delta: Decimal | None
    gamma: Decimal | None
    theta: Decimal | None
    vega: Decimal | None
    mid_iv: Decimal | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class OptionContract:
    """One row of an option chain: the contract, its quote and (when known) its greeks."""

    symbol: str
    underlying: str
    expiration: date
    strike: Decimal
    option_type: str
    quote: Quote
    open_interest: int | None = None
    volume: int | None = None
    greeks: OptionGreeks | None = None


@dataclass(frozen=True, slots=True)
class MarketHoliday:
    """One upcoming closure or early close (Polygon `/v1/marketstatus/upcoming`)."""

    exchange: str
    name: str
    date: date
    status: str
    open: datetime | None = None
    close: datetime | None = None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PER_MICRO = {"ms": None, "us": 1, "ns": 1000}
_ET = ZoneInfo("America/New_York")


def utc_from_epoch(value: int, unit: Literal["ms", "us", "ns"]) -> datetime:
    """Exact integer conversion of an epoch timestamp (ms, us or ns) to aware UTC; never goes through a float."""
    if unit == "ms":
        return _EPOCH + timedelta(milliseconds=value)
    return _EPOCH + timedelta(microseconds=value // (_PER_MICRO[unit] or 1))


def us_equity_hours(now: datetime) -> bool:
    """Clock-only fallback for regular trading hours (Mon-Fri 09:30-16:00 New York); ignores holidays."""
    local = now.astimezone(_ET)
    if local.weekday() >= 5:
        return False
    minutes = local.hour * 60 + local.minute
    return 9 * 60 + 30 <= minutes < 16 * 60


class TradeTick(Protocol):
    """A trade as the feed delivers it (a read-only view; the adapter's wire struct satisfies it)."""

    @property
    def symbol(self) -> str: ...
    @property
    def price(self) -> float: ...
    @property
    def size(self) -> float: ...
    @property
    def ts_ms(self) -> int: ...


class QuoteTick(Protocol):
    """An NBBO quote as the feed delivers it."""

    @property
    def symbol(self) -> str: ...
    @property
    def bid(self) -> float: ...
    @property
    def bid_size(self) -> int: ...
    @property
    def ask(self) -> float: ...
    @property
    def ask_size(self) -> int: ...
    @property
    def ts_ms(self) -> int: ...


class BarTick(Protocol):
    """A second or minute aggregate as the feed delivers it (`start_ms` is the window start)."""

    @property
    def symbol(self) -> str: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> float: ...
    @property
    def start_ms(self) -> int: ...


class FeedSink(Protocol):
    """Where a market feed delivers ticks: no per-event domain objects on the hot path. Exchange times are epoch
    ms; `recv_ns` is the wall clock (`time.time_ns()`) when the frame was read off the socket; `late` marks
    bars gap-filled through REST after a reconnect."""

    def on_trade(self, trade: TradeTick, recv_ns: int) -> None: ...

    def on_quote(self, quote: QuoteTick, recv_ns: int) -> None: ...

    def on_bar(self, bar: BarTick, seconds: int, recv_ns: int, late: bool = False) -> None: ...


normalize_symbol = symbols.normalize_symbol  # re-exported: the one symbol rule lives in core.domain.symbols


def epoch_ms(moment: datetime) -> int:
    """Aware datetime -> epoch milliseconds, in integer arithmetic."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)
