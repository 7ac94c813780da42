"""Option values shared by every options module and front-end, free of numpy so that importing them (the API,
the bots, the coach) does not load the numeric stack; `core.domain.options` builds chains with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import msgspec

from core.errors import Invalid

MAX_RESULTS = 50
DAYS_PER_YEAR = 365.0

OptionType = Literal["call", "put"]
GreeksSource = Literal["vendor", "computed", "none"]
DEFAULT_RATE = 0.04  # the OPTIONS_RISK_FREE_RATE default: roughly the 3-month T-bill yield


class OptionRow(msgspec.Struct, frozen=True, gc=False):
    """One contract of a chain, normalized; built positionally (2,000 rows a chain). Prices per share (x100 per
    contract); iv as a fraction (0.25 = 25%); theta per calendar day and vega per volatility point, as the
    vendors quote them."""

    option_symbol: str
    type: OptionType
    strike: float
    expiration: date
    dte: int
    bid: float | None
    ask: float | None
    mid: float | None
    last: float | None
    volume: int | None
    open_interest: int | None
    iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    spread_pct: float | None
    greeks_source: GreeksSource
    greeks_note: str | None = None


class OptionChain(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    expiration: date | None
    underlying_price: float | None
    source: str
    as_of: datetime
    contracts: tuple[OptionRow, ...]


def occ_symbol(vendor_symbol: str) -> str:
    """Polygon writes `O:SPY240621C00500000`; orders and Tradier use the bare OCC symbol."""
    return vendor_symbol.removeprefix("O:")


def mid_price(bid: float | None, ask: float | None) -> float | None:
    if bid is None or ask is None or ask <= 0 or bid > ask:
        return None
    return round((bid + ask) / 2, 4)


def around_the_money(chain: OptionChain, strikes: int = 10) -> tuple[OptionRow, ...]:
    """The `strikes` strikes nearest the underlying price (both types), in strike order."""
    if chain.underlying_price is None:
        return chain.contracts[: strikes * 2]
    price = chain.underlying_price
    nearest = sorted({row.strike for row in chain.contracts}, key=lambda k: abs(k - price))[:strikes]
    keep = set(nearest)
    return tuple(row for row in chain.contracts if row.strike in keep)


class ScreenFilter(msgspec.Struct, frozen=True, kw_only=True):
    type: OptionType | None = None
    delta_min: float | None = None
    delta_max: float | None = None
    dte_min: int | None = None
    dte_max: int | None = None
    max_spread_pct: float | None = None
    min_open_interest: int | None = None
    min_volume: int | None = None
    limit: int = 20

    def check(self) -> None:
        """Refuse windows that can match nothing, naming the field."""
        for low, high, name in ((self.delta_min, self.delta_max, "delta"), (self.dte_min, self.dte_max, "dte")):
            if low is not None and high is not None and low > high:
                raise Invalid(f"{name}_min ({low}) is above {name}_max ({high})", details={"field": f"{name}_min"})
        for value, name in ((self.delta_min, "delta_min"), (self.delta_max, "delta_max")):
            if value is not None and not 0 <= value <= 1:
                raise Invalid(f"{name} is an absolute delta between 0 and 1, got {value}", details={"field": name})
        if not 1 <= self.limit <= MAX_RESULTS:
            raise Invalid(f"limit must be 1-{MAX_RESULTS}", details={"field": "limit"})


class ScreenHit(msgspec.Struct, frozen=True):
    contract: OptionRow
    reason: str


@dataclass(frozen=True, slots=True)
class PriceResult:
    """Black-Scholes value and greeks; `iv_solved` when the volatility came from a price, `iv_note` when none."""

    value: float | None
    iv: float | None
    iv_solved: bool
    iv_note: str | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    rho: float | None
    years: float
    model: str = "Black-Scholes-Merton with continuous dividend yield (European exercise approximation)"
