"""aiosqlite, adapted for SQLAlchemy with one worker-thread hop per statement instead of four or five.

aiosqlite runs each call of the sqlite3 API on its connection's thread: SQLAlchemy's stock adapter makes a cursor,
executes, fetches and closes the cursor (four hops), and the pool's reset-on-return adds a ROLLBACK hop even after
a plain read. Every hop costs thread wake-ups and, under load, a wait for the GIL. Here a statement runs as one
function (execute + fetchall + close), and COMMIT/ROLLBACK are skipped when SQLite reports no open transaction
(pysqlite only opens one before a write, so reads never need either).

Every statement keeps its hop, except the small bounded reads a caller asks to run inline (`inline_reads`, set by
`Database.connect(inline_reads=True)` for the API's paged and by-id journal reads, at most `INLINE_READ_ROWS`
rows): their SELECT runs on the event loop, because the hop costs more than the read (thread hand-offs and GIL
waits against tens of microseconds of SQLite), and in WAL mode a reader never waits for a lock. Large reads (a
journal export) and every write keep the hop, so the loop never waits for a write lock (busy_timeout) or a scan.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

_Outcome = tuple[Any, int, int | None, list[Any], bool]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the worker thread: the whole statement, its rows, and whether a transaction is now open."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows, conn.in_transaction
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose driver cursor lives only inside `_run`."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:  # no driver cursor: no hop
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid or 0

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Rows are fully buffered, so the fetch size is irrelevant."""

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    async def _run(self, operation: Any, parameters: Any, many: bool) -> Any:
        adapt: OneHopConnection = self._adapt_connection  # type: ignore[assignment]
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with adapt._execute_mutex:
            try:
                if adapt.inline_reads and not many and operation[:6].upper() == "SELECT":
                    outcome = _run(connection._conn, operation, parameters, False)
                else:
                    outcome = await connection._execute(  # type: ignore[no-untyped-call]
                        _run, connection._conn, operation, parameters, many)
                self._description, self._rowcount, self._lastrowid, rows, adapt.in_transaction = outcome
            except BaseException:
                adapt.in_transaction = True  # unknown after a failure: let the reset ROLLBACK run
                raise
        self._rows = deque(rows)
        return self

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return await self._run(operation, seq_of_parameters, True)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("in_transaction", "inline_reads")
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.in_transaction = False
        self.inline_reads = False

    def rollback(self) -> None:
        if self.in_transaction:
            super().rollback()
            self.in_transaction = False

    def commit(self) -> None:
        if self.in_transaction:
            super().commit()
            self.in_transaction = False


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as `module=` to `create_async_engine` for a `sqlite+aiosqlite` URL."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # inline reads call sqlite3 from the loop's thread; `_execute_mutex` keeps them from overlapping the worker
        stock = super().connect(*arg, **{**kw, "check_same_thread": False})
        return OneHopConnection(self, stock._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
