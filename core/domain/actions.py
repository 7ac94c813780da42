"""Next-best-action chips for a fired alert: ``alert.meta.actions``, pure and JSON-ready.

At most `MAX_CHIPS` chips, then always "Dismiss". Nothing here is executed: an order chip carries a prefilled
`OrderRequest` that still goes through OrderService.propose/confirm.

- Open position, crossed: in its favour (long + above, short + below) "Trim 50%" (limit at the level) and
  "Move stop to breakeven"; against it "Exit position" and "Trim 50%" (market).
- Open position, approaching: in its favour "Set limit at level" (exit there), against it "Set stop at level".
- No position (new risk, only while risk is ACTIVE): crossed -> "Take setup (1R)", entry at the trigger price
  in the break's direction; approaching -> "Set limit at level", a limit at the level against the move (buy at
  support, short at resistance). Either is a bracket (`core.domain.brackets`): the stop sits
  `ActionContext.stop_buffer_pct` beyond the level, the target `ActionContext.reward_risk` R beyond the entry, and
  the quantity comes from the `Sizer`; without one, or when it sizes to zero, a "plan" chip carries the plan
  instead.
- "Snooze 15m" while the alert is still live. HALTED offers no order; REDUCE_ONLY only orders that reduce.
  Without a broker, order chips are kept (the user sees the idea) but marked ``needs: "broker"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from core.domain.action_refs import PlanDraft
from core.domain.alerts import Condition, Fired, FireKind
from core.domain.brackets import bracket_order, default_target
from core.domain.orders import OrderClass, OrderDuration, OrderLeg, OrderRequest, OrderSide, OrderType, Position
from core.domain.plans import Side, cents
from core.domain.position_actions import close, stop_at_breakeven, trim
from core.domain.risk import RiskLimits, TradingStatus
from core.domain.sizing import suggest_size
from core.errors import Invalid

MAX_CHIPS = 3
SNOOZE_SEC = 15 * 60
HALF = Decimal(50)

Sizer = Callable[[Decimal, Decimal], Decimal]
"""(entry, stop) -> whole shares to trade, 0 when the risk budget buys none (e.g. `risk_sizer`)."""


def risk_sizer(limits: RiskLimits, equity: Decimal, buying_power: Decimal | None, symbol: str) -> Sizer:
    """The `Sizer` of the trader's risk budget on this account (`suggest_size`)."""

    def size(entry: Decimal, stop: Decimal) -> Decimal:
        result = suggest_size(entry=entry, stop=stop, limits=limits, equity=equity, buying_power=buying_power,
                              symbol=symbol)
        return Decimal(result.sizing.quantity) if result.sizing is not None else Decimal(0)

    return size


class ActionKind(StrEnum):
    ORDER = "order"
    SNOOZE = "snooze"
    DISMISS = "dismiss"
    PLAN = "plan"


@dataclass(frozen=True, slots=True)
class NextAction:
    """One chip. ``plan`` is the setup as the planner takes it; ``needs`` names what must be configured first;
    ``percent`` is how much of the position a trim exits."""

    id: str
    label: str
    kind: ActionKind
    order: OrderRequest | None = None
    plan: PlanDraft | None = None
    snooze_sec: int | None = None
    needs: str | None = None
    percent: Decimal | None = None

    def chip(self) -> AlertChip:
        return AlertChip(self.id, self.label, self.kind, order=None if self.order is None else ChipOrder.of(self.order),
                         plan=self.plan, snooze_sec=self.snooze_sec,
                         percent=self.percent, needs=self.needs)


