"""The dollar effect of a position action, shown before the trader confirms it (roll, protective put, collar).

Negative dollars leave the account (a debit, a premium paid), positive ones come in (a credit). An option's
price is per share: x 100 per contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain.numbers import cents, fmt_money, fmt_num
from core.domain.options_hedge import HedgeEffect
from core.domain.orders import OPTION_MULTIPLIER, OrderRequest, OrderType


@dataclass(frozen=True, slots=True)
class Effect:
    """`dollars` is None when it cannot be known before the fill (a roll at market)."""

    label: str
    dollars: Decimal | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "dollars": None if self.dollars is None else str(self.dollars),
                "detail": self.detail}


def roll_effect(order: OrderRequest) -> Effect:
    """A roll's net debit (paid) or credit (received): net price x 100 x contracts."""
    contracts = order.legs[0].quantity if order.legs else int(order.quantity)
    if order.type is OrderType.MARKET or (order.price is None and order.type is not OrderType.EVEN):
        return Effect("Roll", None, f"{contracts} contract(s) at market: the net debit or credit is only known "
                                    "when it fills")
    price = order.price or Decimal(0)
    amount = cents(price * OPTION_MULTIPLIER * contracts)
    if order.type is OrderType.EVEN:
        return Effect("Roll", Decimal("0.00"), f"{contracts} contract(s) for even: no money changes hands")
    paid = order.type is OrderType.DEBIT
    return Effect("Roll", -amount if paid else amount,
                  f"net {'debit' if paid else 'credit'} {fmt_num(price)} x {OPTION_MULTIPLIER} x {contracts} "
                  f"contract(s) = {fmt_money(amount)} {'paid' if paid else 'received'}")


def hedge_effect(effect: HedgeEffect, detail: str) -> Effect:
    """A protective put (its premium paid now) or a collar (the put less the call sold: a net debit or credit)."""
    return Effect("Collar" if effect.kind == "collar" else "Protective put", -cents(Decimal(str(effect.cost))),
                  detail)
