"""The trading journal: notes, plans, trades, and the audit entries other services write."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from core.db.base import utcnow
from core.db.models import JournalEntry
from core.db.repositories import JournalRepository
from core.db.session import Database
from core.domain.journal import JournalDraft, JournalPatch, JournalQuery
from core.errors import Invalid, NotFound

ExportFormat = Literal["csv", "json"]
EXPORT_FIELDS = ("id", "created_at", "updated_at", "kind", "symbol", "body", "tags", "rationale", "order_id", "actor")


def entry_to_dict(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "kind": entry.kind, "body": entry.body, "symbol": entry.symbol, "tags": entry.tags or [],
        "plan": entry.plan, "rationale": entry.rationale, "order_id": entry.order_id, "actor": entry.actor,
        "created_at": entry.created_at.isoformat(), "updated_at": entry.updated_at.isoformat(),
    }


def encode_cursor(entry: JournalEntry) -> str:
    raw = f"{entry.created_at.isoformat()}|{entry.id}".encode()
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


@dataclass(frozen=True, slots=True)
class JournalPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


class JournalService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, draft: JournalDraft, actor: str | None = None) -> dict[str, Any]:
        async with self.db.uow() as session:
            now = utcnow()
            entry = JournalEntry(**draft.model_dump(), actor=actor, created_at=now, updated_at=now)
            await JournalRepository(session).add(entry)
            return entry_to_dict(entry)

    async def get(self, entry_id: str) -> dict[str, Any]:
        async with self.db.read() as session:
            return entry_to_dict(await self._require(JournalRepository(session), entry_id))

    async def update(self, entry_id: str, patch: JournalPatch) -> dict[str, Any]:
        changes = patch.model_dump(exclude_unset=True)
        if not changes:
            raise Invalid("send at least one field to change", details=[{"field": "body", "message": "empty"}])
        async with self.db.uow() as session:
            entry = await self._require(JournalRepository(session), entry_id)
            for name, value in changes.items():
                if value is None and name in ("kind", "body", "tags"):
                    raise Invalid(f"{name} cannot be null", details=[{"field": name, "message": "required"}])
                setattr(entry, name, value)
            await session.flush()
            return entry_to_dict(entry)

    async def delete(self, entry_id: str) -> None:
        async with self.db.uow() as session:
            if not await JournalRepository(session).delete(entry_id):
                raise NotFound(f"journal entry {entry_id} does not exist")

    async def list(self, query: JournalQuery) -> JournalPage:
        after = decode_cursor(query.cursor) if query.cursor else None
        async with self.db.read() as session:
            rows = await JournalRepository(session).page(
                symbol=query.symbol, kind=query.kind, since=query.since, after=after, limit=query.limit + 1)
        page = list(rows[: query.limit])
        next_cursor = encode_cursor(page[-1]) if len(rows) > query.limit else None
        return JournalPage([entry_to_dict(entry) for entry in page], next_cursor)

    async def export(self, query: JournalQuery, fmt: str) -> tuple[bytes, str]:
        """All entries matching the filters, newest first, as (body, media type)."""
        if fmt not in ("csv", "json"):
            raise Invalid(f"export format '{fmt}' is not supported; use csv or json",
                          details=[{"field": "format", "message": "expected csv or json"}])
        items: list[dict[str, Any]] = []
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
            writer.writerow({key: _csv_safe(value) for key, value in {**item, "tags": " ".join(item["tags"])}.items()})
        return buffer.getvalue().encode(), "text/csv"

    @staticmethod
    async def _require(repo: JournalRepository, entry_id: str) -> JournalEntry:
        entry = await repo.get(entry_id)
        if entry is None:
            raise NotFound(f"journal entry {entry_id} does not exist")
        return entry
