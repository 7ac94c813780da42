"""Engine and session factory, plus the unit of work that services use to own their transaction."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.db.sqlite_driver import one_hop_dbapi
from core.errors import ExternalTransient

WRITE_WAIT_SEC = 10.0
SQLITE_FULL = "PRAGMA synchronous=FULL"
SQLITE_NORMAL = "PRAGMA synchronous=NORMAL"
# Only 'off' loses commits on a server crash; 'local', 'remote_write', 'remote_apply' are left as configured.
PG_SYNC_COMMIT_ON = text("SELECT set_config('synchronous_commit', 'on', true) "
                         "WHERE current_setting('synchronous_commit') = 'off'")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(SQLITE_NORMAL)
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


async def _run_alone(conn: AsyncConnection, statement: str) -> None:
    """A statement outside any transaction (SQLite refuses some PRAGMAs inside one; pysqlite opens none for it)."""
    await conn.exec_driver_sql(statement)
    await conn.commit()


def _json_loads(text: str | bytes) -> Any:
    """JSON columns decoded by orjson (several times faster than json.loads on every row read), falling back to
    json.loads for what only it accepts (NaN, integers beyond 64 bits), so every stored value still reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _owner_only(path: Path) -> None:
    """Create the database file with mode 0600 (SQLite gives its -wal and -shm files the database file's mode),
    and take group/other access off files that exist: they hold the journal, orders and account figures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite the parent folder is created, the files are private to the owner, WAL + foreign
    keys are switched on, and aiosqlite runs each statement in one worker-thread hop (core.db.sqlite_driver)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _owner_only(Path(parsed.database))
        extra: dict[str, Any] = {"module": one_hop_dbapi()} if parsed.get_driver_name() == "aiosqlite" else {}
        engine = create_async_engine(url, json_deserializer=_json_loads, **extra)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, json_deserializer=_json_loads, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Owns the engine; `uow()` opens one transaction that commits on success and rolls back on any error.

    `transaction()` and `connect()` are the same without the ORM session, for services whose repository runs
    Core statements only: one pooled connection checkout and no session, identity map or unit-of-work objects.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing writers here instead of in SQLite's busy handler (which
        # sleeps in steps of up to 100 ms) keeps write latency flat under concurrency.
        self._sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if self._sqlite else None

    @asynccontextmanager
    async def uow(self, *, durable: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction. `durable`: its commit survives an OS crash or power loss, not only a process crash
        (order-intent transitions, where a lost write could let a confirmed order be confirmed again).

        SQLite runs with synchronous=NORMAL: in WAL mode a commit is safe from a process crash but reaches the disk
        only at the next checkpoint. A durable transaction runs with synchronous=FULL (the WAL is fsynced at its
        commit) on its connection, set back to NORMAL afterwards. PostgreSQL flushes the WAL at every commit by
        default; a durable transaction turns `synchronous_commit` back on if the server or role switched it off.
        """
        if not durable:
            async with _locked_as_busy(), self._writer(), self._sessions() as session, session.begin():
                yield session
            return
        async with _locked_as_busy(), self._writer(), self.engine.connect() as conn:
            if self._sqlite:
                await _run_alone(conn, SQLITE_FULL)
                try:
                    async with self._sessions(bind=conn) as session, session.begin():
                        yield session
                finally:
                    await _run_alone(conn, SQLITE_NORMAL)
                return
            async with self._sessions(bind=conn) as session, session.begin():
                await session.execute(PG_SYNC_COMMIT_ON)
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """`uow()` for Core statements: commits on success, rolls back on any error."""
        async with _locked_as_busy(), self._writer(), self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        if self._write_lock.locked():  # only a wait needs the timeout (and its timer)
            try:
                async with asyncio.timeout(WRITE_WAIT_SEC):
                    await self._write_lock.acquire()
            except TimeoutError as exc:
                raise ExternalTransient(f"the database stayed busy for {WRITE_WAIT_SEC:g} s; try again") from exc
        else:
            await self._write_lock.acquire()
        try:
            yield
        finally:
            self._write_lock.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def connect(self, *, inline_reads: bool = False) -> AsyncIterator[AsyncConnection]:
        """`read()` for Core statements. Nothing is committed: use it for reads only. `inline_reads`: on SQLite,
        this connection's SELECTs run on the event loop instead of the worker thread; only for small bounded reads
        (see core.db.sqlite_driver)."""
        if not self._sqlite:
            async with self.engine.connect() as conn:
                yield conn
            return
        # SQLite: after reads nothing is left to commit or roll back (core.db.sqlite_driver skips both), so the
        # connection goes back to the pool without a round trip, and the cancellation shield of
        # `async with engine.connect()` (a task per use, about 40 us) has nothing to protect.
        conn = await self.engine.connect().start()
        raw = (await conn.get_raw_connection()).dbapi_connection if inline_reads else None
        try:
            if raw is not None:
                raw.inline_reads = True
            yield conn
        finally:
            if raw is not None:
                raw.inline_reads = False
            await conn.close()

    async def close(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def _locked_as_busy() -> AsyncIterator[None]:
    """SQLite's "database is locked" (another process held the file past the busy timeout) as the retryable
    ExternalTransient it is: the transaction was rolled back, so nothing changed and nothing was sent."""
    try:
        yield
    except OperationalError as exc:
        if "database is locked" not in str(exc.orig):
            raise
        raise ExternalTransient("the database is locked by another writer; nothing was changed, try again") from exc
