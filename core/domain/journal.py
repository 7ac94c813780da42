"""Journal entries: what a trader (or the product, for audits) writes down, validated like any user input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.domain.symbols import normalize_symbol
from core.errors import Invalid

JournalKind = Literal["note", "trade", "plan", "order", "coach"]
MAX_BODY = 20_000


@dataclass(frozen=True, slots=True)
class JournalEntryView:
    """One entry as every surface shows it; times are ISO-8601 text, `plan` is the trader's own JSON."""

    id: str
    kind: JournalKind
    body: str
    symbol: str | None
    tags: tuple[str, ...]
    plan: dict[str, Any] | None
    rationale: str | None
    order_id: str | None
    actor: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: Sequence[Any]) -> JournalEntryView:
        """From a row in `core.db.repositories.journal.COLUMNS` order (the order of these fields)."""
        (entry_id, kind, body, symbol, tags, plan, rationale, order_id, actor, created_at, updated_at) = row
        return cls(entry_id, kind, body, symbol, tuple(tags or ()), plan, rationale, order_id, actor,
                   created_at.isoformat(), updated_at.isoformat())


@dataclass(frozen=True, slots=True)
class JournalPage:
    """Entries newest first; `next_cursor` fetches the page after this one (None on the last page)."""

    items: tuple[JournalEntryView, ...]
    next_cursor: str | None


def _clean_symbol(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_symbol(value)
    except Invalid as exc:
        raise ValueError(exc.message) from exc


class JournalDraft(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: JournalKind = "note"
    body: str = Field(min_length=1, max_length=MAX_BODY)
    symbol: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    plan: dict[str, Any] | None = None
    rationale: str | None = Field(default=None, max_length=MAX_BODY)
    order_id: str | None = Field(default=None, max_length=64)

    _symbol = field_validator("symbol")(_clean_symbol)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        cleaned = [tag.strip().lower() for tag in tags if tag.strip()]
        if any(len(tag) > 40 for tag in cleaned):
            raise ValueError("each tag must be at most 40 characters")
        return sorted(set(cleaned))


class JournalPatch(JournalDraft):
    """Partial update: only the fields given change. `kind`, `body` and `tags` cannot be null (send `[]` for no
    tags): their None default marks "not sent" and is never validated, so an explicit null is a 422."""

    kind: JournalKind = None  # type: ignore[assignment]
    body: str = Field(default=None, min_length=1, max_length=MAX_BODY)  # type: ignore[assignment]
    tags: list[str] = Field(default=None, max_length=20)  # type: ignore[arg-type]


class JournalQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str | None = None
    kind: JournalKind | None = None
    since: datetime | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None

    _symbol = field_validator("symbol")(_clean_symbol)

    @field_validator("since")
    @classmethod
    def _aware(cls, since: datetime | None) -> datetime | None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must carry a timezone, e.g. 2026-11-25T14:30:00Z")
        return since
