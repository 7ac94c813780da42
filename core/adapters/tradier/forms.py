"""OrderRequest -> Tradier's form fields (`application/x-www-form-urlencoded`), one function per order class.

Shapes Tradier expects: equity and option orders are flat; multileg orders index their legs
(`option_symbol[0]`, `side[0]`, `quantity[0]`, ...); a bracket indexes every field of its legs and shares
`duration`: an OTOCO has three (leg 0 the entry, legs 1 (take-profit limit) and 2 (stop-loss stop) the OCO it
triggers), an OTO two (leg 0 the entry, leg 1 the stop-loss stop it triggers).
"""

from __future__ import annotations

import re
from decimal import Decimal

from core.domain.orders import (
    OrderClass,
    OrderDuration,
    OrderRequest,
    OrderType,
    closing_side,
    validate_order_request,
)
from core.errors import Invalid

Form = list[tuple[str, str]]

_TAG = re.compile(r"^[A-Za-z0-9-]{1,255}$")


def validate_tag(tag: str) -> str:
    """Tradier tags: 1-255 letters, digits and `-` (an intent id like a uuid4 fits)."""
    if not _TAG.match(tag):
        raise Invalid("an order tag is 1-255 letters, digits or '-'", details={"field": "tag"})
    return tag


def number(value: Decimal) -> str:
    """A Decimal as Tradier reads it: plain notation, no exponent, no trailing-zero noise beyond the input."""
    return format(value.normalize() if value == value.to_integral_value() else value, "f")


def _optional(form: Form, name: str, value: Decimal | None) -> None:
    if value is not None:
        form.append((name, number(value)))


def _single(order: OrderRequest) -> Form:
    form: Form = [("class", str(order.order_class)), ("symbol", order.symbol)]
    if order.option_symbol is not None:
        form.append(("option_symbol", order.option_symbol))
    form += [("side", str(order.side)), ("quantity", number(order.quantity)), ("type", str(order.type)),
             ("duration", str(order.duration))]
    _optional(form, "price", order.price)
    _optional(form, "stop", order.stop)
    return form


def _multileg(order: OrderRequest) -> Form:
    form: Form = [("class", "multileg"), ("symbol", order.symbol), ("type", str(order.type)),
                  ("duration", str(order.duration))]
    if order.type is not OrderType.EVEN:
        _optional(form, "price", order.price)
    for index, leg in enumerate(order.legs):
        form += [(f"option_symbol[{index}]", leg.option_symbol), (f"side[{index}]", str(leg.side)),
                 (f"quantity[{index}]", str(leg.quantity))]
    return form


def _bracket(order: OrderRequest) -> Form:
    exit_side = closing_side(order.side)
    legs = [(order.side, order.type, order.price, order.stop)]
    if order.order_class is OrderClass.OTOCO:
        legs.append((exit_side, OrderType.LIMIT, order.take_profit, None))
    legs.append((exit_side, OrderType.STOP, None, order.stop_loss))
    form: Form = [("class", str(order.order_class)), ("duration", str(order.duration))]
    for index, (side, kind, price, stop) in enumerate(legs):
        form.append((f"symbol[{index}]", order.symbol))
        if order.option_symbol is not None:
            form.append((f"option_symbol[{index}]", order.option_symbol))
        form += [(f"side[{index}]", str(side)), (f"quantity[{index}]", number(order.quantity)),
                 (f"type[{index}]", str(kind))]
        _optional(form, f"price[{index}]", price)
        _optional(form, f"stop[{index}]", stop)
    return form


def order_form(order: OrderRequest, *, tag: str | None = None, preview: bool = False) -> Form:
    """The validated form body for `POST /accounts/{id}/orders` (raises Invalid, nothing is sent)."""
    validate_order_request(order)
    if order.order_class is OrderClass.MULTILEG:
        form = _multileg(order)
    elif order.order_class.is_bracket:
        form = _bracket(order)
    else:
        form = _single(order)
    if tag is not None:
        form.append(("tag", validate_tag(tag)))
    if preview:
        form.append(("preview", "true"))
    return form


def modify_form(*, type: OrderType | None = None, duration: OrderDuration | None = None,
                price: Decimal | None = None, stop: Decimal | None = None) -> Form:
    """The form body for `PUT /accounts/{id}/orders/{order_id}`: only the fields that change."""
    form: Form = []
    if type is not None:
        form.append(("type", str(type)))
    if duration is not None:
        form.append(("duration", str(duration)))
    for name, value in (("price", price), ("stop", stop)):
        if value is not None and value <= 0:
            raise Invalid(f"{name} must be above zero, got {value}", details={"field": name})
        _optional(form, name, value)
    if not form:
        raise Invalid("a modification changes at least one of type, duration, price, stop")
    return form
