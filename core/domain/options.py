"""Option chains in one shape whatever the source, with the greeks a vendor left out computed (and marked so).

Tradier (`/markets/options/chains?greeks=true`, greeks by ORATS, hourly, missing for illiquid contracts) and
Polygon (`/v3/snapshot/options/{underlying}`) both arrive as `core.domain.market.OptionContract`;
`build_chain` turns them into `OptionRow`s: mid, spread %, days to expiration, and for any contract without
vendor greeks an implied volatility solved from its mid and Black-Scholes greeks (`greeks_source="computed"`),
or none with the reason (`greeks_note`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

import msgspec
import numpy as np

from core.domain.market import OptionContract
from core.domain.options_pricing import DAYS_PER_YEAR, IV_REASONS, IVStatus, bsm, implied_vol

OptionType = Literal["call", "put"]
GreeksSource = Literal["vendor", "computed", "none"]
DEFAULT_RATE = 0.04


class OptionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One contract of a chain, normalized. Prices per share (x100 per contract); iv as a fraction (0.25 =
    25%); theta per calendar day and vega per volatility point, as the vendors quote them."""

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


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else None


def _positive(value: object) -> float | None:
    number = _num(value)
    return number if number is not None and number > 0 else None


def mid_price(bid: float | None, ask: float | None) -> float | None:
    if bid is None or ask is None or ask <= 0 or bid > ask:
        return None
    return round((bid + ask) / 2, 4)


def spread_pct(bid: float | None, ask: float | None) -> float | None:
    """(ask - bid) / mid in percent; None without a two-sided quote."""
    mid = mid_price(bid, ask)
    if mid is None or bid is None or ask is None or mid <= 0:
        return None
    return round((ask - bid) / mid * 100, 2)


class _Vendor(msgspec.Struct, frozen=True):
    iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None

    @property
    def complete(self) -> bool:
        return None not in (self.iv, self.delta, self.gamma, self.theta, self.vega)


def _vendor(contract: OptionContract) -> _Vendor:
    g = contract.greeks
    if g is None:
        return _Vendor(None, None, None, None, None)
    return _Vendor(_positive(g.mid_iv), _num(g.delta), _num(g.gamma), _num(g.theta), _num(g.vega))


def build_chain(symbol: str, contracts: Sequence[OptionContract], *, underlying_price: float | None,
                source: str, as_of: datetime, expiration: date | None = None, rate: float = DEFAULT_RATE,
                dividend_yield: float = 0.0) -> OptionChain:
    """Normalize `contracts` (sorted by expiration, strike, call before put); compute what the vendor lacks."""
    usable = [c for c in contracts if c.option_type in ("call", "put")]
    usable.sort(key=lambda c: (c.expiration, c.strike, c.option_type))
    today = as_of.date()
    vendors = [_vendor(c) for c in usable]
    missing = [i for i, v in enumerate(vendors) if not v.complete]
    computed = _compute(usable, vendors, missing, underlying_price, today, rate, dividend_yield)
    rows = []
    for index, contract in enumerate(usable):
        bid, ask = _num(contract.quote.bid), _num(contract.quote.ask)
        vendor = vendors[index]
        fill = computed.get(index)
        source_kind: GreeksSource = "vendor"
        note = None
        if fill is not None:
            vendor, note = fill
            source_kind = "computed" if note is None else "none"
        rows.append(OptionRow(
            option_symbol=occ_symbol(contract.symbol), type=contract.option_type,  # type: ignore[arg-type]
            strike=float(contract.strike), expiration=contract.expiration,
            dte=(contract.expiration - today).days, bid=bid, ask=ask, mid=mid_price(bid, ask),
            last=_num(contract.quote.last), volume=contract.volume, open_interest=contract.open_interest,
            iv=vendor.iv, delta=vendor.delta, gamma=vendor.gamma, theta=vendor.theta, vega=vendor.vega,
            spread_pct=spread_pct(bid, ask), greeks_source=source_kind, greeks_note=note))
    return OptionChain(symbol=symbol, expiration=expiration, underlying_price=underlying_price, source=source,
                       as_of=as_of, contracts=tuple(rows))


def _compute(contracts: list[OptionContract], vendors: list[_Vendor], missing: list[int],  # noqa: PLR0917
             underlying: float | None, today: date, rate: float,
             dividend: float) -> dict[int, tuple[_Vendor, str | None]]:
    """Greeks for the contracts at `missing`, vectorized: the vendor's IV when it has one, else solved from mid."""
    if not missing:
        return {}
    empty = _Vendor(None, None, None, None, None)
    if underlying is None or underlying <= 0:
        return {i: (empty, "no underlying price to compute greeks from") for i in missing}
    strike = np.array([float(contracts[i].strike) for i in missing])
    years = np.array([(contracts[i].expiration - today).days for i in missing], dtype=np.float64) / DAYS_PER_YEAR
    call = np.array([contracts[i].option_type == "call" for i in missing])
    mids = np.array([_nan(mid_price(_num(contracts[i].quote.bid), _num(contracts[i].quote.ask))) for i in missing])
    known = np.array([_nan(vendors[i].iv) for i in missing])
    solved, status = implied_vol(mids, underlying, strike, years, rate, dividend, call)
    vol = np.where(np.isnan(known), solved, known)
    greeks = bsm(underlying, strike, years, rate, dividend, vol, call)
    out: dict[int, tuple[_Vendor, str | None]] = {}
    for j, index in enumerate(missing):
        if not np.isfinite(vol[j]) or not np.isfinite(greeks.delta[j]):
            reason = IV_REASONS[IVStatus(int(status[j]))] if np.isnan(known[j]) else "expired"
            out[index] = (empty, f"greeks not computed: {reason}")
            continue
        out[index] = (_Vendor(round(float(vol[j]), 6), round(float(greeks.delta[j]), 6),
                              round(float(greeks.gamma[j]), 6), round(float(greeks.theta[j]), 6),
                              round(float(greeks.vega[j]), 6)), None)
    return out


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def around_the_money(chain: OptionChain, strikes: int = 10) -> tuple[OptionRow, ...]:
    """The `strikes` strikes nearest the underlying price (both types), in strike order."""
    if chain.underlying_price is None:
        return chain.contracts[: strikes * 2]
    price = chain.underlying_price
    nearest = sorted({row.strike for row in chain.contracts}, key=lambda k: abs(k - price))[:strikes]
    keep = set(nearest)
    return tuple(row for row in chain.contracts if row.strike in keep)
