"""Repositories: every SQL statement of the product lives here. They never commit; the unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import AppSetting, JournalEntry


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> dict[str, Any]:
        rows = await self.session.scalars(select(AppSetting))
        return {row.key: row.value for row in rows}

    async def put(self, key: str, value: Any, actor: str | None) -> None:
        row = await self.session.get(AppSetting, key)
        if row is None:
            self.session.add(AppSetting(key=key, value=value, updated_by=actor))
        else:
            row.value = value
            row.updated_by = actor
            row.updated_at = utcnow()


class JournalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: JournalEntry) -> JournalEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def get(self, entry_id: str) -> JournalEntry | None:
        return await self.session.get(JournalEntry, entry_id)

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
