"""Market values: what a trade, a quote, a bar and the market's session look like inside the product.

Prices are ``Decimal`` at the seams the user sees; the hot feed path keeps floats in msgspec structs and converts
only when a value leaves the engine (see core/adapters/polygon/wire.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


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

    @property
    def is_open(self) -> bool:
        return self.session is MarketSession.OPEN
