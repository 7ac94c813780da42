"""Hedge a long stock position with a protective put or a collar: pick the contracts from the live chain, show
the dollar effect, and propose the order through OrderService (a human confirms it like any other)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.domain.options_hedge import HedgeEffect, HedgeKind, choose_collar, choose_put, collar_order, limit_price
from core.domain.orders import OrderRequest
from core.domain.position_actions import protective_put
from core.domain.symbols import normalize_symbol
from core.errors import Invalid, NotFound
from core.services.options import OptionsService
from core.services.orders import OrderService, ProposeResult

DEFAULT_MIN_DTE = 30
DEFAULT_CALL_OTM_PCT = 5.0


@dataclass(frozen=True, slots=True)
class HedgeProposal:
    effect: HedgeEffect
    expiration: date
    underlying_price: float
    order: OrderRequest
    proposal: ProposeResult


def describe(effect: HedgeEffect) -> str:
    """The hedge in one line, as the intent's rationale."""
    put = f"{effect.contracts} x {effect.put.option_symbol} at {effect.premium:.2f}"
    risk = f"floor {effect.floor:g}, max loss ${effect.max_loss:,.2f} to expiration"
    if effect.call is None:
        return f"protective put: {put} costs ${effect.cost:,.2f}; {risk}"
    net = f"net {'debit' if effect.cost >= 0 else 'credit'} ${abs(effect.cost):,.2f}"
    return (f"collar: buy {put}, sell {effect.call.option_symbol} at {effect.call_premium:.2f}; {net}; {risk}; "
            f"cap {effect.cap:g}, max gain ${effect.max_gain:,.2f}")


class OptionHedges:
    def __init__(self, options: OptionsService, orders: OrderService) -> None:
        self._options, self._orders = options, orders

    async def propose(self, actor: str, symbol: str, *, kind: HedgeKind = "put", otm_pct: float = 5.0,
                      call_otm_pct: float = DEFAULT_CALL_OTM_PCT, min_dte: int = DEFAULT_MIN_DTE,
                      source: str = "options") -> HedgeProposal:
        """`kind="collar"` also sells a call `call_otm_pct` above the price, both legs as one multileg order."""
        symbol = normalize_symbol(symbol)
        held = await self._orders.account.position(symbol)
        if held is None:
            raise NotFound(f"there is no open {symbol} position to hedge")
        position = held.position
        _, listed = await self._options.expirations(symbol)
        today = self._options.clock().date()
        later = [day for day in listed if (day - today).days >= min_dte]
        if not later:
            raise Invalid(f"no listed {symbol} expiration {min_dte} or more days out", details={"field": "min_dte"})
        chain = await self._options.chain(symbol, later[0])
        if chain.underlying_price is None:
            raise Invalid(f"no {symbol} price to place the floor against", details={"field": "symbol"})
        if kind == "collar":
            effect = choose_collar(position, chain.underlying_price, chain.contracts, otm_pct, call_otm_pct)
            order = collar_order(symbol, effect)
        else:
            effect = choose_put(position, chain.underlying_price, chain.contracts, otm_pct)
            order = protective_put(position, strike=Decimal(str(effect.put.strike)), expiration=later[0],
                                   limit_price=limit_price(effect))
        proposal = await self._orders.propose(actor, order, rationale=describe(effect), source=source)
        return HedgeProposal(effect, later[0], chain.underlying_price, order, proposal)
