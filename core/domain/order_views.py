"""What the core tells every surface about orders, positions and the account: typed values, one shape each.

REST (as response models), the `orders`/`positions` events and the chat bots all show these same values, so a
number can not mean one thing on the dashboard and another in Discord. On the wire (msgspec or orjson) Decimals
are strings in the broker's own notation and times are ISO-8601 text; an unknown value is null, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

from core.domain.numbers import cents, decimal_or_none, fmt_money
from core.domain.orders import BrokerOrder, Position, PreviewView, contract_multiplier
from core.domain.risk import Decision, Denied

Verdict = Literal["approved", "denied"]


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def document(view: object) -> Any:
    """A view as JSON-ready builtins (Decimals as strings), for JSON columns and the audit trail."""
    return msgspec.to_builtins(view)


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The risk gate's verdict on one order: `code` says why a denial happened, `reducing` and `notional` what an
    approval was based on (None when not known, e.g. on a denial)."""

    decision: Verdict
    reason: str
    code: str | None = None
    reducing: bool | None = None
    notional: Decimal | None = None

    @property
    def denied(self) -> bool:
        return self.decision == "denied"

    @classmethod
    def of(cls, decision: Decision) -> RiskDecision:
        if isinstance(decision, Denied):
            return cls("denied", decision.reason, code=decision.code)
        reason = "reduces an open position" if decision.reducing else "within every limit"
        if decision.max_loss is not None:
            reason += f"; the stop caps the loss at {fmt_money(decision.max_loss)}"
        return cls("approved", reason, reducing=decision.reducing, notional=decision.notional)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RiskDecision:
        """A decision as stored with an intent."""
        verdict: Verdict = "approved" if data.get("decision") == "approved" else "denied"
        reducing = data.get("reducing")
        return cls(verdict, str(data.get("reason") or ""), code=data.get("code"),
                   reducing=reducing if isinstance(reducing, bool) else None,
                   notional=decimal_or_none(data.get("notional")))


CANCEL_APPROVED = RiskDecision("approved", "cancelling an order never adds exposure", reducing=True)


@dataclass(frozen=True, slots=True)
class BrokerOrderView:
    """One order as the broker echoes it (what `orders.payload` stores and the audit trail quotes)."""

    id: str
    symbol: str
    side: str
    quantity: Decimal
    type: str
    status: str
    duration: str | None
    price: Decimal | None
    stop: Decimal | None
    avg_fill_price: Decimal | None
    exec_quantity: Decimal
    remaining_quantity: Decimal | None
    tag: str | None
    option_symbol: str | None
    order_class: str | None
    reason: str | None
    created_at: str | None
    updated_at: str | None
    legs: tuple[BrokerOrderView, ...]

    @classmethod
    def of(cls, order: BrokerOrder) -> BrokerOrderView:
        return cls(*echo_values(order))


def echo_values(order: BrokerOrder) -> tuple[Any, ...]:
    """The fields of `BrokerOrderView`, in order (positional: the tracker builds one per order per cycle)."""
    return (order.id, order.symbol, order.side.value, order.quantity, order.type.value, order.status,
            order.duration.value if order.duration else None, order.price, order.stop, order.avg_fill_price,
            order.exec_quantity, order.remaining_quantity, order.tag, order.option_symbol, order.order_class,
            order.reason, iso(order.created_at), iso(order.updated_at),
            tuple(BrokerOrderView.of(leg) for leg in order.legs))


@dataclass(frozen=True, slots=True)
class AccountOrder(BrokerOrderView):
    """A broker order in today's list: `manual` when its tag is not one of our intents (placed elsewhere)."""

    intent_id: str | None
    manual: bool
    working: bool

    @classmethod
    def listed(cls, order: BrokerOrder, our_intents: frozenset[str] | set[str]) -> AccountOrder:
        ours = order.tag is not None and order.tag in our_intents
        return cls(*(*echo_values(order), order.tag if ours else None, not ours, order.is_working))


@dataclass(frozen=True, slots=True)
class Account:
    mode: str
    equity: Decimal
    buying_power: Decimal
    cash: Decimal
    realized_pnl_today: Decimal
    unrealized_pnl: Decimal
    account_type: str


