"""picks: the latest version of each pick (upserted by the engine's writer) and the rows the scorecard reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import PickRow
from core.domain.picks import Scored

_TABLE = cast(Table, PickRow.__table__)
_C = _TABLE.c
ACTIVE_STATUSES = ("forming", "triggered")


class PicksRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert new picks and overwrite known ones, but never with an older version than the stored one."""
        if not rows:
            return
        ids = [row["id"] for row in rows]
        rows_known = (await self.session.execute(select(_C.id, _C.version).where(_C.id.in_(ids)))).all()
        known: dict[str, int] = {pick_id: version for pick_id, version in rows_known}
        fresh = [row for row in rows if row["id"] not in known]
        if fresh:
            await self.session.execute(insert(_TABLE), fresh)
        for row in rows:
            if row["id"] in known and row["version"] >= known[row["id"]]:
                values = {k: v for k, v in row.items() if k != "id"}
                await self.session.execute(update(_TABLE).where(_C.id == row["id"]).values(**values))

    async def get(self, pick_id: str) -> dict[str, Any] | None:
        payload = await self.session.scalar(select(_C.payload).where(_C.id == pick_id))
        return cast(dict[str, Any] | None, payload)

    async def page(self, *, limit: int, setup: str | None = None, symbol: str | None = None,
                   active_only: bool = True) -> list[dict[str, Any]]:
        """Payloads, best confidence first (active picks only, unless asked otherwise)."""
        statement = select(_C.payload)
        if active_only:
            statement = statement.where(_C.status.in_(ACTIVE_STATUSES))
        if setup is not None:
            statement = statement.where(_C.setup == setup)
        if symbol is not None:
            statement = statement.where(_C.symbol == symbol)
        statement = statement.order_by(_C.score.desc(), _C.created_at.desc()).limit(
            bindparam("limit", type_=Integer))
        return [cast(dict[str, Any], p) for p in (await self.session.scalars(statement, {"limit": limit})).all()]

    async def scored(self) -> list[Scored]:
        """Every stored pick as the scorecard reads it."""
        result = await self.session.execute(select(_C.setup, _C.triggered_at, _C.reached_1r, _C.result_r, _C.mfe_r,
                                                   _C.mae_r))
        return [Scored(setup, triggered is not None, reached, result_r, mfe, mae)
                for setup, triggered, reached, result_r, mfe, mae in result.all()]
