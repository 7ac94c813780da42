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
        return cls(**echo_fields(order))


def echo_fields(order: BrokerOrder) -> dict[str, Any]:
    return {"id": order.id, "symbol": order.symbol, "side": order.side.value, "quantity": order.quantity,
            "type": order.type.value, "status": order.status,
            "duration": order.duration.value if order.duration else None, "price": order.price, "stop": order.stop,
            "avg_fill_price": order.avg_fill_price, "exec_quantity": order.exec_quantity,
            "remaining_quantity": order.remaining_quantity, "tag": order.tag, "option_symbol": order.option_symbol,
            "order_class": order.order_class, "reason": order.reason, "created_at": iso(order.created_at),
            "updated_at": iso(order.updated_at), "legs": tuple(BrokerOrderView.of(leg) for leg in order.legs)}


@dataclass(frozen=True, slots=True)
class AccountOrder(BrokerOrderView):
    """A broker order in today's list: `manual` when its tag is not one of our intents (placed elsewhere)."""

    intent_id: str | None
    manual: bool
    working: bool

    @classmethod
    def listed(cls, order: BrokerOrder, our_intents: frozenset[str] | set[str]) -> AccountOrder:
        ours = order.tag is not None and order.tag in our_intents
        return cls(**echo_fields(order), intent_id=order.tag if ours else None, manual=not ours,
                   working=order.is_working)


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


def r_multiple(plan: Mapping[str, Any] | None, last: Decimal | None) -> tuple[LinkedPlan, Decimal] | None:
    """A linked plan and the R at the last price: (last - entry) / (entry - stop), so a long above its entry and a
    short below it are both positive. None without a usable plan or price."""
    if plan is None or last is None:
        return None
    entry, stop = decimal_or_none(plan.get("entry")), decimal_or_none(plan.get("stop"))
    if entry is None or stop is None or entry == stop:
        return None
    return LinkedPlan(entry, stop), ((last - entry) / (entry - stop)).quantize(Decimal("0.01"))


def position_item(position: Position, last: Decimal | None, plan: Mapping[str, Any] | None = None) -> PositionItem:
    multiplier = contract_multiplier(position.symbol)
    value = pnl = pct = None
    if last is not None:
        value = cents(last * position.quantity * multiplier)
        pnl = cents(value - position.cost_basis)
        pct = cents(pnl / abs(position.cost_basis) * 100) if position.cost_basis else None
    linked = r_multiple(plan, last)
    return PositionItem(
        symbol=position.symbol, quantity=position.quantity, cost_basis=position.cost_basis,
        average_price=cents(position.average_price / multiplier), last=last, market_value=value,
        unrealized_pnl=pnl, unrealized_pct=pct, kind="option" if multiplier > 1 else "equity",
        side="long" if position.is_long else "short", opened_at=iso(position.opened_at),
        plan=None if linked is None else linked[0], r_multiple=None if linked is None else linked[1])


def position_items(positions: Sequence[Position], prices: Mapping[str, Decimal],
                   plans: Mapping[str, Mapping[str, Any]]) -> list[PositionItem]:
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
