"""The one way an order is written out for a person: audit entries, alerts, previews and lists on every surface.

    buy 10 SPY limit @ 512.30 stop 505.00 (day)
    buy_to_open 2 SPY multileg: buy_to_open 1 SPY240621C00500000, sell_to_open 1 SPY240621C00510000 (day)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.domain.order_views import BrokerOrderView, Intent


def order_line(side: object, quantity: object, symbol: object, type_: object, *, price: object = None,
               stop: object = None, duration: object = None, legs: Iterable[tuple[object, object, object]] = ()) -> str:
    """`legs`: (side, quantity, option symbol) of each leg of a multileg order."""
    text = f"{side} {quantity} {symbol} {type_}"
    if price is not None and price != "":
        text += f" @ {price}"
    if stop is not None and stop != "":
        text += f" stop {stop}"
    shown = ", ".join(f"{leg_side} {leg_quantity} {leg_symbol}" for leg_side, leg_quantity, leg_symbol in legs)
    if shown:
        text += f": {shown}"
    return f"{text} ({duration or 'day'})"


def document_line(order: Mapping[str, Any]) -> str:
    """An order document as stored with an intent (the REST order shape, or a broker echo)."""
    legs = [leg for leg in order.get("legs") or () if isinstance(leg, Mapping)]
    return order_line(order.get("side", "?"), order.get("quantity", "?"),
                      order.get("option_symbol") or order.get("symbol"), order.get("type", ""),
                      price=order.get("price"), stop=order.get("stop"), duration=order.get("duration"),
                      legs=[(leg.get("side"), leg.get("quantity"), leg.get("option_symbol")) for leg in legs])


def view_line(order: BrokerOrderView) -> str:
    """An order as the broker has it."""
    return order_line(order.side, order.quantity, order.option_symbol or order.symbol, order.type,
                      price=order.price, stop=order.stop, duration=order.duration,
                      legs=[(leg.side, leg.quantity, leg.option_symbol) for leg in order.legs])


def describe(action: str, order: Mapping[str, Any], target: str | None) -> str:
    """What an intent does: place an order, cancel a working one, or change it."""
    if action == "cancel":
        return f"cancel order {target} ({document_line(order)})"
    if action == "replace":
        changes = ", ".join(f"{k} {v}" for k, v in (order.get("changes") or {}).items())
        return f"replace order {target}: {changes}"
    return document_line(order)


def intent_line(intent: Intent) -> str:
    return describe(intent.action, intent.order, intent.target_order_id)
