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

import numpy as np

from core.domain.market import OptionContract
from core.domain.options_pricing import IV_REASONS, IVStatus, bsm, implied_vol
from core.domain.options_types import DAYS_PER_YEAR, OptionChain, OptionRow, occ_symbol

_NAN = float("nan")
_GREEKS = ("delta", "gamma", "theta", "vega")


def _column(values: Sequence[object]) -> np.ndarray:
    """Decimals/None -> float64 with NaN for unknown (one conversion per value, the rest is vectorized)."""
    return np.array([_NAN if v is None else float(v) for v in values], dtype=np.float64)  # type: ignore[arg-type]


def _listed(values: np.ndarray, places: int) -> list[float | None]:
    """Rounded Python floats, None where unknown."""
    rounded = np.round(values, places)
    boxed = rounded.astype(object)
    boxed[np.isnan(rounded)] = None
    listed: list[float | None] = boxed.tolist()
    return listed


def build_chain(symbol: str, contracts: Sequence[OptionContract], *, underlying_price: float | None,
                source: str, as_of: datetime, rate: float, expiration: date | None = None,
                dividend_yield: float = 0.0) -> OptionChain:
    """Normalize `contracts` (sorted by expiration, strike, call before put); compute what the vendor lacks.

    Vendor greeks are kept only as a complete set (IV above zero and all four greeks): Tradier's docs show
    `mid_iv` 0.0 next to greeks that cannot be a put's, so a partial or zero set is recomputed instead."""
    listed = [c for c in contracts if c.option_type in ("call", "put")]
    days = np.array([c.expiration.toordinal() for c in listed], dtype=np.int64) - as_of.date().toordinal()
    strikes = _column([c.strike for c in listed])
    order = np.lexsort((np.array([c.option_type == "put" for c in listed]), strikes, days))
    usable = [listed[i] for i in order.tolist()]
    strikes, dte = strikes[order], days[order]
    bid, ask = _column([c.quote.bid for c in usable]), _column([c.quote.ask for c in usable])
    with np.errstate(invalid="ignore"):
        two_sided = (ask > 0) & (bid <= ask)
        mid = np.where(two_sided, (bid + ask) / 2, np.nan)
        spread = np.where(two_sided & (mid > 0), (ask - bid) / np.where(mid > 0, mid, 1.0) * 100, np.nan)
    g = [c.greeks for c in usable]
    iv = _column([None if x is None else x.mid_iv for x in g])
    iv[~(iv > 0)] = np.nan
    greeks = {name: _column([None if x is None else getattr(x, name) for x in g]) for name in _GREEKS}
    missing = np.isnan(iv)
    for values in greeks.values():
        missing |= np.isnan(values)
    kinds = ["vendor"] * len(usable)
    notes: list[str | None] = [None] * len(usable)
    if missing.any():
        index = np.flatnonzero(missing)
        call = np.array([usable[i].option_type == "call" for i in index])
        filled, note = _compute(call, strikes[index], dte[index] / DAYS_PER_YEAR, mid[index], iv[index],
                                underlying_price, rate, dividend_yield)
        iv[index] = filled["iv"]
        for name in _GREEKS:
            greeks[name][index] = filled[name]
        for j, i in enumerate(index.tolist()):
            notes[i] = note[j]
            kinds[i] = "computed" if note[j] is None else "none"
    columns = zip(usable, strikes.tolist(), _listed(bid, 4), _listed(ask, 4), _listed(mid, 4), _listed(spread, 2),
                  _listed(iv, 6), *(_listed(greeks[name], 6) for name in _GREEKS), dte.tolist(), kinds, notes,
                  strict=True)
    rows = tuple(
        OptionRow(occ_symbol(c.symbol), c.option_type, k, c.expiration, days_left, b, a, m,
                  None if c.quote.last is None else float(c.quote.last), c.volume, c.open_interest, v, d, gm, th,
                  vg, sp, kind, note)
        for c, k, b, a, m, sp, v, d, gm, th, vg, days_left, kind, note in columns)
    return OptionChain(symbol=symbol, expiration=expiration, underlying_price=underlying_price, source=source,
                       as_of=as_of, contracts=rows)


def _compute(call: np.ndarray, strike: np.ndarray, years: np.ndarray, mid: np.ndarray,  # noqa: PLR0917
             known_iv: np.ndarray, underlying: float | None, rate: float,
             dividend: float) -> tuple[dict[str, np.ndarray], list[str | None]]:
    """Black-Scholes greeks at the vendor's IV when it has one, else at the IV solved from the mid; a note where
    neither exists."""
    if underlying is None or underlying <= 0:
        nan = np.full(len(call), np.nan)
        return {name: nan for name in ("iv", *_GREEKS)}, ["no underlying price to compute greeks from"] * len(call)
    solved, status = implied_vol(np.nan_to_num(mid, nan=0.0), underlying, strike, years, rate, dividend, call)
    vol = np.where(np.isnan(known_iv), solved, known_iv)
    greeks = bsm(underlying, strike, years, rate, dividend, np.where(np.isnan(vol), 0.0, vol), call)
    usable = np.isfinite(vol) & np.isfinite(greeks.delta)
    notes = [None if ok else f"greeks not computed: {IV_REASONS[IVStatus(code) if code else IVStatus.EXPIRED]}"
             for ok, code in zip(usable.tolist(), status.tolist(), strict=True)]
    vol = np.where(usable, vol, np.nan)
    return {"iv": vol, "delta": greeks.delta, "gamma": greeks.gamma, "theta": greeks.theta,
            "vega": greeks.vega}, notes
