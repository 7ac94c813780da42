"""The trading journal: notes, plans, trades, and the audit entries other services write."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Row

from core.db.base import new_id, utcnow
from core.db.repositories import JournalRepository
from core.db.repositories.journal import COLUMNS
from core.db.session import Database
from core.domain.journal import JournalDraft, JournalEntryView, JournalPage, JournalPatch, JournalQuery
from core.errors import Invalid, NotFound

ExportFormat = Literal["csv", "json"]
EXPORT_FIELDS = ("id", "created_at", "updated_at", "kind", "symbol", "body", "tags", "rationale", "order_id", "actor")
INLINE_READ_ROWS = 100  # a page this small is read on the event loop (core.db.sqlite_driver); exports page at 500


def encode_cursor(entry: JournalEntryView) -> str:
    """An entry's ISO `created_at` and id."""
    raw = f"{entry.created_at}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, entry_id = raw.split("|", 1)
        created = datetime.fromisoformat(stamp)
        if created.tzinfo is None or not entry_id.isalnum():
            raise ValueError(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("cursor is not valid: pass back the next_cursor of a previous page unchanged",
                      details=[{"field": "cursor", "message": "unrecognised cursor"}]) from exc
    return created, entry_id


def _csv_safe(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ as formulas; a leading quote keeps them text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class JournalService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, draft: JournalDraft, actor: str | None = None) -> JournalEntryView:
        """Inserts every column, made here, and answers with what was inserted (nothing to read back)."""
        now = utcnow()
        values = {"id": new_id(), **draft.model_dump(), "actor": actor, "created_at": now, "updated_at": now}
        async with self.db.transaction() as conn:
            await JournalRepository(conn).insert(values)
        return JournalEntryView.of([values[name] for name in COLUMNS])

    async def get(self, entry_id: str) -> JournalEntryView:
        async with self.db.connect(inline_reads=True) as conn:
            return JournalEntryView.of(await self._require(JournalRepository(conn), entry_id))

    async def update(self, entry_id: str, patch: JournalPatch) -> JournalEntryView:
        changes = patch.model_dump(exclude_unset=True)
        if not changes:
            raise Invalid("send at least one field to change", details=[{"field": "body", "message": "empty"}])
        async with self.db.transaction() as conn:
            repo = JournalRepository(conn)
            current = dict(zip(COLUMNS, await self._require(repo, entry_id), strict=True))
            changed = {name: value for name, value in changes.items() if current[name] != value}
            if changed:  # a no-op patch leaves the row, and its updated_at, alone
                changed["updated_at"] = utcnow()
                await repo.update(entry_id, changed)
        return JournalEntryView.of([{**current, **changed}[name] for name in COLUMNS])

    async def delete(self, entry_id: str) -> None:
        async with self.db.transaction() as conn:
            if not await JournalRepository(conn).delete(entry_id):
                raise NotFound(f"journal entry {entry_id} does not exist")

    async def list(self, query: JournalQuery) -> JournalPage:
        after = decode_cursor(query.cursor) if query.cursor else None
        async with self.db.connect(inline_reads=query.limit <= INLINE_READ_ROWS) as conn:
            rows = await JournalRepository(conn).page(
                symbol=query.symbol, kind=query.kind, since=query.since, after=after, limit=query.limit + 1)
        items = tuple(JournalEntryView.of(row) for row in rows[: query.limit])
        next_cursor = encode_cursor(items[-1]) if len(rows) > query.limit else None
        return JournalPage(items, next_cursor)

    async def export(self, query: JournalQuery, fmt: str) -> tuple[bytes, str]:
        """All entries matching the filters, newest first, as (body, media type)."""
        if fmt not in ("csv", "json"):
            raise Invalid(f"export format '{fmt}' is not supported; use csv or json",
                          details=[{"field": "format", "message": "expected csv or json"}])
        items: list[JournalEntryView] = []
        cursor_query = query.model_copy(update={"limit": 500, "cursor": None})
        while True:
            page = await self.list(cursor_query)
            items.extend(page.items)
            if page.next_cursor is None:
                break
            cursor_query = cursor_query.model_copy(update={"cursor": page.next_cursor})
        if fmt == "json":
            return orjson.dumps(items), "application/json"
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for item in items:
            row = {**asdict(item), "tags": " ".join(item.tags)}
            writer.writerow({key: _csv_safe(value) for key, value in row.items()})
        return buffer.getvalue().encode(), "text/csv"

    @staticmethod
    async def _require(repo: JournalRepository, entry_id: str) -> Row[Any]:
        entry = await repo.get(entry_id)
        if entry is None:
            raise NotFound(f"journal entry {entry_id} does not exist")
        return entry
