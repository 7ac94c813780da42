"""A setup taken as one bracket order: the entry triggers its protective stop, and its target when there is one.

    otoco  entry + stop-loss + take-profit (the exits cancel each other)
    oto    entry + stop-loss (no target given)

1R is what the stop loses if the entry fills at its price: quantity x |entry - stop| (x 100 for option contracts).
A setup without a target of its own gets one at `default_rr` R beyond the entry (the trader's R:R setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain.numbers import cents, fmt_money
from core.domain.orders import (
    OrderClass,
    OrderDuration,
    OrderRequest,
    OrderSide,
    OrderType,
    bracket_entry,
    contract_multiplier,
    validate_order_request,
)
from core.errors import Invalid


def default_target(entry: Decimal, stop: Decimal, rr: Decimal) -> Decimal:
    """`rr` R beyond the entry, on the profit side (above it when the stop is below)."""
    return cents(entry + rr * (entry - stop))


def bracket_order(symbol: str, *, long: bool, quantity: Decimal, entry: Decimal, stop: Decimal,
                  target: Decimal | None, entry_type: OrderType = OrderType.LIMIT) -> OrderRequest:
    """The entry (a limit at `entry`, or a stop that triggers there) with its stop-loss, and its take-profit when
    `target` is given (otoco), else oto. Raises Invalid when the prices do not make a bracket."""
    price, trigger = (None, entry) if entry_type is OrderType.STOP else (entry, None)
    order = OrderRequest(
        symbol=symbol, side=OrderSide.BUY if long else OrderSide.SELL_SHORT, quantity=quantity, type=entry_type,
        duration=OrderDuration.DAY, order_class=OrderClass.OTOCO if target is not None else OrderClass.OTO,
        price=price, stop=trigger, take_profit=target, stop_loss=stop)
    validate_order_request(order)
    return order


def one_r(order: OrderRequest) -> Decimal:
    """What the bracket's stop loses if the entry fills at its price, in dollars."""
    entry, stop = bracket_entry(order), order.stop_loss
    if not order.order_class.is_bracket or entry is None or stop is None:
        raise Invalid(f"a {order.order_class} order has no stop-loss to measure 1R by", details={"field": "class"})
    return cents(order.quantity * abs(entry - stop) * contract_multiplier(order.option_symbol or order.symbol))


@dataclass(frozen=True, slots=True)
class Bracket:
    """What a confirm dialog shows of a bracket: its legs' prices, the size and the dollars 1R stands for."""

    order_class: OrderClass
    side: OrderSide
    quantity: Decimal
    entry: Decimal
    stop: Decimal
    target: Decimal | None
    one_r_dollars: Decimal

    @classmethod
    def of(cls, order: OrderRequest) -> Bracket:
        entry, stop = bracket_entry(order), order.stop_loss
        if entry is None or stop is None:
            raise Invalid(f"a {order.order_class} order is not a bracket", details={"field": "class"})
        return cls(order.order_class, order.side, order.quantity, entry, stop, order.take_profit, one_r(order))

    def fields(self) -> list[tuple[str, str]]:
        """(name, value) of what a confirm dialog shows, in order, on every surface."""
        target = str(self.target) if self.target is not None else "none: entry and stop only (oto)"
        return [("Entry", str(self.entry)), ("Stop", str(self.stop)), ("Target", target),
                ("Quantity", str(self.quantity)), ("1R", fmt_money(self.one_r_dollars))]

    def to_dict(self) -> dict[str, Any]:
        return {"order_class": self.order_class.value, "side": self.side.value, "quantity": str(self.quantity),
                "entry": str(self.entry), "stop": str(self.stop),
                "target": None if self.target is None else str(self.target),
                "one_r_dollars": str(self.one_r_dollars)}
