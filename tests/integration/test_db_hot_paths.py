"""The database hot paths of the API: one worker-thread hop per SQLite statement, transactions still exact, and
settings served from memory with a write through the service visible at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core.db.base import utcnow
from core.db.migrate import upgrade_to_head
from core.db.models import AppSetting, JournalEntry
from core.db.repositories import SettingsRepository
from core.db.session import Database
from core.domain.journal import JournalDraft, JournalQuery
from core.services.journal import JournalService
from core.services.settings import SettingsService, Tunables


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade_to_head(database)
    yield database
    await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/hops.db")
    await upgrade_to_head(database)
    yield database
    await database.close()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call aiosqlite runs on a connection's worker thread."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield calls


async def test_a_sqlite_read_takes_one_hop(sqlite_db: Database, hops: list[str]) -> None:
    journal = JournalService(sqlite_db)
    entry = await journal.add(JournalDraft(body="first", symbol="SPY"))
    hops.clear()
    assert (await journal.get(entry["id"]))["body"] == "first"
    assert len(hops) == 1, hops  # the SELECT; no cursor, fetch, close, BEGIN or reset-ROLLBACK hops
    hops.clear()
    page = await journal.list(JournalQuery(limit=20))
    assert [item["body"] for item in page.items] == ["first"]
    assert len(hops) == 1, hops


async def test_a_sqlite_write_takes_the_statement_and_the_commit(sqlite_db: Database, hops: list[str]) -> None:
    await JournalService(sqlite_db).add(JournalDraft(body="note"))
    assert len(hops) == 2, hops


async def test_a_failed_write_rolls_back_and_leaves_no_open_transaction(sqlite_db: Database) -> None:
    now = utcnow()
    with pytest.raises(IntegrityError):
        async with sqlite_db.uow() as session:
            session.add(JournalEntry(id="dup", kind="note", body="one", tags=[], created_at=now, updated_at=now))
            await session.flush()
            session.add(JournalEntry(id="dup", kind="note", body="two", tags=[], created_at=now, updated_at=now))
            await session.flush()
    async with sqlite_db.read() as session:
        assert (await session.scalars(select(JournalEntry))).all() == []  # the first insert was rolled back
    # a second connection can write at once: nothing holds SQLite's write lock
    other = Database(sqlite_db.url)
    try:
        async with other.engine.connect() as conn:
            await conn.execute(text("PRAGMA busy_timeout=0"))
            await conn.execute(text("INSERT INTO app_settings (key, value, updated_at) "
                                    "VALUES ('default_rr', '3', '2026-01-01 00:00:00')"))
            await conn.commit()
    finally:
        await other.close()


async def test_settings_are_read_from_memory_and_updates_apply_at_once(db: Database) -> None:
    service = SettingsService(db, cache_ttl_sec=3600)
    assert (await service.get()).default_rr == 2
    async with db.uow() as session:  # a write that bypasses the service (another process would do this)
        await SettingsRepository(session).put("default_rr", "5", actor="elsewhere")
    assert (await service.get()).default_rr == 2  # served from memory within the TTL
    changed: list[set[str]] = []

    async def listener(_new: Tunables, keys: set[str]) -> None:
        changed.append(keys)

    service.on_change(listener)
    updated = await service.update({"watchlist": ["AAPL"]}, actor="api")
    assert updated.default_rr == 5  # the update merged over what is stored, not over the cached copy
    assert (await service.get()).watchlist == ["AAPL"]  # visible at once, no TTL wait
    assert changed == [{"watchlist"}]


async def test_settings_written_by_another_process_show_after_the_ttl(db: Database) -> None:
    service = SettingsService(db, cache_ttl_sec=0)
    assert (await service.get()).default_rr == 2
    async with db.uow() as session:
        session.add(AppSetting(key="default_rr", value="4", updated_by="engine"))
    assert (await service.get()).default_rr == 4
