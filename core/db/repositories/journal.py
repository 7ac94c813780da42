"""journal_entries: newest-first pages with keyset pagination.

The API's hot paths run Core statements built once (SQLAlchemy's compiled cache then serves them without a
rebuild or re-key) and hand back plain rows, never ORM entities: no identity map, no instance state, no refresh.
A row's columns are in `COLUMNS` order, the order of the API's JSON object.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Row, Select, Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.db.models import JournalEntry

Executor = AsyncSession | AsyncConnection  # a unit of work's session, or one connection for plain reads

_TABLE = cast(Table, JournalEntry.__table__)
COLUMNS = ("id", "kind", "body", "symbol", "tags", "plan", "rationale", "order_id", "actor", "created_at",
           "updated_at")
_C = _TABLE.c
_SELECT = select(*(_C[name] for name in COLUMNS))
_BY_ID = _SELECT.where(_C.id == bindparam("entry_id"))
_INSERT = insert(_TABLE)
_DELETE = delete(_TABLE).where(_C.id == bindparam("entry_id"))
_PAGES: dict[tuple[bool, bool, bool, bool], Select[Any]] = {}


def _page_statement(symbol: bool, kind: bool, since: bool, after: bool) -> Select[Any]:
    """One prebuilt statement per combination of filters, with every value a bind parameter."""
    key = (symbol, kind, since, after)
    statement = _PAGES.get(key)
    if statement is None:
        statement = _SELECT
        if symbol:
            statement = statement.where(_C.symbol == bindparam("symbol"))
        if kind:
            statement = statement.where(_C.kind == bindparam("kind"))
        if since:
            statement = statement.where(_C.created_at >= bindparam("since", type_=_C.created_at.type))
        if after:
            statement = statement.where(tuple_(_C.created_at, _C.id) < tuple_(
                bindparam("after_at", type_=_C.created_at.type), bindparam("after_id", type_=_C.id.type)))
        statement = statement.order_by(_C.created_at.desc(), _C.id.desc()).limit(bindparam("limit", type_=Integer))
        _PAGES[key] = statement
    return statement


class JournalRepository:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    async def add(self, entry: JournalEntry) -> JournalEntry:
        """An ORM entity, for services that write an audit entry inside their own unit of work."""
        assert isinstance(self.executor, AsyncSession), "ORM entities need a unit of work's session"
        self.executor.add(entry)
        await self.executor.flush()
        return entry

    async def insert(self, values: dict[str, Any]) -> None:
        """Every column given (ids and timestamps are made by the caller), so nothing needs reading back."""
        await self.executor.execute(_INSERT, values)

    async def get(self, entry_id: str) -> Row[Any] | None:
        return (await self.executor.execute(_BY_ID, {"entry_id": entry_id})).first()

    async def update(self, entry_id: str, values: dict[str, Any]) -> None:
        await self.executor.execute(update(_TABLE).where(_C.id == entry_id).values(values))

    async def delete(self, entry_id: str) -> bool:
        result = await self.executor.execute(_DELETE, {"entry_id": entry_id})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def page(self, *, symbol: str | None, kind: str | None, since: datetime | None,
                   after: tuple[datetime, str] | None, limit: int) -> Sequence[Row[Any]]:
        """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
        params: dict[str, Any] = {"limit": limit}
        if symbol:
            params["symbol"] = symbol
        if kind:
            params["kind"] = kind
        if since:
            params["since"] = since
        if after:
            params["after_at"], params["after_id"] = after
        statement = _page_statement(bool(symbol), bool(kind), bool(since), bool(after))
        rows: Sequence[Row[Any]] = (await self.executor.execute(statement, params)).all()
        return rows

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
        for symbol, plan in (await self.executor.execute(query)).all():
            if symbol is not None and isinstance(plan, dict):
                plans.setdefault(symbol, plan)
        return plans
