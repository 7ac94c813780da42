"""JSON-ready views of intents, broker orders, previews and positions: the `orders`/`positions` event items and
the REST bodies share them, so every surface shows the same thing (Decimals as strings, times ISO-8601 UTC)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.db.models import OrderIntentRow
from core.domain.orders import WORKING_STATUSES, BrokerOrder, OrderPreview, Position, contract_multiplier
from core.domain.plans import cents

ACTIVE_INTENT = ("PENDING", "SUBMITTING", "UNKNOWN")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def preview_to_dict(preview: OrderPreview) -> dict[str, Any]:
    return {"ok": preview.ok, "cost": _s(preview.cost), "commission": _s(preview.commission),
            "fees": _s(preview.fees), "order_cost": _s(preview.order_cost), "margin_change": _s(preview.margin_change),
            "buying_power_effect": _s(preview.buying_power_effect), "day_trades": preview.day_trades,
            "warnings": list(preview.warnings)}


def broker_order_to_dict(order: BrokerOrder) -> dict[str, Any]:
    """The broker's echo of one order (what `orders.payload` stores)."""
    return {"id": order.id, "symbol": order.symbol, "side": order.side.value, "quantity": str(order.quantity),
            "type": order.type.value, "status": order.status,
            "duration": order.duration.value if order.duration else None, "price": _s(order.price),
            "stop": _s(order.stop), "avg_fill_price": _s(order.avg_fill_price),
            "exec_quantity": str(order.exec_quantity), "remaining_quantity": _s(order.remaining_quantity),
            "tag": order.tag, "option_symbol": order.option_symbol, "class": order.order_class,
            "reason": order.reason, "created_at": _t(order.created_at), "updated_at": _t(order.updated_at),
            "legs": [broker_order_to_dict(leg) for leg in order.legs]}


def intent_to_dict(row: OrderIntentRow, mode: str) -> dict[str, Any]:
    return {"id": row.id, "action": row.action, "actor": row.actor, "status": row.status, "order": row.order,
            "order_hash": row.order_hash, "target_order_id": row.target_order_id, "preview": row.preview,
            "risk": row.risk, "reference_price": _s(row.reference_price), "rationale": row.rationale,
            "source": row.source, "broker_order_id": row.broker_order_id, "error": row.error,
            "created_at": _t(row.created_at), "expires_at": _t(row.expires_at), "updated_at": _t(row.updated_at),
            "mode": mode}


def order_item(row: Any, intent: Any | None) -> dict[str, Any]:
    """One row of the orders blotter for a broker order (ours by tag, or manual); `row` has the `orders`
    columns, `intent` the `order_intents` ones (ORM rows or light select rows)."""
    payload: Mapping[str, Any] = row.payload or {}
    return {"id": row.id, "intent_id": row.intent_id, "symbol": row.symbol, "side": row.side,
            "quantity": str(row.quantity), "type": row.type, "status": row.status,
            "intent_status": intent.status if intent else None, "manual": row.manual,
            "working": row.status in WORKING_STATUSES, "price": payload.get("price"), "stop": payload.get("stop"),
            "duration": payload.get("duration"), "option_symbol": payload.get("option_symbol"),
            "filled_quantity": payload.get("exec_quantity"), "avg_fill_price": payload.get("avg_fill_price"),
            "reason": payload.get("reason"), "tag": row.tag,
            "created_at": payload.get("created_at") or _t(row.created_at), "updated_at": _t(row.updated_at)}


def intent_item(row: Any) -> dict[str, Any]:
    """One blotter row for an intent that has no broker order (awaiting confirmation, unknown, refused...)."""
    order: Mapping[str, Any] = row.order or {}
    shown = order.get("result", order) if row.action == "replace" else order
    return {"id": row.target_order_id, "intent_id": row.id, "action": row.action,
            "symbol": shown.get("symbol"), "side": shown.get("side"), "quantity": shown.get("quantity"),
            "type": shown.get("type"), "status": row.status.lower(), "intent_status": row.status, "manual": False,
            "working": False, "price": shown.get("price"), "stop": shown.get("stop"),
            "duration": shown.get("duration"), "option_symbol": shown.get("option_symbol"), "filled_quantity": None,
            "avg_fill_price": None, "reason": row.error, "tag": None, "created_at": _t(row.created_at),
            "updated_at": _t(row.updated_at), "expires_at": _t(row.expires_at)}


def blotter(orders: Iterable[Any], intents: Iterable[Any]) -> list[dict[str, Any]]:
    """Broker orders first (newest first), then intents not (yet) at the broker."""
    by_id = {intent.id: intent for intent in intents}
    rows = [order_item(row, by_id.get(row.intent_id or "")) for row in orders]
    placed = {row["intent_id"] for row in rows if row["intent_id"]}
    rows += [intent_item(intent) for intent in by_id.values()
             if intent.id not in placed and (intent.action != "place" or not intent.broker_order_id)]
    return rows


def r_multiple(plan: dict[str, Any] | None, last: Decimal | None) -> tuple[Decimal, Decimal, Decimal] | None:
    """(entry, stop, R) of a linked plan at the last price: (last - entry) / (entry - stop), so a long above its
    entry and a short below it are both positive. None without a usable plan or price."""
    if plan is None or last is None:
        return None
    try:
        entry, stop = Decimal(str(plan["entry"])), Decimal(str(plan["stop"]))
    except (KeyError, ArithmeticError, ValueError, TypeError):
        return None
    if not entry.is_finite() or not stop.is_finite() or entry == stop:
        return None
    return entry, stop, ((last - entry) / (entry - stop)).quantize(Decimal("0.01"))


def position_item(position: Position, last: Decimal | None, plan: dict[str, Any] | None = None) -> dict[str, Any]:
    """A position with its live valuation; without a last price, P&L is unknown (None), never guessed. With a
    linked plan (the symbol's newest journal plan) it carries the plan's entry/stop and the R multiple."""
    multiplier = contract_multiplier(position.symbol)
    value = pnl = pct = None
    if last is not None:
        value = cents(last * position.quantity * multiplier)
        pnl = cents(value - position.cost_basis)
        pct = cents(pnl / abs(position.cost_basis) * 100) if position.cost_basis else None
    return {"symbol": position.symbol, "quantity": str(position.quantity), "cost_basis": str(position.cost_basis),
            "average_price": str(cents(position.average_price / multiplier)), "last": _s(last),
            "market_value": _s(value), "unrealized_pnl": _s(pnl), "unrealized_pct": _s(pct),
            "kind": "option" if multiplier > 1 else "equity", "side": "long" if position.is_long else "short",
            "opened_at": _t(position.opened_at), **_plan_fields(r_multiple(plan, last))}


def position_items(positions: Sequence[Position], prices: dict[str, Decimal],
                   plans: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Open positions (zero quantities left out) by symbol, each valued and linked to its plan."""
    return [position_item(p, prices.get(p.symbol), plans.get(p.symbol))
            for p in sorted(positions, key=lambda p: p.symbol) if p.quantity]


def _plan_fields(linked: tuple[Decimal, Decimal, Decimal] | None) -> dict[str, Any]:
    if linked is None:
        return {"plan": None, "r_multiple": None}
    entry, stop, r = linked
    return {"plan": {"entry": str(entry), "stop": str(stop)}, "r_multiple": str(r)}
