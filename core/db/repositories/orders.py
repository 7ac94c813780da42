"""order_intents and orders: the intent state machine (compare-and-set transitions) and the broker's echoes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import OrderIntentRow, OrderRow


class OrderIntentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: OrderIntentRow) -> OrderIntentRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, intent_id: str) -> OrderIntentRow | None:
        return await self.session.get(OrderIntentRow, intent_id)

    async def fresh(self, intent_id: str) -> OrderIntentRow | None:
        """The row as stored now (bypasses the session's identity map)."""
        result = await self.session.execute(
            select(OrderIntentRow).where(OrderIntentRow.id == intent_id).execution_options(populate_existing=True))
        return result.scalar_one_or_none()

    async def transition(self, intent_id: str, from_status: str | Iterable[str], to_status: str, *,
                         not_expired_at: datetime | None = None, **values: Any) -> bool:
        """One `UPDATE ... WHERE id = :id AND status IN (:from)`: True when this caller made the transition.

        Two confirms racing each other both run it; the database lets exactly one of them change the row.
        """
        allowed = [from_status] if isinstance(from_status, str) else list(from_status)
        query = (update(OrderIntentRow)
                 .where(OrderIntentRow.id == intent_id, OrderIntentRow.status.in_(allowed))
                 .values(status=to_status, updated_at=utcnow(), **values)
                 .execution_options(synchronize_session=False))
        if not_expired_at is not None:
            query = query.where(OrderIntentRow.expires_at > not_expired_at)
        result = await self.session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def expire_pending(self, now: datetime) -> list[str]:
        """PENDING intents past their expiry become EXPIRED; returns their ids."""
        ids = list((await self.session.scalars(select(OrderIntentRow.id).where(
            OrderIntentRow.status == "PENDING", OrderIntentRow.expires_at <= now))).all())
        expired = [intent_id for intent_id in ids if await self.transition(intent_id, "PENDING", "EXPIRED")]
        return expired

    async def with_status(self, statuses: Iterable[str], *, limit: int = 500) -> Sequence[OrderIntentRow]:
        query = (select(OrderIntentRow).where(OrderIntentRow.status.in_(list(statuses)))
                 .order_by(OrderIntentRow.created_at.desc()).limit(limit))
        return (await self.session.scalars(query)).all()

    async def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = [intent_id for intent_id in ids if intent_id]
        if not wanted:
            return set()
        found = await self.session.scalars(select(OrderIntentRow.id).where(OrderIntentRow.id.in_(wanted)))
        return set(found.all())

    async def blotter(self, since: datetime, active: Iterable[str], *, limit: int = 500) -> Sequence[Any]:
        """Intents created since `since` or still in an `active` state, as light rows (the blotter's columns)."""
        query = (select(OrderIntentRow.id, OrderIntentRow.action, OrderIntentRow.status, OrderIntentRow.order,
                        OrderIntentRow.target_order_id, OrderIntentRow.broker_order_id, OrderIntentRow.error,
                        OrderIntentRow.created_at, OrderIntentRow.updated_at, OrderIntentRow.expires_at)
                 .where(or_(OrderIntentRow.created_at >= since, OrderIntentRow.status.in_(list(active))))
                 .order_by(OrderIntentRow.created_at.desc()).limit(limit))
        return (await self.session.execute(query)).all()


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str) -> OrderRow | None:
        return await self.session.get(OrderRow, order_id)

    async def upsert(self, order_id: str, *, intent_id: str | None, symbol: str, side: str, quantity: Any,
                     type: str, status: str, tag: str | None, manual: bool, payload: Mapping[str, Any],
                     keep_existing: bool = False) -> OrderRow:
        """Insert, or update the stored echo (`keep_existing`: leave a row the tracker already stored alone)."""
        row = await self.session.get(OrderRow, order_id)
        if row is not None and keep_existing:
            return row
        if row is None:
            row = OrderRow(id=order_id, intent_id=intent_id, symbol=symbol, side=side, quantity=quantity, type=type,
                           status=status, tag=tag, manual=manual, payload=dict(payload))
            self.session.add(row)
        else:
            row.intent_id = row.intent_id or intent_id
            row.symbol, row.side, row.quantity, row.type = symbol, side, quantity, type
            row.status, row.tag, row.manual, row.payload = status, tag, manual, dict(payload)
            row.updated_at = utcnow()
        await self.session.flush()
        return row

    async def upsert_many(self, echoes: Sequence[Mapping[str, Any]]) -> None:
        """Insert or update many echoes (each with the `upsert` fields plus `id`) in one SELECT and one flush."""
        ids = [echo["id"] for echo in echoes]
        found = {row.id: row for row in (await self.session.scalars(select(OrderRow).where(OrderRow.id.in_(ids))))}
        now = utcnow()
        for echo in echoes:
            row = found.get(echo["id"])
            if row is None:
                self.session.add(OrderRow(**echo, created_at=now, updated_at=now))
                continue
            for name, value in echo.items():
                setattr(row, name, (row.intent_id or value) if name == "intent_id" else value)
            row.updated_at = now
        await self.session.flush()

    async def recent(self, since: datetime, *, limit: int = 500) -> Sequence[Any]:
        """Orders updated since `since` (today's blotter), newest first, as light rows (no ORM identity)."""
        query = (select(OrderRow.id, OrderRow.intent_id, OrderRow.symbol, OrderRow.side, OrderRow.quantity,
                        OrderRow.type, OrderRow.status, OrderRow.tag, OrderRow.manual, OrderRow.payload,
                        OrderRow.created_at, OrderRow.updated_at)
                 .where(OrderRow.updated_at >= since).order_by(OrderRow.created_at.desc()).limit(limit))
        return (await self.session.execute(query)).all()
