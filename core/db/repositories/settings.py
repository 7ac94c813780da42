"""app_settings: the stored overrides of the tunables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import AppSetting


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
