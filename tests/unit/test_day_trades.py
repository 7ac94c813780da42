"""Today's trades replayed from the broker's order list: fills counted, closed trades' P&L against the
start-of-day book, the trailing loss streak, and closes whose entry is unknown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from core.domain.day_trades import day_trades
from core.domain.orders import BrokerOrder, OrderSide, OrderType, Position

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 11:00 in New York


def fill(order_id: str, symbol: str, side: OrderSide, quantity: int, price: str, minute: int,
         status: str = "filled") -> BrokerOrder:
    when = NOW - timedelta(minutes=60 - minute)
    return BrokerOrder(order_id, symbol, side, D(quantity), OrderType.MARKET, status, avg_fill_price=D(price),
                       exec_quantity=D(quantity), created_at=when, updated_at=when)


def test_day_trades_counts_fills_and_the_trailing_loss_streak() -> None:
    orders = [
        fill("1", "AAPL", OrderSide.BUY, 10, "100", 1),
        fill("2", "AAPL", OrderSide.SELL, 10, "99", 2),           # -10
        fill("3", "MSFT", OrderSide.SELL_SHORT, 5, "400", 3),
        fill("4", "MSFT", OrderSide.BUY_TO_COVER, 5, "390", 4),   # +50: breaks the streak
        fill("5", "TSLA", OrderSide.BUY, 4, "200", 5),
        fill("6", "TSLA", OrderSide.SELL, 2, "190", 6),           # -20
        fill("7", "TSLA", OrderSide.SELL, 2, "195", 7),           # -10
        BrokerOrder("8", "NVDA", OrderSide.BUY, D(3), OrderType.LIMIT, "open", price=D(1), created_at=NOW),
        BrokerOrder("9", "NVDA", OrderSide.BUY, D(3), OrderType.LIMIT, "filled", avg_fill_price=D(1),
                    exec_quantity=D(3), created_at=NOW - timedelta(days=1)),  # yesterday: not counted
    ]
    trades = day_trades(orders, [], NOW)
    assert trades.trades == 7
    assert trades.results == (D(-10), D(50), D(-20), D(-10))
    assert trades.consecutive_losses == 2
    assert trades.last_loss_at == NOW - timedelta(minutes=53)


def test_day_trades_uses_the_held_average_for_positions_opened_before_today() -> None:
    held = [Position("AAPL", D(5), D(1000))]  # 5 left at 200 average after selling 5 today
    orders = [fill("1", "AAPL", OrderSide.SELL, 5, "190", 1)]
    trades = day_trades(orders, held, NOW)
    assert trades.results == (D(-50),) and trades.consecutive_losses == 1
    closed_out = day_trades([fill("2", "IBM", OrderSide.SELL, 5, "190", 1)], [], NOW)
    assert closed_out.results == () and closed_out.unknown_closes == 1


def test_option_closes_count_the_contract_multiplier() -> None:
    call = "AAPL260320C00190000"
    orders = [fill("1", call, OrderSide.BUY_TO_OPEN, 2, "3.00", 1), fill("2", call, OrderSide.SELL_TO_CLOSE, 2,
                                                                           "2.50", 2)]
    orders = [BrokerOrder(o.id, "AAPL", o.side, o.quantity, o.type, o.status, avg_fill_price=o.avg_fill_price,
                          exec_quantity=o.exec_quantity, option_symbol=call, created_at=o.created_at,
                          updated_at=o.updated_at) for o in orders]
    assert day_trades(orders, [], NOW).results == (D(-100),)


@pytest.mark.parametrize("status", ["partially_filled", "filled"])
def test_partial_fills_count_what_filled(status: str) -> None:
    order = BrokerOrder("1", "AAPL", OrderSide.BUY, D(10), OrderType.LIMIT, status, avg_fill_price=D(100),
                        exec_quantity=D(4), created_at=NOW)
    assert day_trades([order], [], NOW).trades == 1


def test_a_multileg_roll_closes_one_leg_and_opens_the_other_at_the_order_time() -> None:
    held, rolled = "AAPL260320C00190000", "AAPL260417C00190000"
    when = NOW - timedelta(minutes=5)
    legs = (BrokerOrder("9a", "AAPL", OrderSide.SELL_TO_CLOSE, D(1), OrderType.MARKET, "filled",
                        avg_fill_price=D("2.00"), exec_quantity=D(1), option_symbol=held),
            BrokerOrder("9b", "AAPL", OrderSide.BUY_TO_OPEN, D(1), OrderType.MARKET, "filled",
                        avg_fill_price=D("3.10"), exec_quantity=D(1), option_symbol=rolled))
    roll = BrokerOrder("9", "AAPL", OrderSide.BUY, D(1), OrderType.MARKET, "filled", created_at=when,
                       updated_at=when, legs=legs)
    opened = fill("1", held, OrderSide.BUY_TO_OPEN, 1, "2.50", 1)
    trades = day_trades([roll, opened], [Position(rolled, D(1), D(310))], NOW)
    assert trades.trades == 2 and trades.results == (D(-50),)  # (2.00 - 2.50) x 1 x 100
    assert trades.consecutive_losses == 1 and trades.last_loss_at == when and trades.unknown_closes == 0
