"""Next actions on an open position, each built as an OrderRequest (pure: no I/O, nothing is sent).

Every builder returns an order that still goes through OrderService.propose/confirm. Equity positions are
closed with sell / buy_to_cover, option positions (OCC symbols) with sell_to_close / buy_to_close.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from core.domain.orders import (
    OrderClass,
    OrderDuration,
    OrderLeg,
    OrderRequest,
    OrderSide,
    OrderType,
    Position,
    validate_order_request,
)
from core.errors import Invalid

_OCC = re.compile(r"^(?P<root>[A-Z]{1,6})(?P<date>\d{6})(?P<kind>[CP])(?P<strike>\d{8})$")
CONTRACT_SIZE = 100


@dataclass(frozen=True, slots=True)
class OptionSymbol:
    """An OCC option symbol taken apart: root, expiration, C/P, strike (e.g. SPY240621C00500000)."""

    root: str
    expiration: date
    kind: str
    strike: Decimal

    @classmethod
    def parse(cls, symbol: str) -> OptionSymbol | None:
        match = _OCC.match(symbol)
        if match is None:
            return None
        raw = match["date"]
        expiration = date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:]))
        return cls(match["root"], expiration, match["kind"], Decimal(match["strike"]) / 1000)

    @property
    def occ(self) -> str:
        strike = int((self.strike * 1000).to_integral_value())
        return f"{self.root}{self.expiration:%y%m%d}{self.kind}{strike:08d}"


def _require_open(position: Position) -> None:
    if not position.quantity:
        raise Invalid(f"there is no open {position.symbol} position to act on", details={"field": "position"})


def _closing(position: Position) -> tuple[OrderSide, OptionSymbol | None]:
    _require_open(position)
    option = OptionSymbol.parse(position.symbol)
    if option is None:
        return (OrderSide.SELL if position.is_long else OrderSide.BUY_TO_COVER), None
    return (OrderSide.SELL_TO_CLOSE if position.is_long else OrderSide.BUY_TO_CLOSE), option


def _exit(position: Position, quantity: Decimal, *, order_type: OrderType, price: Decimal | None = None,
          stop: Decimal | None = None, duration: OrderDuration = OrderDuration.DAY) -> OrderRequest:
    side, option = _closing(position)
    order = OrderRequest(
        symbol=option.root if option else position.symbol, side=side, quantity=quantity, type=order_type,
        duration=duration, order_class=OrderClass.OPTION if option else OrderClass.EQUITY, price=price, stop=stop,
        option_symbol=option.occ if option else None,
    )
    validate_order_request(order)
    return order


def trim(position: Position, percent: Decimal, *, limit_price: Decimal | None = None) -> OrderRequest:
    """Exit `percent` (0-100] of the position, rounded down to whole shares/contracts (at least one)."""
    _require_open(position)
    if not 0 < percent <= 100:
        raise Invalid(f"trim percent must be above 0 and at most 100, got {percent}", details={"field": "percent"})
    size = abs(position.quantity)
    quantity = (size * percent / 100).to_integral_value(ROUND_FLOOR)
    if quantity < 1:
        raise Invalid(f"{percent}% of {size} is less than one share or contract", details={"field": "percent"})
    return _exit(position, quantity, order_type=OrderType.LIMIT if limit_price else OrderType.MARKET,
                 price=limit_price)


def close(position: Position, *, limit_price: Decimal | None = None) -> OrderRequest:
    """Exit the whole position (market, or limit at `limit_price`)."""
    return trim(position, Decimal(100), limit_price=limit_price)


def stop_at_breakeven(position: Position, *, last: Decimal | None = None) -> OrderRequest:
    """A GTC stop for the whole position at its average price (replace the old stop with it).

    Refused when `last` is already through breakeven: the stop would fill at once.
    """
    breakeven = position.average_price
    if OptionSymbol.parse(position.symbol) is not None:
        breakeven = breakeven / CONTRACT_SIZE
    breakeven = breakeven.quantize(Decimal("0.01"))
    if last is not None and (last <= breakeven if position.is_long else last >= breakeven):
        raise Invalid(f"{position.symbol} trades at {last}, not beyond breakeven {breakeven}: a stop there "
                      "would fill immediately", details={"field": "stop"})
    return _exit(position, abs(position.quantity), order_type=OrderType.STOP, stop=breakeven,
                 duration=OrderDuration.GTC)


def next_expiration(expirations: Sequence[date], after: date) -> date:
    later = sorted(day for day in expirations if day > after)
    if not later:
        raise Invalid(f"no listed expiration after {after}", details={"field": "expiration"})
    return later[0]


def roll_to_next_expiration(position: Position, expirations: Sequence[date], *,
                            net_price: Decimal | None = None) -> OrderRequest:
    """Close the option and open the same strike and type at the next listed expiration, as one multileg order.

    `net_price` > 0 is a debit, < 0 a credit, 0 even; None sends it at market.
    """
    side, option = _closing(position)
    if option is None:
        raise Invalid(f"{position.symbol} is not an option; only options roll", details={"field": "position"})
    target = OptionSymbol(option.root, next_expiration(expirations, option.expiration), option.kind, option.strike)
    quantity = int(abs(position.quantity))
    opening = OrderSide.BUY_TO_OPEN if position.is_long else OrderSide.SELL_TO_OPEN
    if net_price is None:
        order_type, price = OrderType.MARKET, None
    elif net_price == 0:
        order_type, price = OrderType.EVEN, None
    else:
        order_type, price = (OrderType.DEBIT if net_price > 0 else OrderType.CREDIT), abs(net_price)
    order = OrderRequest(
        symbol=option.root, side=opening, quantity=Decimal(quantity), type=order_type,
        order_class=OrderClass.MULTILEG, price=price,
        legs=(OrderLeg(option.occ, side, quantity), OrderLeg(target.occ, opening, quantity)),
    )
    validate_order_request(order)
    return order


def protective_put(position: Position, *, strike: Decimal, expiration: date,
                   limit_price: Decimal | None = None) -> OrderRequest:
    """Buy one put per 100 long shares at `strike`, expiring `expiration` (whole contracts only)."""
    if OptionSymbol.parse(position.symbol) is not None or not position.is_long:
        raise Invalid("a protective put hedges a long stock position", details={"field": "position"})
    contracts = int(position.quantity // CONTRACT_SIZE)
    if contracts < 1:
        raise Invalid(f"{position.quantity} shares is less than one contract ({CONTRACT_SIZE} shares)",
                      details={"field": "position"})
    put = OptionSymbol(position.symbol, expiration, "P", strike)
    order = OrderRequest(
        symbol=position.symbol, side=OrderSide.BUY_TO_OPEN, quantity=Decimal(contracts),
        type=OrderType.LIMIT if limit_price else OrderType.MARKET, order_class=OrderClass.OPTION,
        price=limit_price, option_symbol=put.occ,
    )
    validate_order_request(order)
    return order
