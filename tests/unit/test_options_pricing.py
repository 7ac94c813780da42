"""Black-Scholes-Merton values, greeks and the implied-volatility solver (core/domain/options_pricing.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.options_pricing import IVStatus, bsm, implied_vol, no_arbitrage_bounds


def test_textbook_values_call_10_4506_put_5_5735() -> None:
    greeks = bsm(100, 100, 1.0, 0.05, 0.0, 0.20, [True, False])
    assert greeks.value[0] == pytest.approx(10.4506, abs=5e-5)
    assert greeks.value[1] == pytest.approx(5.5735, abs=5e-5)
    assert greeks.delta[0] == pytest.approx(0.6368, abs=1e-4) and greeks.delta[1] == pytest.approx(-0.3632, abs=1e-4)
    assert greeks.gamma[0] == pytest.approx(0.018762, abs=1e-6) == greeks.gamma[1]
    assert greeks.vega[0] == pytest.approx(0.37524, abs=1e-5)  # per volatility point
    assert greeks.theta[0] == pytest.approx(-6.414 / 365, abs=1e-4)  # per calendar day


def test_dividend_yield_lowers_calls_and_raises_puts() -> None:
    plain = bsm(100, 100, 0.5, 0.03, 0.0, 0.3, [True, False]).value
    paying = bsm(100, 100, 0.5, 0.03, 0.04, 0.3, [True, False]).value
    assert paying[0] < plain[0] and paying[1] > plain[1]


def test_expired_or_zero_vol_is_nan_not_a_number_made_up() -> None:
    greeks = bsm(100, 100, [0.0, 0.5], 0.05, 0.0, [0.2, 0.0], True)
    assert np.isnan(greeks.value).all() and np.isnan(greeks.delta).all()


finite = {"allow_nan": False, "allow_infinity": False}


@settings(max_examples=300, deadline=None)
@given(spot=st.floats(1, 1000, **finite), moneyness=st.floats(0.5, 1.5, **finite),
       years=st.floats(1 / 365, 3, **finite), rate=st.floats(-0.01, 0.1, **finite),
       dividend=st.floats(0, 0.08, **finite), vol=st.floats(0.05, 2, **finite))
def test_put_call_parity(spot: float, moneyness: float, years: float, rate: float, dividend: float,
                         vol: float) -> None:
    strike = spot * moneyness
    call, put = bsm(spot, strike, years, rate, dividend, vol, [True, False]).value
    parity = spot * math.exp(-dividend * years) - strike * math.exp(-rate * years)
    assert call - put == pytest.approx(parity, abs=1e-8 * max(spot, 1))


@settings(max_examples=300, deadline=None)
@given(spot=st.floats(10, 500, **finite), moneyness=st.floats(0.7, 1.3, **finite),
       years=st.floats(7 / 365, 2, **finite), vol=st.floats(0.08, 1.5, **finite), call=st.booleans())
def test_implied_vol_recovers_the_vol_that_priced_the_option(spot: float, moneyness: float, years: float, vol: float,
                                                             call: bool) -> None:
    strike = spot * moneyness
    price = bsm(spot, strike, years, 0.03, 0.01, vol, call).value
    lower, _ = no_arbitrage_bounds(spot, strike, years, 0.03, 0.01, call)
    solved, status = implied_vol(price, spot, strike, years, 0.03, 0.01, call)
    if price[()] - lower[()] < 1e-6 * spot:  # no time value left to tell volatilities apart
        return
    assert status[()] == IVStatus.OK
    assert bsm(spot, strike, years, 0.03, 0.01, solved, call).value[()] == pytest.approx(price[()], rel=1e-8, abs=1e-8)


def test_prices_outside_the_no_arbitrage_bounds_have_no_vol_and_say_why() -> None:
    # a 1-year ATM call is worth at least S - K e^-rT = 4.88; a call is worth at most S; a put at most K e^-rT
    prices = [0.5, 100.0, 96.0, 0.0, 5.0]
    vols, status = implied_vol(prices, 100, 100, [1, 1, 1, 1, 0], 0.05, 0.0, [True, True, False, True, True])
    assert np.isnan(vols).all()
    assert list(status) == [IVStatus.BELOW_INTRINSIC, IVStatus.ABOVE_UPPER_BOUND, IVStatus.ABOVE_UPPER_BOUND,
                            IVStatus.NO_PRICE, IVStatus.EXPIRED]


def test_a_whole_chain_solves_at_once() -> None:
    rng = np.random.default_rng(7)
    strikes, years = rng.uniform(80, 120, 2000), rng.uniform(5 / 365, 1, 2000)
    vols, calls = rng.uniform(0.1, 0.9, 2000), rng.integers(0, 2, 2000).astype(bool)
    prices = bsm(100, strikes, years, 0.04, 0.0, vols, calls).value
    solved, status = implied_vol(prices, 100, strikes, years, 0.04, 0.0, calls)
    ok = status == IVStatus.OK
    assert ok.mean() > 0.95
    assert np.allclose(bsm(100, strikes[ok], years[ok], 0.04, 0.0, solved[ok], calls[ok]).value, prices[ok],
                       atol=1e-7)
