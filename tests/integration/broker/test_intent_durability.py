"""Leaving PENDING is committed durably (it survives an OS crash, not only a process crash), so a PENDING ->
SUBMITTING (or CANCELLED) write cannot be lost and the intent confirmed a second time. Observed at each commit: on
SQLite the `synchronous` level in force (FULL = 2; the rest of the database keeps NORMAL = 1), on PostgreSQL
`synchronous_commit` (a server or role set to 'off' is overridden for these transactions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from core.runtime import Runtime
from core.settings import Settings
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import buy_aapl, placed, unthrottled

SQLITE_FULL, SQLITE_NORMAL = 2, 1


class CommitLog:
    """For every commit on the engine: whether it wrote order_intents, and the sync level it committed under."""

    def __init__(self, rt: Runtime) -> None:
        self.sqlite = rt.db.engine.dialect.name == "sqlite"
        self.commits: list[tuple[bool, Any]] = []
        self._wrote: set[int] = set()
        engine = rt.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        if not self.sqlite:  # a server that trades durability for speed
            event.listen(engine, "connect", self._commit_off)

    @staticmethod
    def _commit_off(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.run_async(lambda conn: conn.execute("SET synchronous_commit TO off"))

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT INTO ORDER_INTENTS", "UPDATE ORDER_INTENTS")):
            self._wrote.add(id(conn.connection.dbapi_connection))

    def _commit(self, conn: Any) -> None:
        query = "PRAGMA synchronous" if self.sqlite else "SHOW synchronous_commit"
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        cursor.execute(query)
        level = cursor.fetchone()[0]
        cursor.close()
        self.commits.append((id(raw) in self._wrote, level))
        self._wrote.discard(id(raw))

    def levels(self, *, intents: bool) -> list[Any]:
        return [level for wrote, level in self.commits if wrote is intents]


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    async with Runtime(settings, roles={"api"}) as runtime:
        unthrottled(runtime).orders.resolve_window = 3.0
        yield runtime


async def test_leaving_pending_commits_durably_and_nothing_else_pays_for_it(rt: Runtime,
                                                                            tradier: TradierDouble) -> None:
    log = CommitLog(rt)
    await rt.db.engine.dispose()  # new connections, so the PostgreSQL ones start with synchronous_commit off
    fast, durable = (SQLITE_NORMAL, SQLITE_FULL) if log.sqlite else ("off", "on")
    proposal = await rt.orders.propose("api", buy_aapl(), rationale="durability", source="test")
    assert proposal.intent is not None and proposal.token is not None
    result = await rt.orders.confirm(proposal.intent.id, proposal.token, "api")
    assert result.outcome == "submitted" and len(placed(tradier)) == 1
    assert log.levels(intents=True) == [fast, durable, fast]  # PENDING, SUBMITTING (before sending), SUBMITTED
    withdrawn = await rt.orders.propose("api", buy_aapl(), rationale="durability", source="test")
    assert withdrawn.intent is not None
    await rt.orders.cancel_intent(withdrawn.intent.id, "api")
    assert log.levels(intents=True)[3:] == [fast, durable]  # PENDING, CANCELLED
    async with rt.db.transaction() as conn:  # the connection went back to the pool at the fast level
        await conn.exec_driver_sql("CREATE TEMP TABLE probe (x INTEGER)")
    assert log.levels(intents=False)[-1] == fast
