"""The option screen and a stock plan expressed as contracts (pure domain)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.adapters.tradier.forms import order_form
from core.domain.options_express import ExpressPrefs, StockPlan, express, sized, sizing_prices
from core.domain.options_hedge import choose_collar, choose_put, collar_order
from core.domain.options_screen import screen
from core.domain.options_types import OptionRow, ScreenFilter
from core.domain.order_input import parse_order
from core.domain.orders import Position
from core.errors import Invalid

EXPIRY = date(2026, 12, 18)


def row(strike: float, kind: str = "call", *, delta: float = 0.5, gamma: float = 0.05, bid: float = 2.0,
        ask: float = 2.1, oi: int = 500, volume: int = 50, dte: int = 12) -> OptionRow:
    mid = (bid + ask) / 2
    symbol = f"SPY261218{kind[0].upper()}{int(strike * 1000):08d}"
    return OptionRow(option_symbol=symbol, type=kind, strike=strike, expiration=EXPIRY, dte=dte,  # type: ignore[arg-type]
                     bid=bid, ask=ask, mid=mid, last=None, volume=volume, open_interest=oi, iv=0.2, delta=delta,
                     gamma=gamma, theta=-0.05, vega=0.1, spread_pct=round((ask - bid) / mid * 100, 2),
                     greeks_source="vendor")


def test_screen_filters_ranks_by_spread_then_oi_and_says_why() -> None:
    rows = [row(100, delta=0.5, bid=2.0, ask=2.2), row(101, delta=0.45, bid=2.0, ask=2.04, oi=50),
            row(102, delta=0.40, bid=1.0, ask=1.02, oi=900), row(103, delta=0.2), row(99, "put", delta=-0.45)]
    hits = screen(rows, ScreenFilter(type="call", delta_min=0.3, delta_max=0.6, max_spread_pct=5,
                                     min_open_interest=100))
    assert [h.contract.strike for h in hits] == [102.0]
    assert hits[0].reason.startswith("a call; |delta| 0.40 in [0.3, 0.6]")
    assert "open interest 900 >= 100" in hits[0].reason
    both = screen(rows, ScreenFilter(delta_min=0.4, delta_max=0.5))
    assert [h.contract.strike for h in both] == [102.0, 101.0, 99.0, 100.0]  # puts compare |delta|


def test_screen_refuses_an_empty_window() -> None:
    with pytest.raises(Invalid, match="delta_min"):
        screen([row(100)], ScreenFilter(delta_min=0.6, delta_max=0.3))


PLAN = StockPlan(side="long", entry=100.0, stop=98.0, targets=(104.0, 106.0))


def test_single_call_risk_at_the_stop_is_delta_gamma_capped_at_the_premium() -> None:
    [candidate] = express(PLAN, ExpressPrefs(structure="single", candidates=1), [row(100)], underlying=100.0)
    # move -2: 0.5 x -2 + 0.05 x 4 / 2 = -0.9 per share
    assert candidate.premium == 2.1 and candidate.risk_per_contract == 90.0
    assert candidate.value_at_stop == pytest.approx(1.2)
    assert [t.value for t in candidate.targets] == [4.5, 6.0]  # 2.1 + 2 + 0.4; 2.1 + 3 + 0.9
    assert candidate.breakeven == 102.1 and candidate.max_gain_per_contract is None
    deep = express(StockPlan(side="long", entry=100, stop=90, targets=()), ExpressPrefs(structure="single"),
                   [row(100)], underlying=100.0)[0]
    assert deep.risk_per_contract == 210.0  # the estimate (-2.5) is capped at the 2.10 premium


def test_sizing_prices_keep_the_risk_exact() -> None:
    [candidate] = express(PLAN, ExpressPrefs(structure="single", candidates=1), [row(100)], underlying=100.0)
    entry, stop = sizing_prices(candidate)
    assert (entry, stop) == (Decimal("2.10"), Decimal("1.20"))
    capped = express(StockPlan(side="long", entry=100, stop=90), ExpressPrefs(structure="single"), [row(100)],
                     underlying=100.0)[0]
    entry, stop = sizing_prices(capped)
    assert entry - stop == Decimal("2.10") and stop > 0


def test_vertical_is_a_debit_multileg_with_the_short_leg_at_the_first_target() -> None:
    rows = [row(100, bid=2.0, ask=2.1), row(104, delta=0.25, gamma=0.03, bid=0.6, ask=0.7),
            row(106, delta=0.15, gamma=0.02, bid=0.3, ask=0.35, oi=20)]
    spread = express(PLAN, ExpressPrefs(structure="vertical", candidates=1), rows, underlying=100.0)[0]
    assert [leg.strike for leg in spread.legs] == [100.0, 104.0]
    assert spread.premium == 1.5 and spread.max_gain_per_contract == 250.0 and spread.breakeven == 101.5
    assert all(t.value <= 4.0 for t in spread.targets)
    order = sized(spread, 3, "Long 3 contracts").order
    assert order is not None
    request = parse_order(order)
    form = dict(order_form(request))
    assert form["class"] == "multileg" and form["type"] == "debit" and form["price"] == "1.50"
    assert form["option_symbol[0]"] == "SPY261218C00100000" and form["side[1]"] == "sell_to_open"
    assert form["quantity[1]"] == "3"


def test_a_short_plan_uses_puts_and_warns_about_spread_oi_and_0dte() -> None:
    rows = [row(100, "put", delta=-0.5, bid=1.0, ask=1.3, oi=10, dte=0)]
    plan = StockPlan(side="short", entry=100, stop=101, targets=(97,))
    [candidate] = express(plan, ExpressPrefs(structure="single"), rows, underlying=100.0)
    text = " ".join(candidate.warnings)
    assert "wide spread" in text and "low open interest" in text and "0DTE" in text
    assert candidate.breakeven == 98.7 and candidate.max_gain_per_contract == 9870.0
    single = sized(candidate, 2, "Short via 2 puts").order
    assert single == {"symbol": "SPY", "class": "option", "option_symbol": "SPY261218P00100000",
                      "side": "buy_to_open", "quantity": 2, "type": "limit", "price": "1.30", "duration": "day"}
    assert sized(candidate, 0, "too small").order is None


def test_a_plan_with_its_stop_on_the_wrong_side_is_refused() -> None:
    with pytest.raises(Invalid, match="stop below"):
        express(StockPlan(side="long", entry=100, stop=101), ExpressPrefs(), [row(100)], underlying=100.0)


def test_protective_put_takes_the_highest_strike_below_the_floor_and_refuses_odd_lots() -> None:
    puts = [row(95, "put", delta=-0.3, bid=1.0, ask=1.1), row(90, "put", delta=-0.2, bid=0.5, ask=0.6),
            row(99, "put", delta=-0.45, bid=2.0, ask=2.1)]
    effect = choose_put(Position("SPY", Decimal(150), Decimal(15000)), 100.0, puts, otm_pct=5)
    assert effect.put.strike == 95.0 and effect.contracts == 1 and effect.unhedged_shares == 50
    assert effect.cost == 110.0 and effect.max_loss == 610.0  # (100 - 95 + 1.10) x 100
    with pytest.raises(Invalid, match="at least 100 shares"):
        choose_put(Position("SPY", Decimal(50), Decimal(5000)), 100.0, puts, otm_pct=5)


COLLAR_ROWS = [row(95, "put", delta=-0.3, bid=1.0, ask=1.1), row(90, "put", delta=-0.2, bid=0.5, ask=0.6),
               row(104, "call", bid=1.4, ask=1.5), row(105, "call", bid=0.9, ask=1.0),
               row(110, "call", bid=0.3, ask=0.35)]


def test_collar_buys_the_floor_sells_the_nearest_call_above_the_cap_and_states_its_dollars() -> None:
    effect = choose_collar(Position("SPY", Decimal(250), Decimal(25000)), 100.0, COLLAR_ROWS, otm_pct=5,
                           call_otm_pct=5)
    assert effect.kind == "collar" and effect.put.strike == 95.0 and effect.call is not None
    assert effect.call.strike == 105.0 and effect.contracts == 2 and effect.unhedged_shares == 50
    assert effect.premium == 1.1 and effect.call_premium == 0.9 and effect.net_premium == pytest.approx(0.2)
    assert effect.cost == 40.0  # (1.10 - 0.90) x 200
    assert effect.floor == 95.0 and effect.cap == 105.0
    assert effect.max_loss == 1040.0  # (100 - 95 + 0.20) x 200
    assert effect.max_gain == 960.0  # (105 - 100 - 0.20) x 200
    assert effect.breakeven == 100.2
    order = collar_order("SPY", effect)
    assert order.type == "debit" and order.price == Decimal("0.20") and order.order_class == "multileg"
    assert [(leg.option_symbol, leg.side, leg.quantity) for leg in order.legs] == [
        ("SPY261218P00095000", "buy_to_open", 2), ("SPY261218C00105000", "sell_to_open", 2)]


def test_a_collar_that_takes_in_more_than_it_pays_is_a_credit_order() -> None:
    effect = choose_collar(Position("SPY", Decimal(100), Decimal(10000)), 100.0, COLLAR_ROWS, otm_pct=5,
                           call_otm_pct=3)
    assert effect.call is not None and effect.call.strike == 104.0
    assert effect.net_premium == pytest.approx(-0.3) and effect.cost == -30.0  # 1.10 paid, 1.40 received
    assert effect.max_loss == 470.0 and effect.max_gain == 430.0  # (5 - 0.30) x 100, (4 + 0.30) x 100
    assert effect.breakeven == 99.7
    order = collar_order("SPY", effect)
    assert order.type == "credit" and order.price == Decimal("0.30")
    even = choose_collar(Position("SPY", Decimal(100), Decimal(10000)), 100.0,
                         [*COLLAR_ROWS[:2], row(106, "call", bid=1.1, ask=1.2)], otm_pct=5, call_otm_pct=5)
    assert even.cost == 0 and collar_order("SPY", even).type == "even" and collar_order("SPY", even).price is None
    with pytest.raises(Invalid, match=r"no call with a bid at or above 120\.00"):
        choose_collar(Position("SPY", Decimal(100), Decimal(10000)), 100.0, COLLAR_ROWS, otm_pct=5,
                      call_otm_pct=20)
