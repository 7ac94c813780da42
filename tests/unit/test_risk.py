"""Risk engine rules: state transitions across every limit boundary, usage texts, and the order gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.order_views import document
from core.domain.orders import (
    Balances,
    OrderClass,
    OrderLeg,
    OrderRequest,
    OrderSide,
    OrderType,
    Position,
)
from core.domain.plans import cents
from core.domain.risk import (
    AccountSnapshot,
    Approved,
    Denied,
    RiskLimits,
    RiskState,
    TradingStatus,
    check_order,
    evaluate_risk,
    reduces_exposure,
)
from core.domain.risk_view import RiskStateView

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LIMITS = RiskLimits()  # $500 or 2% daily loss, 5 positions, 25%, 10 trades, $25,000 per order, 3 losses -> 30 min
CALL = "AAPL260320C00190000"


def account(*, equity: D = D(100_000), buying_power: D = D(100_000), realized: D = D(0),
            positions: tuple[Position, ...] = (), prices: dict[str, D] | None = None, trades: int = 0,
            losses: int = 0, last_loss_at: datetime | None = None) -> AccountSnapshot:
    return AccountSnapshot(Balances(equity, buying_power, equity, realized_pnl_today=realized), positions,
                           prices or {}, trades, losses, last_loss_at)


def flat_positions(count: int) -> tuple[Position, ...]:
    return tuple(Position(f"S{i}", D(1), D(10)) for i in range(count))


@pytest.mark.parametrize(
    ("snapshot", "status"),
    [
        (account(realized=D("-499.99")), TradingStatus.ACTIVE),
        (account(realized=D(-500)), TradingStatus.HALTED),  # reaching the limit halts
        (account(equity=D(10_000), realized=D("-199.99")), TradingStatus.ACTIVE),  # 2% of 10,000 = 200 < 500
        (account(equity=D(10_000), realized=D(-200)), TradingStatus.HALTED),
        (account(realized=D(400)), TradingStatus.ACTIVE),
        (account(equity=D(0)), TradingStatus.HALTED),
        (account(trades=9), TradingStatus.ACTIVE),
        (account(trades=10), TradingStatus.REDUCE_ONLY),
        (account(positions=flat_positions(5)), TradingStatus.ACTIVE),  # at the limit: only new symbols stop
        (account(positions=flat_positions(6)), TradingStatus.REDUCE_ONLY),
        (account(losses=2, last_loss_at=NOW), TradingStatus.ACTIVE),
        (account(losses=3, last_loss_at=NOW - timedelta(minutes=10)), TradingStatus.REDUCE_ONLY),
        (account(losses=3, last_loss_at=NOW - timedelta(minutes=29, seconds=59)), TradingStatus.REDUCE_ONLY),
        (account(losses=3, last_loss_at=NOW - timedelta(minutes=30)), TradingStatus.ACTIVE),  # cooldown over
        (account(losses=3), TradingStatus.REDUCE_ONLY),  # cooldown cannot be timed
        (account(trades=10, realized=D(-600)), TradingStatus.HALTED),  # the worse state wins
    ],
)
def test_state_across_limit_boundaries(snapshot: AccountSnapshot, status: TradingStatus) -> None:
    state = evaluate_risk(LIMITS, snapshot, NOW)
    assert state.status is status
    assert bool(state.reasons) == (status is not TradingStatus.ACTIVE)


def test_unrealized_pnl_at_live_prices_counts_toward_the_daily_loss() -> None:
    positions = (Position("AAPL", D(100), D(10_000)),      # long 100 @ 100, now 97: -300
                 Position("TSLA", D(-10), D(-2_500)),      # short 10 @ 250, now 260: -100
                 Position(CALL, D(2), D(640)))             # 2 contracts @ 3.20, now 2.70: -100
    prices = {"AAPL": D(97), "TSLA": D(260), CALL: D("2.70")}
    state = evaluate_risk(LIMITS, account(realized=D(-40), positions=positions, prices=prices), NOW)
    assert state.day_pnl == D(-540)
    assert state.status is TradingStatus.HALTED
    assert state.reasons == ("daily loss $540.00 reached the $500.00 limit ($500.00 or 2.00% of $100,000.00 "
                             "equity, whichever is smaller)",)


def test_usage_texts_and_event_payload() -> None:
    snapshot = account(realized=D(-140), trades=2, losses=1, last_loss_at=NOW,
                       positions=(Position("AAPL", D(100), D(19_000)),), prices={"AAPL": D(190)})
    state = evaluate_risk(LIMITS, snapshot, NOW)
    assert [u.text for u in state.usage] == [
        "$140.00 of $500.00 daily loss", "2/10 trades", "1/5 positions", "1/3 losses in a row",
        "largest position 19.00% of equity (limit 25.00%)"]
    assert [round(u.ratio, 2) for u in state.usage] == [0.28, 0.2, 0.2, 0.33, 0.76]
    payload = document(RiskStateView.of(state))
    assert payload["status"] == "ACTIVE" and payload["day_pnl"] == "-140.00"
    assert payload["usage"][0] == {"name": "daily_loss", "used": "140.00", "limit": "500", "text": state.usage[0].text}
    assert payload["evaluated_at"] == "2026-03-02T15:00:00+00:00" and payload["cooldown_until"] is None


def test_cooldown_reason_says_until_when() -> None:
    state = evaluate_risk(LIMITS, account(losses=3, last_loss_at=NOW - timedelta(minutes=17, seconds=30)), NOW)
    assert state.cooldown_until == datetime(2026, 3, 2, 15, 12, 30, tzinfo=UTC)
    assert state.reasons == ("3 losses in a row: cooling down until 15:12 UTC (13 min left)",)


def test_position_without_live_price_is_flagged_not_guessed() -> None:
    state = evaluate_risk(LIMITS, account(positions=(Position("MSFT", D(10), D(4000)),)), NOW)
    assert state.day_pnl == 0
    assert state.warnings == ("no live price for MSFT; its unrealized P&L is not counted",)


@given(st.decimals(min_value=D(1000), max_value=D(10_000_000), places=2),
       st.decimals(min_value=D(0), max_value=D(20_000), places=2))
def test_halted_exactly_when_the_loss_reaches_the_smaller_limit(equity: D, loss: D) -> None:
    state = evaluate_risk(LIMITS, account(equity=equity, realized=-loss), NOW)
    limit = min(D(500), cents(equity * 2 / 100))
    assert (state.status is TradingStatus.HALTED) == (loss >= limit)
    assert state.usage[0].limit == limit


def order(symbol: str = "AAPL", side: OrderSide = OrderSide.BUY, quantity: int = 10, *,
          price: str | None = "100", option_symbol: str | None = None,
          legs: tuple[OrderLeg, ...] = ()) -> OrderRequest:
    order_class = OrderClass.MULTILEG if legs else OrderClass.OPTION if option_symbol else OrderClass.EQUITY
    return OrderRequest(symbol, side, D(quantity), OrderType.LIMIT if price else OrderType.MARKET,
                        order_class=order_class, price=D(price) if price else None, option_symbol=option_symbol,
                        legs=legs)


HELD = (Position("AAPL", D(100), D(10_000)), Position("TSLA", D(-50), D(-12_500)), Position(CALL, D(4), D(1280)))


def state_of(status: TradingStatus, reasons: tuple[str, ...] = ("10/10 trades today",),
             limits: RiskLimits = LIMITS, equity: D = D(100_000)) -> RiskState:
    return RiskState(status, reasons if status is not TradingStatus.ACTIVE else (), (), limits, equity, D(0), NOW)


@pytest.mark.parametrize(
    ("request_", "reducing"),
    [
        (order("AAPL", OrderSide.SELL, 50, price=None), True),
        (order("AAPL", OrderSide.SELL, 100, price=None), True),
        (order("AAPL", OrderSide.SELL, 101, price=None), False),          # would flip to short
        (order("AAPL", OrderSide.BUY, 1, price=None), False),             # adds
        (order("AAPL", OrderSide.SELL_SHORT, 10, price=None), False),     # an opening side never reduces
        (order("MSFT", OrderSide.SELL, 1, price=None), False),            # nothing held
        (order("TSLA", OrderSide.BUY_TO_COVER, 50, price=None), True),
        (order("TSLA", OrderSide.BUY, 10, price=None), False),
        (order("TSLA", OrderSide.SELL, 10, price=None), False),
        (order("AAPL", OrderSide.SELL_TO_CLOSE, 4, price=None, option_symbol=CALL), True),
        (order("AAPL", OrderSide.SELL_TO_CLOSE, 5, price=None, option_symbol=CALL), False),
        (order("AAPL", OrderSide.BUY_TO_OPEN, 1, price=None, option_symbol=CALL), False),
        (order("AAPL", OrderSide.SELL_TO_CLOSE, 2, legs=(OrderLeg(CALL, OrderSide.SELL_TO_CLOSE, 2),
                                                          OrderLeg(CALL, OrderSide.SELL_TO_CLOSE, 1))), True),
        (order("AAPL", OrderSide.SELL_TO_CLOSE, 1, legs=(OrderLeg(CALL, OrderSide.SELL_TO_CLOSE, 1),
                                                          OrderLeg("AAPL260320C00200000", OrderSide.SELL_TO_OPEN,
                                                                   1))), False),
    ],
)
def test_reduce_only_and_halted_allow_only_orders_that_shrink_a_position(request_: OrderRequest,
                                                                         reducing: bool) -> None:
    snapshot = account(positions=HELD, prices={"AAPL": D(100), "TSLA": D(250), CALL: D("3.20")})
    assert reduces_exposure(request_, snapshot) is reducing
    for status in (TradingStatus.REDUCE_ONLY, TradingStatus.HALTED):
        decision = check_order(request_, state_of(status), snapshot)
        if reducing:
            assert decision == Approved(reducing=True)
        else:
            assert isinstance(decision, Denied) and decision.code == status.value.lower()
            assert "10/10 trades today" in decision.reason and "reduce an open position" in decision.reason


def test_halted_denial_carries_the_numbers() -> None:
    snapshot = account(realized=D(-520))
    state = evaluate_risk(LIMITS, snapshot, NOW)
    decision = check_order(order(), state, snapshot)
    assert decision == Denied("halted", "Trading is halted: daily loss $520.00 reached the $500.00 limit ($500.00 "
                                        "or 2.00% of $100,000.00 equity, whichever is smaller). Only orders that "
                                        "reduce an open position are accepted; this one opens or adds to AAPL.")


@pytest.mark.parametrize(
    ("request_", "snapshot", "code", "reason"),
    [
        (order(quantity=250, price="100"), account(), None, None),  # $25,000: at the limit is fine
        (order(quantity=251, price="100"), account(), "max_order_notional",
         "order value $25,100.00 is above the $25,000.00 per-order limit"),
        (order("AAPL", OrderSide.BUY_TO_OPEN, 78, price="3.20", option_symbol=CALL), account(), None, None),
        (order("AAPL", OrderSide.BUY_TO_OPEN, 79, price="3.20", option_symbol=CALL), account(),
         "max_order_notional", "order value $25,280.00 is above the $25,000.00 per-order limit"),  # x 100
        (order("AAPL", OrderSide.BUY_TO_OPEN, 8, price="3.13", option_symbol=CALL), account(equity=D(1000)),
         "max_position_pct", f"the {CALL} position would be $2,504.00, above the 25.00% max position ($250.00 of "
                             "$1,000.00 equity)"),
        (order("NEW", quantity=1), account(positions=flat_positions(5)), "max_open_positions",
         "5/5 positions are open; close one before opening NEW"),
        (order("S0", quantity=1), account(positions=flat_positions(5)), None, None),  # adding to a held one
        (order("AAPL", quantity=50, price="200"), account(positions=(Position("AAPL", D(75), D(15_000)),)),
         None, None),  # 125 x 200 = 25,000 = 25% exactly
        (order("AAPL", quantity=51, price="200"), account(positions=(Position("AAPL", D(75), D(15_000)),)),
         "max_position_pct", "the AAPL position would be $25,200.00, above the 25.00% max position ($25,000.00 of "
         "$100,000.00 equity)"),
        (order("AAPL", quantity=1, price="200.032"), account(positions=(Position("AAPL", D(124), D(24_800)),)),
         "max_position_pct", "the AAPL position would be $25,004.00, above the 25.00% max position ($25,000.00 of "
         "$100,000.00 equity)"),
        (order(quantity=20, price="100"), account(buying_power=D(1999)), "buying_power",
         "order value $2,000.00 is above the $1,999.00 buying power"),
        (order(price=None), account(), "no_quote",
         "no fresh quote for AAPL, so this market order cannot be valued at its worst case against the limits; "
         "nothing was sent. Try again when quotes are available"),
        (order("MSFT", quantity=0), account(), "invalid_quantity", "quantity must be above zero (got 0)"),
    ],
)
def test_order_level_limits_when_active(request_: OrderRequest, snapshot: AccountSnapshot, code: str | None,
                                        reason: str | None) -> None:
    state = evaluate_risk(LIMITS, snapshot, NOW)
    assert state.status is TradingStatus.ACTIVE
    decision = check_order(request_, state, snapshot, price=request_.price)  # a limit at the market
    if code is None:
        assert isinstance(decision, Approved) and not decision.reducing
    else:
        assert decision == Denied(code, reason or "")


def test_market_orders_are_valued_at_the_fresh_quote_or_the_last_price() -> None:
    market = order(quantity=300, price=None)
    state = state_of(TradingStatus.ACTIVE)
    assert check_order(market, state, account(), price=D(80)) == Approved(reducing=False, notional=D(24_000))
    assert isinstance(check_order(market, state, account(prices={"AAPL": D(90)})), Denied)  # 27,000 > 25,000
    spread = order("AAPL", OrderSide.BUY_TO_OPEN, 2, price="1.50", legs=(
        OrderLeg(CALL, OrderSide.BUY_TO_OPEN, 2), OrderLeg("AAPL260320C00200000", OrderSide.SELL_TO_OPEN, 2)))
    assert check_order(spread, state, account()) == Approved(reducing=False, notional=D(300))


@given(held=st.integers(-500, 500), quantity=st.integers(1, 600), side=st.sampled_from(list(OrderSide)))
def test_reduce_only_never_approves_more_exposure(held: int, quantity: int, side: OrderSide) -> None:
    positions = (Position("AAPL", D(held), D(held * 100)),) if held else ()
    snapshot = account(positions=positions, prices={"AAPL": D(100)})
    decision = check_order(order("AAPL", side, quantity), state_of(TradingStatus.REDUCE_ONLY), snapshot)
    after = held + (quantity if side.is_buy else -quantity)
    if isinstance(decision, Approved):
        assert abs(after) < abs(held) or after == 0
        assert (after >= 0) == (held > 0) or after == 0  # never flips
    else:
        assert decision.code == "reduce_only"