@dataclass(frozen=True, slots=True)
class LinkedPlan:
    """The entry and stop of the journal plan a position was taken on."""

    entry: Decimal
    stop: Decimal

    @classmethod
    def of_journal(cls, plan: Mapping[str, Any]) -> LinkedPlan | None:
        """The entry and stop of a journal entry's plan; None when they are not two different numbers."""
        entry, stop = decimal_or_none(plan.get("entry")), decimal_or_none(plan.get("stop"))
        return None if entry is None or stop is None or entry == stop else cls(entry, stop)

    def r_multiple(self, last: Decimal) -> Decimal:
        """(last - entry) / (entry - stop): a long above its entry and a short below it are both positive."""
        return ((last - self.entry) / (self.entry - self.stop)).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class PositionItem:
    """A position with its live valuation; without a last price, value and P&L are unknown (None), never
    guessed. With a linked plan it carries the plan's entry/stop and the R multiple at the last price."""

    symbol: str
    quantity: Decimal
    cost_basis: Decimal
    average_price: Decimal
    last: Decimal | None
    market_value: Decimal | None
    unrealized_pnl: Decimal | None
    unrealized_pct: Decimal | None
    kind: Literal["option", "equity"]
    side: Literal["long", "short"]
    opened_at: str | None
    plan: LinkedPlan | None
    r_multiple: Decimal | None

    @property
    def position(self) -> Position:
        return Position(self.symbol, self.quantity, self.cost_basis)


def position_item(position: Position, last: Decimal | None, plan: LinkedPlan | None = None) -> PositionItem:
    multiplier = contract_multiplier(position.symbol)
    value = pnl = pct = None
    if last is not None:
        value = cents(last * position.quantity * multiplier)
        pnl = cents(value - position.cost_basis)
        pct = cents(pnl / abs(position.cost_basis) * 100) if position.cost_basis else None
    r = None if plan is None or last is None else plan.r_multiple(last)
    return PositionItem(
        symbol=position.symbol, quantity=position.quantity, cost_basis=position.cost_basis,
        average_price=cents(position.average_price / multiplier), last=last, market_value=value,
        unrealized_pnl=pnl, unrealized_pct=pct, kind="option" if multiplier > 1 else "equity",
        side="long" if position.is_long else "short", opened_at=iso(position.opened_at),
        plan=None if r is None else plan, r_multiple=r)


def position_items(positions: Sequence[Position], prices: Mapping[str, Decimal],
                   plans: Mapping[str, LinkedPlan]) -> list[PositionItem]:
    """Open positions (zero quantities left out) by symbol, each valued and linked to its plan."""
    return [position_item(p, prices.get(p.symbol), plans.get(p.symbol))
            for p in sorted(positions, key=lambda p: p.symbol) if p.quantity]


@dataclass(frozen=True, slots=True)
class BlotterItem:
    """One row of today's blotter: a broker order (ours by tag, or manual), or an intent not at the broker
    (`id` None until it is; `action` and `expires_at` are set for those only)."""

    id: str | None
    intent_id: str | None
    action: str | None
    symbol: str | None
    side: str | None
    quantity: Decimal | None
    type: str | None
    status: str
    intent_status: str | None
    manual: bool
    working: bool
    price: Decimal | None
    stop: Decimal | None
    duration: str | None
    option_symbol: str | None
    filled_quantity: Decimal | None
    avg_fill_price: Decimal | None
    reason: str | None
    tag: str | None
    created_at: str | None
    updated_at: str | None
    expires_at: str | None


@dataclass(frozen=True, slots=True)
class Intent:
    """An order a human proposed and must confirm (or a cancel/replace of a working order). `order` is the stored
    document: the order's REST shape for "place", the broker's echo for "cancel", {changes, result, original}
    for "replace"."""

    id: str
    action: str
    actor: str
    status: str
    order: dict[str, Any]
    order_hash: str
    target_order_id: str | None
    preview: PreviewView | None
    risk: RiskDecision
    reference_price: Decimal | None
    rationale: str | None
    source: str | None
    broker_order_id: str | None
    error: str | None
    created_at: str | None
    expires_at: str | None
    updated_at: str | None
    mode: str

    @property
    def shown_order(self) -> dict[str, Any]:
        """The order this intent results in (a replace's resulting order, else the stored document)."""
        result = self.order.get("result") if self.action == "replace" else None
        return result if isinstance(result, dict) else self.order
