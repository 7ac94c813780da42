"""Alembic, driven from code: `tradeassist db upgrade`, `run` at start, and the readiness check.

Every process upgrades at start (docker-compose's `migrate` service, then each role's Runtime), so several can
reach a fresh database at once: the upgrade runs under a lock that one process holds while the others wait, then
find the schema at head and do nothing. PostgreSQL takes a transaction-scoped advisory lock on the migrating
connection; SQLite, an exclusive `flock` on a file next to the database.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from core.db.session import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory-lock key of the upgrade (any fixed 64-bit number; "tradeassist" is spelled in it).
ADVISORY_LOCK_KEY = 0x7472616465617373


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def upgrade_to_head(db: Database) -> None:
    """Apply every pending migration inside one connection (env.py reuses it instead of making its own), one
    process at a time."""
    config = alembic_config(db.url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with _sqlite_file_lock(db.url), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # released when this transaction commits or rolls back
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        await conn.run_sync(_upgrade)


@asynccontextmanager
async def _sqlite_file_lock(url: str) -> AsyncIterator[None]:
    """Hold an exclusive lock on `<database>.migrate-lock` (SQLite files only; nothing for other backends or an
    in-memory database). The wait runs in a thread, so this event loop keeps serving meanwhile."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        yield
        return
    path = Path(parsed.database).with_name(Path(parsed.database).name + ".migrate-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def current_revision(db: Database) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)
