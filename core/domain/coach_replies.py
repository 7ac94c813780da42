"""What the coach tells every surface: one turn's reply, and a conversation read back, as typed values.

REST, Discord and Slack render these same values. On the wire times are ISO-8601 text with their offset
(`+00:00`, as `datetime.isoformat` writes them) and enums their values. An assistant message keeps its turn's
structured reply (`StoredTurn`) in its `payload` column; a user message has none, so its view leaves those keys
out rather than sending them as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson

from core.domain.coach import ChecklistStep, Source, Suggestion


@dataclass(frozen=True, slots=True)
class ToolUse:
    """One tool the turn called, and whether it answered with data (not an error)."""

    name: str
    ok: bool


@dataclass(frozen=True, slots=True)
class CoachReply:
    """One coach turn: the answer, the suggestion cards derived from the turn's tool results, where the numbers
    came from, the numbers no tool result contains, and the execution checklist when a trade was discussed."""

    conversation_id: str
    content: str
    suggestions: tuple[Suggestion, ...]
    sources: tuple[Source, ...]
    unverified_numbers: tuple[str, ...]
    checklist: tuple[ChecklistStep, ...] | None
    tools: tuple[ToolUse, ...] = ()
    notes: tuple[str, ...] = ()


def json_ready(value: object) -> Any:
    """A typed value as JSON builtins the way the REST API writes it (orjson: datetimes with their offset), for a
    JSON column or a message to the model."""
    return orjson.loads(orjson.dumps(value))


def stored_turn(reply: CoachReply) -> dict[str, Any]:
    """The `payload` column of the assistant message of a turn: the reply without its id and content."""
    payload: dict[str, Any] = json_ready({"suggestions": reply.suggestions, "sources": reply.sources,
                       "unverified_numbers": reply.unverified_numbers, "checklist": reply.checklist,
                       "tools": reply.tools, "notes": reply.notes})
    return payload


class CoachMessageView(msgspec.Struct, frozen=True, kw_only=True):
    """One message of a conversation; an assistant message carries its turn's structured reply."""

    role: str
    content: str
    created_at: str
    suggestions: tuple[Suggestion, ...] | msgspec.UnsetType = msgspec.UNSET
    sources: tuple[Source, ...] | msgspec.UnsetType = msgspec.UNSET
    unverified_numbers: tuple[str, ...] | msgspec.UnsetType = msgspec.UNSET
    checklist: tuple[ChecklistStep, ...] | msgspec.UnsetType | None = msgspec.UNSET
    tools: tuple[ToolUse, ...] | msgspec.UnsetType = msgspec.UNSET
    notes: tuple[str, ...] | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, role: str, content: str, created_at: datetime, payload: dict[str, Any] | None) -> CoachMessageView:
        return msgspec.convert({**(payload or {}), "role": role, "content": content,
                                "created_at": created_at.isoformat()}, cls)


class CoachConversationView(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation read back: its thread reference (Discord/Slack), title, and messages oldest first."""

    conversation_id: str
    external_ref: str | None
    title: str | None
    messages: list[CoachMessageView]


def conversation_json(conversation: CoachConversationView) -> bytes:
    """The conversation as REST answers it: unset keys left out, datetimes with their offset."""
    return orjson.dumps(msgspec.to_builtins(conversation, builtin_types=(datetime,)))
