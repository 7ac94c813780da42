"""Typed values as the JSON they travel as, for tests that compare against literal JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from core.domain.actions import NextAction


def as_json(value: object) -> Any:
    """``value`` encoded and decoded again: what a client or a stored row sees (tuples as lists)."""
    return msgspec.json.decode(msgspec.json.encode(value))


def chips_json(actions: Iterable[NextAction]) -> list[dict[str, Any]]:
    """Chips as ``alert.meta.actions`` carries them."""
    result: list[dict[str, Any]] = as_json([action.chip() for action in actions])
    return result
