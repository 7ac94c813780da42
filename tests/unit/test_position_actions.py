"""Position action builders: each returns a valid OrderRequest and refuses what makes no sense."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.domain.orders import OrderClass, OrderDuration, OrderSide, OrderType, Position
from core.domain.position_actions import (
    OptionSymbol,
    close,
    protective_put,
    roll_to_next_expiration,
    stop_at_breakeven,
    trim,
)
from core.errors import Invalid

D = Decimal
LONG = Position("AAPL", D(250), D("45000"))
SHORT = Position("TSLA", D(-10), D("-2000"))
CALL = Position("AAPL240621C00190000", D(3), D("1500"))
SHORT_PUT = Position("SPY240621P00500000", D(-2), D("-800"))
EXPIRATIONS = [date(2024, 6, 14), date(2024, 6, 21), date(2024, 6, 28), date(2024, 7, 19)]


def test_trim_rounds_down_and_sells_a_long() -> None:
    order = trim(LONG, D(33))
    assert (order.side, order.quantity, order.type, order.order_class) == (
        OrderSide.SELL, D(82), OrderType.MARKET, OrderClass.EQUITY)


def test_trim_a_short_buys_to_cover_at_a_limit() -> None:
    order = trim(SHORT, D(50), limit_price=D("199.5"))
    assert (order.side, order.quantity, order.type, order.price) == (
        OrderSide.BUY_TO_COVER, D(5), OrderType.LIMIT, D("199.5"))


@pytest.mark.parametrize("percent", [D(0), D(-5), D(101)])
def test_trim_refuses_bad_percentages(percent: Decimal) -> None:
    with pytest.raises(Invalid):
        trim(LONG, percent)


def test_trim_refuses_less_than_one_share() -> None:
    with pytest.raises(Invalid, match="less than one"):
        trim(Position("AAPL", D(1), D(190)), D(50))


def test_close_an_option_sells_to_close_every_contract() -> None:
    order = close(CALL)
    assert (order.symbol, order.option_symbol, order.side, order.quantity, order.order_class) == (
        "AAPL", "AAPL240621C00190000", OrderSide.SELL_TO_CLOSE, D(3), OrderClass.OPTION)
    assert close(SHORT_PUT).side is OrderSide.BUY_TO_CLOSE


def test_close_refuses_a_flat_position() -> None:
    with pytest.raises(Invalid, match="no open"):
        close(Position("AAPL", D(0), D(0)))


def test_breakeven_stop_for_the_whole_position() -> None:
    order = stop_at_breakeven(LONG, last=D(200))
    assert (order.type, order.stop, order.quantity, order.side, order.duration) == (
        OrderType.STOP, D("180.00"), D(250), OrderSide.SELL, OrderDuration.GTC)
    assert stop_at_breakeven(CALL).stop == D("5.00"), "per-share premium, not per contract"
    assert stop_at_breakeven(SHORT, last=D(150)).side is OrderSide.BUY_TO_COVER


def test_breakeven_stop_refused_when_price_is_not_beyond_it() -> None:
    with pytest.raises(Invalid, match="fill immediately"):
        stop_at_breakeven(LONG, last=D(179))
    with pytest.raises(Invalid, match="fill immediately"):
        stop_at_breakeven(SHORT, last=D(210))


def test_roll_to_the_next_expiration_as_a_debit_spread() -> None:
    order = roll_to_next_expiration(CALL, EXPIRATIONS, net_price=D("0.85"))
    assert (order.order_class, order.type, order.price, order.symbol) == (
        OrderClass.MULTILEG, OrderType.DEBIT, D("0.85"), "AAPL")
    assert [(leg.option_symbol, leg.side, leg.quantity) for leg in order.legs] == [
        ("AAPL240621C00190000", OrderSide.SELL_TO_CLOSE, 3), ("AAPL240628C00190000", OrderSide.BUY_TO_OPEN, 3)]


def test_roll_a_short_put_for_a_credit_or_even_or_at_market() -> None:
    credit = roll_to_next_expiration(SHORT_PUT, EXPIRATIONS, net_price=D("-0.40"))
    assert (credit.type, credit.price) == (OrderType.CREDIT, D("0.40"))
    assert [leg.side for leg in credit.legs] == [OrderSide.BUY_TO_CLOSE, OrderSide.SELL_TO_OPEN]
    assert roll_to_next_expiration(SHORT_PUT, EXPIRATIONS, net_price=D(0)).type is OrderType.EVEN
    assert roll_to_next_expiration(SHORT_PUT, EXPIRATIONS).type is OrderType.MARKET


def test_roll_refuses_stock_and_a_missing_next_expiration() -> None:
    with pytest.raises(Invalid, match="only options roll"):
        roll_to_next_expiration(LONG, EXPIRATIONS)
    with pytest.raises(Invalid, match="no listed expiration"):
        roll_to_next_expiration(CALL, [date(2024, 6, 14), date(2024, 6, 21)])


def test_protective_put_buys_one_put_per_hundred_shares() -> None:
    order = protective_put(LONG, strike=D("170"), expiration=date(2024, 7, 19), limit_price=D("2.10"))
    assert (order.option_symbol, order.quantity, order.side, order.type) == (
        "AAPL240719P00170000", D(2), OrderSide.BUY_TO_OPEN, OrderType.LIMIT)


@pytest.mark.parametrize("position", [SHORT, CALL, Position("AAPL", D(50), D(9000))])
def test_protective_put_refuses_what_it_cannot_hedge(position: Position) -> None:
    with pytest.raises(Invalid):
        protective_put(position, strike=D(100), expiration=date(2024, 7, 19))


def test_occ_symbols_round_trip() -> None:
    parsed = OptionSymbol.parse("SPY240621C00512500")
    assert parsed is not None and parsed.strike == D("512.5") and parsed.expiration == date(2024, 6, 21)
    assert parsed.occ == "SPY240621C00512500" and OptionSymbol.parse("SPY") is None


def test_r_multiple_of_a_linked_plan_for_long_and_short() -> None:
    from core.domain.order_views import LinkedPlan, position_item

    long, short = LinkedPlan.of_journal({"entry": "100", "stop": "95"}), LinkedPlan.of_journal({"entry": 100,
                                                                                                  "stop": "105"})
    assert long == LinkedPlan(Decimal(100), Decimal(95)) and short is not None
    assert long.r_multiple(Decimal("110")) == Decimal("2.00") and short.r_multiple(Decimal("90")) == Decimal("2.00")
    assert long.r_multiple(Decimal("97.5")) == Decimal("-0.50")
    assert LinkedPlan.of_journal({"entry": "100", "stop": "100"}) is None
    assert LinkedPlan.of_journal({"entry": "x", "stop": "95"}) is None and LinkedPlan.of_journal({}) is None
    held = Position("AAPL", Decimal(10), Decimal(1000))
    unpriced = position_item(held, None, long)
    assert unpriced.plan is None and unpriced.r_multiple is None  # no price: no R, never guessed
    assert position_item(held, Decimal("110"), long).r_multiple == Decimal("2.00")
