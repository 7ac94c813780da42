"""The one written form of an order (audit entries, alerts, previews and lists on every surface) and the signed
money text of a gain or loss."""

from __future__ import annotations

from decimal import Decimal as D

from core.domain.numbers import fmt_signed_money, pnl_text
from core.domain.order_text import describe, document_line, view_line
from core.domain.order_views import BrokerOrderView
from core.domain.orders import BrokerOrder, OrderClass, OrderDuration, OrderLeg, OrderRequest, OrderSide, OrderType

LIMIT = OrderRequest("AAPL", OrderSide.BUY, D(10), OrderType.LIMIT, price=D("190.50"))
STOP_LIMIT = OrderRequest("AAPL", OrderSide.SELL, D(10), OrderType.STOP_LIMIT, OrderDuration.GTC, price=D("180"),
                          stop=D("181.00"))
SPREAD = OrderRequest("SPY", OrderSide.BUY_TO_OPEN, D(2), OrderType.DEBIT, order_class=OrderClass.MULTILEG,
                      price=D("1.10"), legs=(OrderLeg("SPY240621C00500000", OrderSide.BUY_TO_OPEN, 1),
                                             OrderLeg("SPY240621C00510000", OrderSide.SELL_TO_OPEN, 1)))


def test_an_order_document_reads_side_quantity_symbol_type_prices_and_duration() -> None:
    assert document_line(LIMIT.to_dict()) == "buy 10 AAPL limit @ 190.50 (day)"
    assert document_line(STOP_LIMIT.to_dict()) == "sell 10 AAPL stop_limit @ 180 stop 181.00 (gtc)"
    assert document_line(SPREAD.to_dict()) == ("buy_to_open 2 SPY debit @ 1.10: buy_to_open 1 SPY240621C00500000, "
                                               "sell_to_open 1 SPY240621C00510000 (day)")
    assert document_line({}) == "? ? None  (day)"  # a broken stored document still reads as one line


def test_a_broker_order_reads_like_the_order_it_echoes() -> None:
    echo = BrokerOrder("7001", "AAPL", OrderSide.BUY, D(10), OrderType.LIMIT, "open", OrderDuration.DAY,
                       price=D("190.50"))
    assert view_line(BrokerOrderView.of(echo)) == document_line(LIMIT.to_dict())


def test_cancel_and_replace_intents_name_the_order_they_change() -> None:
    echo = LIMIT.to_dict()
    assert describe("place", echo, None) == "buy 10 AAPL limit @ 190.50 (day)"
    assert describe("cancel", echo, "7001") == "cancel order 7001 (buy 10 AAPL limit @ 190.50 (day))"
    change = {"changes": {"price": "191.00", "duration": "gtc"}, "result": echo}
    assert describe("replace", change, "7001") == "replace order 7001: price 191.00, duration gtc"


def test_a_gain_or_loss_always_shows_its_sign() -> None:
    assert fmt_signed_money(D("1234.5")) == "+$1,234.50"
    assert fmt_signed_money(D("-0.5")) == "-$0.50" and fmt_signed_money(D(0)) == "$0.00"
    assert pnl_text(None) == "n/a" and pnl_text(D("80")) == "+$80.00"
