"""Orders valued at their worst case against the fresh quote (every row of core.domain.valuation's table), the
price collar, tick sizes and absurd prices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from core.domain.orders import (
    Balances,
    OrderClass,
    OrderLeg,
    OrderRequest,
    OrderSide,
    OrderType,
    Position,
    validate_order_request,
)
from core.domain.risk import AccountSnapshot, Approved, Denied, RiskLimits, check_order, evaluate_risk
from core.domain.valuation import collar_denial, worst_case_price
from core.errors import Invalid

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CALL = "AAPL260320C00190000"
Q = D(100)
BUY_SIDES = (OrderSide.BUY, OrderSide.BUY_TO_COVER, OrderSide.BUY_TO_OPEN, OrderSide.BUY_TO_CLOSE)
SELL_SIDES = (OrderSide.SELL, OrderSide.SELL_SHORT, OrderSide.SELL_TO_OPEN, OrderSide.SELL_TO_CLOSE)

# (type, limit price, stop price, worst case of a buy, worst case of a sell), the quote being 100
TABLE = [
    (OrderType.MARKET, None, None, "100", "100"),
    (OrderType.LIMIT, "95", None, "100", "100"),        # resting buy: the market it waits under; marketable sell
    (OrderType.LIMIT, "105", None, "105", "105"),       # marketable buy may pay up to 105; resting sell fills >= 105
    (OrderType.STOP, None, "95", "100", "100"),         # buy stop below the market triggers at once
    (OrderType.STOP, None, "105", "105", "100"),        # buy stop fills from 105; a sell stop at most at the market
    (OrderType.STOP_LIMIT, "106", "105", "106", "106"),
    (OrderType.STOP_LIMIT, "94", "95", "100", "100"),
    (OrderType.STOP_LIMIT, "102", "104", "104", "102"),
]


def single(side: OrderSide, type_: OrderType, price: str | None, stop: str | None,
           quantity: int = 1) -> OrderRequest:
    option = side.is_option
    return OrderRequest("AAPL", side, D(quantity), type_,
                        order_class=OrderClass.OPTION if option else OrderClass.EQUITY,
                        price=D(price) if price else None, stop=D(stop) if stop else None,
                        option_symbol=CALL if option else None)


@pytest.mark.parametrize("side", BUY_SIDES + SELL_SIDES)
@pytest.mark.parametrize(("type_", "price", "stop", "buy", "sell"), TABLE)
def test_every_type_and_side_is_valued_at_its_worst_case(side: OrderSide, type_: OrderType, price: str | None,
                                                         stop: str | None, buy: str, sell: str) -> None:
    order = single(side, type_, price, stop)
    validate_order_request(order)
    assert worst_case_price(order, Q) == D(buy if side.is_buy else sell)
    assert worst_case_price(order, None) is None  # never valued at its own price alone


def test_multileg_is_valued_at_its_net_price_and_cannot_be_without_one() -> None:
    legs = (OrderLeg(CALL, OrderSide.BUY_TO_OPEN, 1), OrderLeg("AAPL260320C00200000", OrderSide.SELL_TO_OPEN, 1))
    debit = OrderRequest("AAPL", OrderSide.BUY_TO_OPEN, D(2), OrderType.DEBIT, order_class=OrderClass.MULTILEG,
                         price=D("1.50"), legs=legs)
    even = OrderRequest("AAPL", OrderSide.BUY_TO_OPEN, D(2), OrderType.EVEN, order_class=OrderClass.MULTILEG,
                        legs=legs)
    assert worst_case_price(debit, None) == D("1.50")
    assert collar_denial(debit, Q, D(10)) is None
    state = evaluate_risk(RiskLimits(), snapshot(), NOW)
    assert check_order(debit, state, snapshot()) == Approved(reducing=False, notional=D("300.00"))
    decision = check_order(even, state, snapshot())
    assert isinstance(decision, Denied) and decision.code == "no_price"


def snapshot(positions: tuple[Position, ...] = (), prices: dict[str, D] | None = None) -> AccountSnapshot:
    return AccountSnapshot(Balances(D(1_000_000), D(1_000_000), D(1_000_000)), positions, prices or {})


def check(order: OrderRequest, quote: D | None, *, account: AccountSnapshot | None = None,
          collar: str = "10") -> Approved | Denied:
    account = account or snapshot()
    return check_order(order, evaluate_risk(RiskLimits(), account, NOW), account, price=quote, collar_pct=D(collar))


AAPL = D("438.89")


def test_a_one_cent_limit_short_is_valued_at_the_market_not_at_ten_dollars() -> None:
    short = single(OrderSide.SELL_SHORT, OrderType.LIMIT, "0.01", None, quantity=1000)
    decision = check(short, AAPL)
    assert decision == Denied("price_collar", "the limit price 0.01 is 100.00% below the market 438.89, beyond the "
                                              "10.00% collar (ORDER_PRICE_COLLAR_PCT); check the price, or use a "
                                              "market order")
    market = single(OrderSide.SELL_SHORT, OrderType.MARKET, None, None, quantity=1000)
    expected = Denied("max_order_notional", "order value $438,890.00 is above the $25,000.00 per-order limit")
    assert check(market, AAPL) == expected
    assert check(short, AAPL, collar="100") == expected  # without the collar: the same value as at market


def test_a_one_cent_buy_stop_is_valued_at_the_market() -> None:
    stop = single(OrderSide.BUY, OrderType.STOP, None, "0.01", quantity=1000)
    decision = check(stop, AAPL)
    assert isinstance(decision, Denied) and decision.code == "price_collar" and "stop price 0.01" in decision.reason
    assert check(stop, AAPL, collar="100") == Denied("max_order_notional", "order value $438,890.00 is above the "
                                                                           "$25,000.00 per-order limit")


@pytest.mark.parametrize("type_", [OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT, OrderType.MARKET])
def test_without_a_fresh_quote_an_opening_order_is_refused_with_the_reason(type_: OrderType) -> None:
    order = single(OrderSide.BUY, type_, "100" if type_ in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                   "100" if type_ in (OrderType.STOP, OrderType.STOP_LIMIT) else None)
    decision = check(order, None)
    assert isinstance(decision, Denied) and decision.code == "no_quote"
    assert f"no fresh quote for AAPL, so this {type_} order cannot be valued at its worst case" in decision.reason


@pytest.mark.parametrize(("price", "stop", "allowed"), [
    ("110", None, True), ("90", None, True),              # exactly 10% away
    ("110.01", None, False), ("89.99", None, False),
    (None, "110", True), (None, "110.01", False), (None, "89.99", False),
])
def test_the_collar_refuses_a_limit_or_stop_too_far_from_the_market(price: str | None, stop: str | None,
                                                                    allowed: bool) -> None:
    type_ = OrderType.LIMIT if price else OrderType.STOP
    for side in (OrderSide.BUY, OrderSide.SELL_SHORT):
        decision = check(single(side, type_, price, stop), Q)
        assert isinstance(decision, Approved) is allowed, decision
        if not allowed:
            assert isinstance(decision, Denied) and decision.code == "price_collar"
            assert "beyond the 10.00% collar (ORDER_PRICE_COLLAR_PCT)" in decision.reason


def test_the_collar_applies_to_closing_orders_which_need_no_quote_to_be_approved() -> None:
    held = snapshot(positions=(Position("AAPL", D(10), D(1000)),))
    typo = single(OrderSide.SELL, OrderType.LIMIT, "1.00", None, quantity=10)
    assert isinstance(check(typo, Q, account=held), Denied)
    assert check(typo, None, account=held) == Approved(reducing=True)  # a close is never trapped by a quote outage
    assert check(single(OrderSide.SELL, OrderType.LIMIT, "99", None, quantity=10), Q,
                 account=held) == Approved(reducing=True)


@pytest.mark.parametrize(("option", "price", "error"), [
    (False, "438.50", None),
    (False, "438.505", "price 438.505 is not a multiple of the $0.01 tick for that price, e.g. 438.50"),
    (False, "1.00", None),
    (False, "1.0001", "price 1.0001 is not a multiple of the $0.01 tick for that price, e.g. 1.00"),
    (False, "0.9999", None),
    (False, "0.00005", "price 0.00005 is not a multiple of the $0.0001 tick for that price, e.g. 0.0000"),
    (True, "0.05", None),
    (True, "0.055", "price 0.055 is not a multiple of the $0.01 tick for that price (options), e.g. 0.05"),
    (False, "NaN", "price must be a number above zero, got NaN"),
    (False, "Infinity", "price must be a number above zero, got Infinity"),
    (False, "-1", "price must be a number above zero, got -1"),
    (False, "20000000", "price 20000000 is not a plausible price (at most 10000000)"),
])
def test_tick_size_and_absurd_prices(option: bool, price: str, error: str | None) -> None:
    order = single(OrderSide.BUY_TO_OPEN if option else OrderSide.BUY, OrderType.LIMIT, price, None)
    if error is None:
        validate_order_request(order)
        return
    with pytest.raises(Invalid) as raised:
        validate_order_request(order)
    assert raised.value.message == error and raised.value.details == {"field": "price"}


@pytest.mark.parametrize("name", ["stop", "take_profit", "stop_loss"])
def test_every_price_field_is_checked(name: str) -> None:
    fields = {"price": D("100"), "stop": D("99"), "take_profit": D("110"), "stop_loss": D("95"), name: D("99.001")}
    order = OrderRequest("AAPL", OrderSide.BUY, D(1), OrderType.STOP_LIMIT, order_class=OrderClass.OTOCO, **fields)
    with pytest.raises(Invalid, match=f"{name} 99.001 is not a multiple of the \\$0.01 tick"):
        validate_order_request(order)
