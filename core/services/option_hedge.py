"""Hedge a long stock position with a protective put: pick the put from the live chain, show its dollar effect,
and propose the order through OrderService (a human confirms it like any other)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.domain.options_hedge import HedgeEffect, choose_put, limit_price
from core.domain.orders import OrderRequest, Position
from core.domain.position_actions import protective_put
from core.domain.symbols import normalize_symbol
from core.errors import Invalid, NotFound
from core.services.options import OptionsService
from core.services.orders import OrderService, ProposeResult

DEFAULT_MIN_DTE = 30


@dataclass(frozen=True, slots=True)
class HedgeProposal:
    effect: HedgeEffect
    expiration: date
    underlying_price: float
    order: OrderRequest
    proposal: ProposeResult


class OptionHedges:
    def __init__(self, options: OptionsService, orders: OrderService) -> None:
        self._options, self._orders = options, orders

    async def propose(self, actor: str, symbol: str, *, otm_pct: float = 5.0, min_dte: int = DEFAULT_MIN_DTE,
                      source: str = "options") -> HedgeProposal:
        symbol = normalize_symbol(symbol)
        held = next((p for p in await self._orders.positions() if p["symbol"] == symbol), None)
        if held is None:
            raise NotFound(f"there is no open {symbol} position to hedge")
        position = Position(symbol, Decimal(str(held["quantity"])), Decimal(str(held["cost_basis"])))
        _, listed = await self._options.expirations(symbol)
        today = self._options.clock().date()
        later = [day for day in listed if (day - today).days >= min_dte]
        if not later:
            raise Invalid(f"no listed {symbol} expiration {min_dte} or more days out", details={"field": "min_dte"})
        chain = await self._options.chain(symbol, later[0])
        if chain.underlying_price is None:
            raise Invalid(f"no {symbol} price to place the floor against", details={"field": "symbol"})
        effect = choose_put(position, chain.underlying_price, chain.contracts, otm_pct)
        order = protective_put(position, strike=Decimal(str(effect.put.strike)), expiration=later[0],
                               limit_price=limit_price(effect))
        rationale = (f"protective put: {effect.contracts} x {effect.put.option_symbol} at {effect.premium:.2f} costs "
                     f"${effect.cost:,.2f}; floor {effect.floor:g}, max loss ${effect.max_loss:,.2f} to expiration")
        proposal = await self._orders.propose(actor, order, rationale=rationale, source=source)
        return HedgeProposal(effect, later[0], chain.underlying_price, order, proposal)
