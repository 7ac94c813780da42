"""A hedge for a long stock position, priced before any order: a protective put, or a collar (the same put
paid for in part by selling a call above the price).

The put is the highest listed strike at least `otm_pct` below the stock's price (the cheapest meaningful floor
the trader asked for), bought at its ask; a collar's call is the lowest listed strike at least `call_otm_pct`
above the price, sold at its bid. One contract of each per 100 shares. Dollar figures run to expiration from the
price the chain was quoted at, so they describe the hedge, not the trader's entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import msgspec

from core.domain.options_types import OptionRow, occ_symbol
from core.domain.orders import (
    OPTION_MULTIPLIER,
    OrderClass,
    OrderLeg,
    OrderRequest,
    OrderSide,
    OrderType,
    Position,
    validate_order_request,
)
from core.errors import Invalid

HedgeKind = Literal["put", "collar"]
CENT = Decimal("0.01")


class HedgeEffect(msgspec.Struct, frozen=True, kw_only=True):
    """Dollars: `premium` is the put's ask and `call_premium` the call's bid, per share; `net_premium` what the
    hedge costs per share (negative: a collar that takes in more than it pays) and `cost` that times the shares
    covered. `max_loss` is the most the hedged shares can lose to expiration (price - floor + net premium, per
    share); `max_gain` the most they can make (cap - price - net premium; None for a put: no cap).
    `unhedged_shares` are left over (not a full 100)."""

    kind: HedgeKind = "put"
    put: OptionRow
    call: OptionRow | None = None
    contracts: int
    shares_covered: int
    unhedged_shares: int
    premium: float
    call_premium: float | None = None
    net_premium: float
    cost: float
    floor: float
    cap: float | None = None
    max_loss: float
    max_gain: float | None = None
    breakeven: float


def _check_pct(value: float, name: str) -> None:
    if not 0 <= value < 50:
        raise Invalid(f"{name} is how far from the price the strike sits: 0 to 50", details={"field": name})


def _covered(position: Position) -> tuple[int, int]:
    if not position.is_long or position.quantity < OPTION_MULTIPLIER:
        raise Invalid(f"a hedge covers a long stock position of at least {OPTION_MULTIPLIER} shares",
                      details={"field": "position"})
    contracts = int(position.quantity // OPTION_MULTIPLIER)
    return contracts, contracts * OPTION_MULTIPLIER


def _put(price: float, rows: Sequence[OptionRow], otm_pct: float) -> OptionRow:
    ceiling = price * (1 - otm_pct / 100)
    puts = [row for row in rows if row.type == "put" and row.strike <= ceiling and row.ask]
    if not puts:
        raise Invalid(f"no put with an ask at or below {ceiling:.2f} in this expiration; lower otm_pct or pick "
                      "another expiration", details={"field": "otm_pct"})
    return max(puts, key=lambda row: row.strike)


def _call(price: float, rows: Sequence[OptionRow], otm_pct: float) -> OptionRow:
    floor = price * (1 + otm_pct / 100)
    calls = [row for row in rows if row.type == "call" and row.strike >= floor and row.bid]
    if not calls:
        raise Invalid(f"no call with a bid at or above {floor:.2f} in this expiration; lower call_otm_pct or "
                      "pick another expiration", details={"field": "call_otm_pct"})
    return min(calls, key=lambda row: row.strike)


def choose_put(position: Position, price: float, rows: Sequence[OptionRow], otm_pct: float) -> HedgeEffect:
    """The protective put for `position` among `rows` (one expiration's chain), with its dollar effect."""
    contracts, shares = _covered(position)
    _check_pct(otm_pct, "otm_pct")
    put = _put(price, rows, otm_pct)
    premium = float(put.ask or 0)
    return HedgeEffect(put=put, contracts=contracts, shares_covered=shares,
                       unhedged_shares=int(position.quantity) - shares, premium=premium, net_premium=premium,
                       cost=round(premium * shares, 2), floor=put.strike,
                       max_loss=round((price - put.strike + premium) * shares, 2),
                       breakeven=round(price + premium, 2))


def choose_collar(position: Position, price: float, rows: Sequence[OptionRow], otm_pct: float,
                  call_otm_pct: float) -> HedgeEffect:
    """The collar for `position` among `rows` (one expiration's chain): the protective put plus a sold call."""
    _check_pct(call_otm_pct, "call_otm_pct")
    hedge = choose_put(position, price, rows, otm_pct)
    call = _call(price, rows, call_otm_pct)
    received = float(call.bid or 0)
    net, shares = round(hedge.premium - received, 4), hedge.shares_covered
    return msgspec.structs.replace(
        hedge, kind="collar", call=call, call_premium=received, net_premium=net, cost=round(net * shares, 2),
        cap=call.strike, max_loss=round((price - hedge.floor + net) * shares, 2),
        max_gain=round((call.strike - price - net) * shares, 2), breakeven=round(price + net, 2))


def limit_price(effect: HedgeEffect) -> Decimal:
    """The put's limit price (its ask), or a collar's net price per share (+ debit, - credit)."""
    return Decimal(str(effect.net_premium)).quantize(CENT)


def collar_order(symbol: str, effect: HedgeEffect) -> OrderRequest:
    """Buy the put and sell the call as one multileg order at the effect's net price (debit, credit or even)."""
    if effect.call is None:
        raise Invalid("a collar needs its call", details={"field": "kind"})
    net = limit_price(effect)
    order_type = OrderType.DEBIT if net > 0 else OrderType.CREDIT if net < 0 else OrderType.EVEN
    order = OrderRequest(
        symbol=symbol, side=OrderSide.BUY_TO_OPEN, quantity=Decimal(effect.contracts), type=order_type,
        order_class=OrderClass.MULTILEG, price=abs(net) if net else None,
        legs=(OrderLeg(occ_symbol(effect.put.option_symbol), OrderSide.BUY_TO_OPEN, effect.contracts),
              OrderLeg(occ_symbol(effect.call.option_symbol), OrderSide.SELL_TO_OPEN, effect.contracts)))
    validate_order_request(order)
    return order
