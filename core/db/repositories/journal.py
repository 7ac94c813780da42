"""journal_entries: newest-first pages with keyset pagination."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import JournalEntry

# Built once: session.get() builds (and cache-keys) a fresh SELECT on every call, a hot-path cost of GET /journal/{id}.
_BY_ID = select(JournalEntry).where(JournalEntry.id == bindparam("entry_id"))


class JournalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: JournalEntry) -> JournalEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def get(self, entry_id: str) -> JournalEntry | None:
        return (await self.session.scalars(_BY_ID, {"entry_id": entry_id})).first()

    async def delete(self, entry_id: str) -> bool:
        result = await self.session.execute(delete(JournalEntry).where(JournalEntry.id == entry_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def page(self, *, symbol: str | None, kind: str | None, since: datetime | None,
                   after: tuple[datetime, str] | None, limit: int) -> Sequence[JournalEntry]:
        """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
        query = select(JournalEntry)
        if symbol:
            query = query.where(JournalEntry.symbol == symbol)
        if kind:
            query = query.where(JournalEntry.kind == kind)
        if since:
            query = query.where(JournalEntry.created_at >= since)
        if after:
            query = query.where(tuple_(JournalEntry.created_at, JournalEntry.id) < tuple_(*after))
        query = query.order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def latest_plans(self, symbols: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The newest journal `plan` (kind plan or trade, with a plan body) of each symbol: what links a position
        to the plan it was taken on."""
        if not symbols:
            return {}
        query = (select(JournalEntry.symbol, JournalEntry.plan)
                 .where(JournalEntry.symbol.in_(list(symbols)), JournalEntry.kind.in_(("plan", "trade")),
                        JournalEntry.plan.is_not(None))
                 .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc()))
        plans: dict[str, dict[str, Any]] = {}
        for symbol, plan in (await self.session.execute(query)).all():
            if symbol is not None and isinstance(plan, dict):
                plans.setdefault(symbol, plan)
        return plans
