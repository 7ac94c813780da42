"""Intents and today's blotter as typed views, built from the `order_intents`/`orders` rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.db.models import OrderIntentRow
from core.domain.numbers import decimal_or_none
from core.domain.order_views import BlotterItem, Intent, RiskDecision, iso
from core.domain.orders import WORKING_STATUSES, PreviewView

ACTIVE_INTENT = ("PENDING", "SUBMITTING", "UNKNOWN")


def intent_view(row: OrderIntentRow, mode: str) -> Intent:
    return Intent(id=row.id, action=row.action, actor=row.actor, status=row.status, order=row.order,
                  order_hash=row.order_hash, target_order_id=row.target_order_id,
                  preview=None if row.preview is None else PreviewView.from_json(row.preview),
                  risk=RiskDecision.from_json(row.risk or {}),
                  reference_price=row.reference_price, rationale=row.rationale, source=row.source,
                  broker_order_id=row.broker_order_id, error=row.error, created_at=iso(row.created_at),
                  expires_at=iso(row.expires_at), updated_at=iso(row.updated_at), mode=mode)


def order_item(row: Any, intent: Any | None) -> BlotterItem:
    """A broker order (ours by tag, or manual); `row` has the `orders` columns, `intent` the `order_intents`
    ones (ORM rows or light select rows)."""
    payload: Mapping[str, Any] = row.payload or {}
    return BlotterItem(
        id=row.id, intent_id=row.intent_id, action=None, symbol=row.symbol, side=row.side,
        quantity=decimal_or_none(row.quantity), type=row.type, status=row.status,
        intent_status=intent.status if intent else None, manual=row.manual,
        working=row.status in WORKING_STATUSES, price=decimal_or_none(payload.get("price")),
        stop=decimal_or_none(payload.get("stop")), duration=payload.get("duration"),
        option_symbol=payload.get("option_symbol"), filled_quantity=decimal_or_none(payload.get("exec_quantity")),
        avg_fill_price=decimal_or_none(payload.get("avg_fill_price")), reason=payload.get("reason"), tag=row.tag,
        created_at=payload.get("created_at") or iso(row.created_at), updated_at=iso(row.updated_at),
        expires_at=None)


def intent_item(row: Any) -> BlotterItem:
    """An intent that has no broker order (awaiting confirmation, unknown, refused...)."""
    order: Mapping[str, Any] = row.order or {}
    shown = order.get("result", order) if row.action == "replace" else order
    return BlotterItem(
        id=row.target_order_id, intent_id=row.id, action=row.action, symbol=shown.get("symbol"),
        side=shown.get("side"), quantity=decimal_or_none(shown.get("quantity")), type=shown.get("type"),
        status=row.status.lower(), intent_status=row.status, manual=False, working=False,
        price=decimal_or_none(shown.get("price")), stop=decimal_or_none(shown.get("stop")),
        duration=shown.get("duration"), option_symbol=shown.get("option_symbol"), filled_quantity=None,
        avg_fill_price=None, reason=row.error, tag=None, created_at=iso(row.created_at),
        updated_at=iso(row.updated_at), expires_at=iso(row.expires_at))


def blotter(orders: Iterable[Any], intents: Iterable[Any]) -> list[BlotterItem]:
    """Broker orders first (newest first), then intents not (yet) at the broker."""
    by_id = {intent.id: intent for intent in intents}
    rows = [order_item(row, by_id.get(row.intent_id or "")) for row in orders]
    placed = {row.intent_id for row in rows if row.intent_id}
    rows += [intent_item(intent) for intent in by_id.values()
             if intent.id not in placed and (intent.action != "place" or not intent.broker_order_id)]
    return rows
