"""The position part of the action service: the order behind a position button (Trim 50% / Close / Stop to BE /
Roll / Hedge), for every front-end.

The card a trader clicks may be stale, so the live position is re-read from the broker first; the order is built
by `core.domain.position_actions` (a hedge by `OptionHedges`) and proposed through `OrderService` (nothing is sent
without a confirm). A roll and a hedge carry their dollar effect, shown before the confirm.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from core.domain.action_effects import hedge_effect, roll_effect
from core.domain.action_refs import ActionRef
from core.domain.numbers import decimal_or_none
from core.domain.options_types import OptionChain, OptionRow
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
from core.services.option_hedge import OptionHedges
from core.services.option_hedge import describe as describe_hedge
from core.services.options import OptionsService
from core.services.orders import OrderService

TRIM_PERCENT = Decimal(50)


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
    def __init__(self, orders: OrderService, options: OptionsService, hedges: OptionHedges) -> None:
        self._orders, self._options, self._hedges = orders, options, hedges

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
        return await self._roll(item, option)

    async def _roll(self, item: PositionItem, option: OptionSymbol) -> OrderRequest:
        """The same strike and type at the next listed expiration, priced from the live chains of the options
        service (Tradier first, then Polygon, as a hedge is): a roll needs no options data plan."""
        _, listed = await self._options.expirations(option.root)
        target = next_expiration(listed, option.expiration)
        rolled = OptionSymbol(option.root, target, option.kind, option.strike)
        new = _listed(await self._options.chain(option.root, target), rolled.occ)
        if new is None:
            kind = "call" if option.kind == "C" else "put"
            raise Invalid(f"{option.root} lists no {option.strike} {kind} expiring {target}; roll it from the order "
                          "form", details={"field": "position"})
        held = _listed(await self._options.chain(option.root, option.expiration), option.occ)
        net = _roll_net_price(held, new, item.position.is_long, item.last)
        return roll_to_next_expiration(item.position, listed, net_price=net)


def _listed(chain: OptionChain, occ: str) -> OptionRow | None:
    return next((row for row in chain.contracts if row.option_symbol == occ), None)


def _roll_net_price(held: OptionRow | None, new: OptionRow, is_long: bool, last: Decimal | None) -> Decimal | None:
    """The roll's net price at the natural side of each leg (> 0 debit, < 0 credit): long = the new contract's
    ask - the held one's bid, short = the held one's ask - the new one's bid; the held leg falls back to the
    position's last price. None when a price is unknown (the order then goes at market, which risk refuses)."""
    old = decimal_or_none(None if held is None else held.bid if is_long else held.ask) or last
    new_price = decimal_or_none(new.ask if is_long else new.bid)
    if old is None or new_price is None:
        return None
    return (new_price - old if is_long else old - new_price).quantize(Decimal("0.01"))
