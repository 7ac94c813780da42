"""The position part of the action service: the order behind a position button (Trim 50% / Close / Stop to BE /
Roll / Hedge), for every front-end.

The card a trader clicks may be stale, so the live position is re-read from the broker first; the order is built
by `core.domain.position_actions` (a hedge by `OptionHedges`) and proposed through `OrderService` (nothing is sent
without a confirm). A roll and a hedge carry their dollar effect, shown before the confirm.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from core.domain.action_effects import hedge_effect, roll_effect
from core.domain.action_refs import ActionRef
from core.domain.market import OptionContract
from core.domain.order_views import PositionItem
from core.domain.orders import OrderClass, OrderRequest
from core.domain.position_actions import (
    OptionSymbol,
    close,
    next_expiration,
    roll_to_next_expiration,
    stop_at_breakeven,
    trim,
)
from core.errors import Invalid, NotFound
from core.services.action_outcome import ActionOutcome
from core.services.market import MarketService
from core.services.option_hedge import OptionHedges
from core.services.option_hedge import describe as describe_hedge
from core.services.orders import OrderService

TRIM_PERCENT = Decimal(50)
ROLL_CHAIN_LIMIT = 1000


class PositionAction(StrEnum):
    TRIM = "trim"
    CLOSE = "close"
    BREAKEVEN = "breakeven"
    ROLL = "roll"
    HEDGE = "hedge"
    COLLAR = "collar"


POSITION_ACTION_LABELS: dict[PositionAction, str] = {
    PositionAction.TRIM: "Trim 50%", PositionAction.CLOSE: "Close", PositionAction.BREAKEVEN: "Stop to BE",
    PositionAction.ROLL: "Roll", PositionAction.HEDGE: "Hedge (put)", PositionAction.COLLAR: "Collar"}


def actions_for(symbol: str) -> list[PositionAction]:
    """The buttons a position card offers: Roll for options (an equity has no expiration to roll), Hedge (a
    protective put) and Collar for stock."""
    actions = [PositionAction.TRIM, PositionAction.CLOSE, PositionAction.BREAKEVEN]
    if OptionSymbol.parse(symbol) is not None:
        return [*actions, PositionAction.ROLL]
    return [*actions, PositionAction.HEDGE, PositionAction.COLLAR]


def parse_action(value: str) -> PositionAction:
    try:
        return PositionAction(value)
    except ValueError:
        raise Invalid(f"unknown position action {value!r}; use one of {', '.join(PositionAction)}",
                      details={"field": "action"}) from None


class PositionOrders:
    def __init__(self, orders: OrderService, market: MarketService, hedges: OptionHedges) -> None:
        self._orders, self._market, self._hedges = orders, market, hedges

    async def execute(self, actor: str, ref: ActionRef, *, source: str) -> ActionOutcome:
        """Propose `ref.action` on the live `ref.id` position (the caller checked the actor)."""
        verb = parse_action(ref.action)
        if verb in (PositionAction.HEDGE, PositionAction.COLLAR):
            hedge = await self._hedges.propose(actor, ref.id, kind="collar" if verb is PositionAction.COLLAR else "put",
                                               source=source)
            return ActionOutcome.proposed(ref, hedge.order, hedge.proposal,
                                          effect=hedge_effect(hedge.effect, describe_hedge(hedge.effect)))
        item = await self._orders.account.position(ref.id)
        if item is None:
            raise NotFound(f"there is no open {ref.id} position any more")
        order = await self._order(verb, item)
        proposal = await self._orders.propose(actor, order, rationale=f"position {POSITION_ACTION_LABELS[verb]}",
                                              source=source)
        return ActionOutcome.proposed(ref, order, proposal,
                                      effect=roll_effect(order) if order.order_class is OrderClass.MULTILEG else None)

    async def _order(self, verb: PositionAction, item: PositionItem) -> OrderRequest:
        """trim / close / breakeven / roll of the live position `item`."""
        position = item.position
        if verb is PositionAction.TRIM:
            return trim(position, TRIM_PERCENT)
        if verb is PositionAction.CLOSE:
            return close(position)
        if verb is PositionAction.BREAKEVEN:
            return stop_at_breakeven(position, last=item.last)
        option = OptionSymbol.parse(position.symbol)
        if option is None:
            raise Invalid(f"{position.symbol} is not an option; only options roll", details={"field": "position"})
        kind: Literal["call", "put"] = "call" if option.kind == "C" else "put"
        chain = await self._market.options_chain(option.root, contract_type=kind, max_contracts=ROLL_CHAIN_LIMIT)
        same = [c for c in chain if c.strike == option.strike and c.option_type in (kind, "")]
        expirations = sorted({c.expiration for c in same})
        target = next_expiration(expirations, option.expiration)
        net = _roll_net_price(same, option.expiration, target, position.is_long, item.last)
        return roll_to_next_expiration(position, expirations, net_price=net)


def _roll_net_price(contracts: list[OptionContract], held: date, target: date, is_long: bool,
                    last: Decimal | None) -> Decimal | None:
    """The roll's net price at the natural side of each leg (> 0 debit, < 0 credit): long = the new contract's
    ask - the held one's bid, short = the held one's ask - the new one's bid; the held leg falls back to the
    position's last price. None when a price is unknown (the order then goes at market, which risk refuses)."""
    def side(expiration: date, buying: bool) -> Decimal | None:
        found = next((c.quote for c in contracts if c.expiration == expiration), None)
        return None if found is None else (found.ask if buying else found.bid)

    old = side(held, buying=not is_long) or last
    new = side(target, buying=is_long)
    if old is None or new is None:
        return None
    return (new - old if is_long else old - new).quantize(Decimal("0.01"))