class ChipOrder(msgspec.Struct, frozen=True, omit_defaults=True):
    """A chip's prefilled order in the REST order shape (`OrderRequest.to_dict`), for display only: executing a
    chip rebuilds its order from the stored fire and the live account."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    type: OrderType
    duration: OrderDuration
    order_class: OrderClass = msgspec.field(name="class")
    price: Decimal | None = None
    stop: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    option_symbol: str | None = None
    legs: tuple[OrderLeg, ...] = ()

    @classmethod
    def of(cls, order: OrderRequest) -> ChipOrder:
        return cls(order.symbol, order.side, order.quantity, order.type, order.duration, order.order_class,
                   price=order.price, stop=order.stop, take_profit=order.take_profit, stop_loss=order.stop_loss,
                   option_symbol=order.option_symbol, legs=order.legs)


class AlertChip(msgspec.Struct, frozen=True, omit_defaults=True):
    """A chip as the trader was shown it: one entry of ``alert.meta.actions`` (absent fields are left out, so
    the JSON is the chip's own)."""

    id: str
    label: str
    kind: ActionKind
    order: ChipOrder | None = None
    plan: PlanDraft | None = None
    snooze_sec: int | None = None
    percent: Decimal | None = None
    needs: str | None = None


def stored_chips(actions: Iterable[Any] | None) -> tuple[AlertChip, ...]:
    """The chips of a stored or received ``alert.meta.actions``: every surface reads chips through here; an
    entry that is not a chip (unknown kind, missing id or label) is skipped."""
    chips = []
    for raw in actions or ():
        try:
            chips.append(msgspec.convert(raw, AlertChip))
        except msgspec.ValidationError:
            continue
    return tuple(chips)


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What the chips depend on besides the fire itself."""

    position: Position | None = None  # the open position in the alert's symbol, if any
    risk_status: TradingStatus = TradingStatus.ACTIVE
    broker_configured: bool = True
    size: Sizer | None = None
    stop_buffer_pct: Decimal = Decimal(1)  # a new setup's stop: this % of the level beyond the level
    reward_risk: Decimal = Decimal(2)  # a new setup's target: this many R beyond the entry (the default R:R)


DISMISS = NextAction("dismiss", "Dismiss", ActionKind.DISMISS)
SNOOZE = NextAction("snooze", "Snooze 15m", ActionKind.SNOOZE, snooze_sec=SNOOZE_SEC)


def _order(chip_id: str, label: str, build: Callable[[], OrderRequest], *,
           percent: Decimal | None = None) -> list[NextAction]:
    """The order chip, or none when the position rules refuse it (e.g. half of one share)."""
    try:
        return [NextAction(chip_id, label, ActionKind.ORDER, order=build(), percent=percent)]
    except Invalid:
        return []


def _manage(fired: Fired, position: Position) -> list[NextAction]:
    level = fired.alert.spec.level
    favourable = position.is_long == (fired.alert.spec.condition is Condition.PRICE_ABOVE)
    if fired.kind is FireKind.APPROACHING and favourable:
        return _order("limit", "Set limit at level", lambda: close(position, limit_price=level))
    if fired.kind is FireKind.APPROACHING:
        return _order("stop", "Set stop at level", lambda: replace(
            close(position), type=OrderType.STOP, stop=level, duration=OrderDuration.GTC))
    if favourable:
        return (_order("trim", "Trim 50%", lambda: trim(position, HALF, limit_price=level), percent=HALF)
                + _order("breakeven", "Move stop to breakeven", lambda: stop_at_breakeven(position, last=fired.price)))
    return (_order("exit", "Exit position", lambda: close(position))
            + _order("trim", "Trim 50%", lambda: trim(position, HALF), percent=HALF))


def _setup(fired: Fired, ctx: ActionContext) -> NextAction:
    spec = fired.alert.spec
    up = spec.condition is Condition.PRICE_ABOVE
    long = up == (fired.kind is FireKind.CROSSED)  # breakouts follow the move, approaches fade it
    entry = cents(fired.price) if fired.kind is FireKind.CROSSED else spec.level
    stop = cents(spec.level * (1 - ctx.stop_buffer_pct / 100 if long else 1 + ctx.stop_buffer_pct / 100))
    target = default_target(entry, stop, ctx.reward_risk)
    plan = PlanDraft(spec.symbol, (Side.LONG if long else Side.SHORT).value, str(entry), str(stop), (str(target),))
    chip_id, label = ("setup", "Take setup (1R)") if fired.kind is FireKind.CROSSED else ("limit", "Set limit at level")
    quantity = ctx.size(entry, stop) if ctx.size is not None else Decimal(0)
    if quantity < 1:
        return NextAction("plan", "Plan this setup", ActionKind.PLAN, plan=plan)
    try:
        order = bracket_order(spec.symbol, long=long, quantity=quantity, entry=entry, stop=stop, target=target)
    except Invalid:  # e.g. a fire that already went through the stop: the trader plans it instead
        return NextAction("plan", "Plan this setup", ActionKind.PLAN, plan=plan)
    return NextAction(chip_id, label, ActionKind.ORDER, order=order, plan=plan)


def next_actions(fired: Fired, ctx: ActionContext) -> tuple[NextAction, ...]:
    """Up to `MAX_CHIPS` chips for this fire and context, then "Dismiss"."""
    position = ctx.position if ctx.position is not None and ctx.position.quantity else None
    chips: list[NextAction] = []
    if ctx.risk_status is not TradingStatus.HALTED and position is not None:
        chips += _manage(fired, position)  # every position chip reduces exposure
    elif ctx.risk_status is TradingStatus.ACTIVE and position is None:
        chips.append(_setup(fired, ctx))
    if fired.alert.status.is_live:
        chips.append(SNOOZE)
    if not ctx.broker_configured:
        chips = [replace(c, needs="broker") if c.kind is ActionKind.ORDER else c for c in chips]
    return (*chips[:MAX_CHIPS], DISMISS)

