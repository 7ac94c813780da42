"""Black-Scholes-Merton with a continuous dividend yield, vectorized over a chain (numpy arrays in, arrays out).

A European approximation: US equity options are American, so an early-exercise premium (deep in-the-money
puts, calls before a dividend) is not in these values. Units follow the vendors' chains: theta per calendar
day, vega and rho per 1 percentage point; time in years (calendar days / 365).

The implied-volatility solver brackets every contract in [MIN_VOL, MAX_VOL] and takes Newton steps, falling
back to bisection whenever a step leaves the bracket or vega vanishes, so it converges for every contract whose
price lies strictly inside the no-arbitrage bounds. A price outside them has no volatility: NaN with a reason,
never a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr  # type: ignore[import-untyped]

from core.domain.options_types import DAYS_PER_YEAR, PriceResult

Array = NDArray[np.float64]

MIN_VOL = 1e-4
MAX_VOL = 5.0
PRICE_TOLERANCE = 1e-9
MAX_ITERATIONS = 100
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class IVStatus(IntEnum):
    """Why a contract has (or has no) implied volatility."""

    OK = 0
    EXPIRED = 1
    NO_PRICE = 2
    BELOW_INTRINSIC = 3
    ABOVE_UPPER_BOUND = 4
    ABOVE_MAX_VOL = 5


IV_REASONS: dict[IVStatus, str] = {
    IVStatus.OK: "solved",
    IVStatus.EXPIRED: "expired: no time value to solve for",
    IVStatus.NO_PRICE: "no price to solve from",
    IVStatus.BELOW_INTRINSIC: "price is at or below the no-arbitrage lower bound (discounted intrinsic value)",
    IVStatus.ABOVE_UPPER_BOUND: "price is at or above the no-arbitrage upper bound",
    IVStatus.ABOVE_MAX_VOL: f"implied volatility would be above {MAX_VOL:.0%}",
}


@dataclass(frozen=True, slots=True)
class Greeks:
    """Theoretical value and greeks, one array element per contract."""

    value: Array
    delta: Array
    gamma: Array
    theta: Array
    vega: Array
    rho: Array


def _arrays(*values: ArrayLike) -> list[Array]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(*values)]


def _d1_d2(spot: Array, strike: Array, years: Array, rate: Array, dividend: Array,  # noqa: PLR0917
           vol: Array) -> tuple[Array, Array, Array]:
    sqrt_t = np.sqrt(years)
    vol_sqrt_t = vol * sqrt_t
    d1 = (np.log(spot / strike) + (rate - dividend + 0.5 * vol * vol) * years) / vol_sqrt_t
    return d1, d1 - vol_sqrt_t, sqrt_t


def bsm_value(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, rate: ArrayLike, dividend: ArrayLike,  # noqa: PLR0917
              vol: ArrayLike, is_call: ArrayLike) -> Array:
    """Theoretical value only (the solver's inner loop)."""
    s, k, t, r, q, v, call = _arrays(spot, strike, years, rate, dividend, vol, is_call)
    d1, d2, _ = _d1_d2(s, k, t, r, q, v)
    sign = np.where(call > 0, 1.0, -1.0)
    value: Array = sign * (s * np.exp(-q * t) * ndtr(sign * d1) - k * np.exp(-r * t) * ndtr(sign * d2))
    return value


def bsm(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, rate: ArrayLike, dividend: ArrayLike,  # noqa: PLR0917
        vol: ArrayLike, is_call: ArrayLike) -> Greeks:
    """Value and greeks of calls (`is_call` true) and puts; NaN where `years` or `vol` is not above zero."""
    s, k, t, r, q, v, call = _arrays(spot, strike, years, rate, dividend, vol, is_call)
    valid = (t > 0) & (v > 0) & (s > 0) & (k > 0)
    t = np.where(valid, t, np.nan)
    d1, d2, sqrt_t = _d1_d2(s, k, t, r, q, v)
    sign = np.where(call > 0, 1.0, -1.0)
    carry, discount = np.exp(-q * t), np.exp(-r * t)
    n_d1, n_d2 = ndtr(sign * d1), ndtr(sign * d2)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    value = sign * (s * carry * n_d1 - k * discount * n_d2)
    theta_year = (-s * carry * pdf * v / (2.0 * sqrt_t) - sign * r * k * discount * n_d2
                  + sign * q * s * carry * n_d1)
    return Greeks(value=value, delta=sign * carry * n_d1, gamma=carry * pdf / (s * v * sqrt_t),
                  theta=theta_year / DAYS_PER_YEAR, vega=s * carry * pdf * sqrt_t / 100.0,
                  rho=sign * k * t * discount * n_d2 / 100.0)


def no_arbitrage_bounds(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, rate: ArrayLike,  # noqa: PLR0917
                        dividend: ArrayLike, is_call: ArrayLike) -> tuple[Array, Array]:
    """(lower, upper) for a European option: discounted intrinsic value and the discounted spot or strike."""
    s, k, t, r, q, call = _arrays(spot, strike, years, rate, dividend, is_call)
    forward_spot, pv_strike = s * np.exp(-q * t), k * np.exp(-r * t)
    lower = np.maximum(np.where(call > 0, forward_spot - pv_strike, pv_strike - forward_spot), 0.0)
    upper = np.where(call > 0, forward_spot, pv_strike)
    return lower, upper


def implied_vol(price: ArrayLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike, rate: ArrayLike,  # noqa: PLR0917
                dividend: ArrayLike, is_call: ArrayLike) -> tuple[Array, NDArray[np.int8]]:
    """(vol, status): vol is NaN wherever status is not IVStatus.OK."""
    arrays = _arrays(price, spot, strike, years, rate, dividend, is_call)
    shape = arrays[0].shape
    p, s, k, t, r, q, call = (a.ravel() for a in arrays)
    vol, status = _implied_flat(p, s, k, t, r, q, call)
    return vol.reshape(shape), status.reshape(shape)


def _implied_flat(p: Array, s: Array, k: Array, t: Array, r: Array, q: Array,  # noqa: PLR0917
                  call: Array) -> tuple[Array, NDArray[np.int8]]:
    status = np.zeros(p.shape, dtype=np.int8)
    lower, upper = no_arbitrage_bounds(s, k, t, r, q, call)
    tolerance = PRICE_TOLERANCE * np.maximum(p, 1.0)
    status[p >= upper - tolerance] = IVStatus.ABOVE_UPPER_BOUND
    status[p <= lower + tolerance] = IVStatus.BELOW_INTRINSIC
    status[~(p > 0)] = IVStatus.NO_PRICE
    status[~(t > 0)] = IVStatus.EXPIRED
    active = status == IVStatus.OK
    safe_t = np.where(active, t, 1.0)
    too_high = active & (bsm_value(s, k, safe_t, r, q, MAX_VOL, call) < p)
    status[too_high] = IVStatus.ABOVE_MAX_VOL
    active &= ~too_high
    vol = np.full(p.shape, np.nan)
    if not active.any():
        return vol, status
    index = np.flatnonzero(active)
    vol[index] = _solve(p[index], s[index], k[index], t[index], r[index], q[index], call[index])
    return vol, status


def _solve(price: Array, spot: Array, strike: Array, years: Array, rate: Array, dividend: Array,  # noqa: PLR0917
           call: Array) -> Array:
    """Safeguarded Newton over contracts that all have a root in [MIN_VOL, MAX_VOL]."""
    low, high = np.full(price.shape, MIN_VOL), np.full(price.shape, MAX_VOL)
    # Brenner-Subrahmanyam's at-the-money estimate as the first guess, kept inside the bracket
    vol = np.clip(price / spot * math.sqrt(2.0 * math.pi) / np.sqrt(years), 0.05, 2.0)
    sign = np.where(call > 0, 1.0, -1.0)
    carry, discount, sqrt_t = np.exp(-dividend * years), np.exp(-rate * years), np.sqrt(years)
    log_moneyness = np.log(spot / strike)
    drift = (rate - dividend) * years
    tolerance = PRICE_TOLERANCE * np.maximum(price, 1.0)
    done = np.zeros(price.shape, dtype=bool)
    for _ in range(MAX_ITERATIONS):
        vol_sqrt_t = vol * sqrt_t
        d1 = (log_moneyness + drift + 0.5 * vol * vol * years) / vol_sqrt_t
        value = sign * (spot * carry * ndtr(sign * d1) - strike * discount * ndtr(sign * (d1 - vol_sqrt_t)))
        diff = value - price
        done |= np.abs(diff) <= tolerance
        if done.all():
            break
        high = np.where(diff > 0, vol, high)
        low = np.where(diff <= 0, vol, low)
        vega = spot * carry * _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1) * sqrt_t
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = vol - diff / vega
        inside = (vega > 1e-12) & (newton > low) & (newton < high)
        step = np.where(inside, newton, 0.5 * (low + high))
        vol = np.where(done, vol, step)
        done |= (high - low) <= 1e-12
    return vol


def _finite(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def price_option(*, underlying: float, strike: float, years: float, call: bool, rate: float,
                 dividend_yield: float, iv: float | None, price: float | None) -> PriceResult:
    """One contract: value and greeks at `iv`, or at the volatility `price` implies (none, with the reason,
    outside the no-arbitrage bounds)."""
    solved, note, vol = iv is None, None, iv
    if price is not None:
        vols, status = implied_vol(price, underlying, strike, years, rate, dividend_yield, call)
        code = IVStatus(int(status.flat[0]))
        vol = None if code is not IVStatus.OK else float(vols.flat[0])
        note = None if vol is not None else IV_REASONS[code]
    if vol is None:
        return PriceResult(None, None, solved, note, None, None, None, None, None, years)
    g = bsm(underlying, strike, years, rate, dividend_yield, vol, call)
    return PriceResult(_finite(g.value.flat[0]), round(vol, 6), solved, note, _finite(g.delta.flat[0]),
                       _finite(g.gamma.flat[0]), _finite(g.theta.flat[0]), _finite(g.vega.flat[0]),
                       _finite(g.rho.flat[0]), years)
