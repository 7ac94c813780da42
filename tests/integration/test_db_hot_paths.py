"""The database hot paths of the API: one worker-thread hop per SQLite statement (small journal reads none),
transactions still exact, and settings served from memory with a write through the service visible at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core.db import session as session_module
from core.db import sqlite_driver
from core.db.base import utcnow
from core.db.migrate import upgrade_to_head
from core.db.models import AppSetting, JournalEntry
from core.db.repositories import SettingsRepository
from core.db.session import Database
from core.domain.journal import JournalDraft, JournalQuery
from core.errors import ExternalTransient
from core.services.journal import JournalService
from core.services.settings import SettingsService, Tunables


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


async def test_small_journal_reads_take_no_hop_and_other_reads_one(sqlite_db: Database, hops: list[str]) -> None:
    journal = JournalService(sqlite_db)
    entry = await journal.add(JournalDraft(body="first", symbol="SPY"))
    hops.clear()
    assert (await journal.get(entry.id)).body == "first"
    page = await journal.list(JournalQuery(limit=20))
    assert [item.body for item in page.items] == ["first"]
    assert hops == []  # run inline: no cursor, fetch, close, BEGIN or reset-ROLLBACK hops either
    async with sqlite_db.read() as session:  # any other read: one hop, the SELECT
        await session.scalar(select(JournalEntry.body))
    assert len(hops) == 1, hops


async def test_only_small_reads_run_on_the_loop_thread(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes and large reads (an export pages 500 rows at a time) run on the worker thread, so the loop never
    waits for a write lock or a scan."""
    threads: list[tuple[str, bool]] = []
    original = sqlite_driver._run
    loop_thread = threading.current_thread().name

    def recorded(conn: Any, operation: str, parameters: Any, many: bool) -> Any:
        threads.append((operation.split(maxsplit=1)[0], threading.current_thread().name == loop_thread))
        return original(conn, operation, parameters, many)

    monkeypatch.setattr(sqlite_driver, "_run", recorded)
    journal = JournalService(sqlite_db)
    entry = await journal.add(JournalDraft(body="x"))
    await journal.get(entry.id)
    await journal.export(JournalQuery(), "csv")
    await journal.list(JournalQuery(limit=200))
    assert threads == [("INSERT", False), ("SELECT", True), ("SELECT", False), ("SELECT", False)]


async def test_a_sqlite_read_does_not_wait_for_an_open_write(sqlite_db: Database) -> None:
    """WAL: a read sees the last commit at once while another connection holds the write lock."""
    journal = JournalService(sqlite_db)
    kept = await journal.add(JournalDraft(body="committed"))
    async with sqlite_db.transaction() as conn:
        await conn.execute(text("UPDATE journal_entries SET body = 'pending' WHERE id = :id"), {"id": kept.id})
        read = await asyncio.wait_for(journal.get(kept.id), timeout=1)
        assert read.body == "committed"
    assert (await journal.get(kept.id)).body == "pending"


async def test_a_sqlite_write_takes_the_statement_and_the_commit(sqlite_db: Database, hops: list[str]) -> None:
    await JournalService(sqlite_db).add(JournalDraft(body="note"))
    assert len(hops) == 2, hops


async def test_a_failed_core_write_rolls_back(db: Database) -> None:
    journal = JournalService(db)
    first = await journal.add(JournalDraft(body="first"))
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(text("UPDATE journal_entries SET body = 'changed' WHERE id = :id"), {"id": first.id})
            await conn.execute(text("INSERT INTO journal_entries (id, kind, body, tags, created_at, updated_at) "
                                    "VALUES (:id, 'note', 'dup', '[]', :now, :now)"),
                               {"id": first.id, "now": utcnow()})
    assert await journal.get(first.id) == first  # the update before the failure was rolled back
    assert await journal.add(JournalDraft(body="after")) != first  # and the writer lock was released


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
    assert await service.get_dumped() == (await service.get()).model_dump(mode="json")
    await service.update({"default_rr": "3"}, actor="api")
    assert (await service.get_dumped())["default_rr"] == "3"  # the dumped copy follows every update


async def test_settings_written_by_another_process_show_after_the_ttl(db: Database) -> None:
    service = SettingsService(db, cache_ttl_sec=0)
    assert (await service.get()).default_rr == 2
    async with db.uow() as session:
        session.add(AppSetting(key="default_rr", value="4", updated_by="engine"))
    assert (await service.get()).default_rr == 4


async def test_a_write_that_waits_too_long_for_the_sqlite_writer_is_refused(sqlite_db: Database,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "WRITE_WAIT_SEC", 0.05)
    journal = JournalService(sqlite_db)
    async with sqlite_db.transaction():
        with pytest.raises(ExternalTransient, match="busy"):
            await journal.add(JournalDraft(body="queued too long"))
    assert (await journal.add(JournalDraft(body="after"))).body == "after"  # the lock is free again
    assert [item.body for item in (await journal.list(JournalQuery())).items] == ["after"]
