"""What the core tells every surface about alerts: typed values, one shape each.

REST answers these (msgspec-encoded, documented as they are), and the chat bots render the same values. Prices
are text with at least two decimals (``500`` reads ``500.00``), percentages in their own notation, times
ISO-8601 UTC; an unknown value is null.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from core.domain.actions import AlertChip
from core.domain.events import AlertMeta


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert: its rule, its live state, and who made it when (``already_true``: the price was past the
    level when the alert was made, so it waits to re-arm)."""

    id: str
    symbol: str
    condition: str
    level: str
    threshold_pct: str | None
    approach_level: str | None
    timeframe: str
    repeat: str
    cooldown_sec: int
    expires_at: str | None
    channels: tuple[str, ...]
    note: str | None
    status: str
    armed: bool
    approach_armed: bool
    snoozed_until: str | None
    first_triggered_at: str | None
    last_triggered_at: str | None
    last_approached_at: str | None
    already_true: bool
    created_by: str | None
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class AlertEdited(AlertView):
    """An edited alert and what could not be checked (e.g. the symbol, without market data)."""

    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertCreated(AlertView):
    """A created alert; ``duplicate`` when an identical live alert existed and is answered instead."""

    duplicate: bool
    warnings: tuple[str, ...]


Extended = TypeVar("Extended", AlertCreated, AlertEdited)


def extended(view: AlertView, kind: type[Extended], **extra: Any) -> Extended:
    """`view` as one of its extensions: the same fields, then `extra`."""
    return kind(**{f.name: getattr(view, f.name) for f in fields(AlertView)}, **extra)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One channel's delivery of a fire (``latency_ms`` from the fire to the delivery)."""

    channel: str
    status: str
    attempts: int
    delivered_at: str | None
    latency_ms: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class TriggerView:
    """One fire of an alert: the `alert` event it was published as (``level``, ``msg``, ``meta``), its chips
    parsed, the LLM's rationale once it arrived, and its deliveries. ``meta`` is the event's meta as published (an
    older row's completed from its columns)."""

    id: str
    alert_id: str
    kind: str
    price: str
    late: bool
    triggered_at: str | None
    level: str | None
    msg: str | None
    fired_at: str | None
    actions: tuple[AlertChip, ...]
    meta: AlertMeta
    rationale: str | None
    deliveries: tuple[DeliveryView, ...]


@dataclass(frozen=True, slots=True)
class AlertList:
    items: tuple[AlertView, ...]


@dataclass(frozen=True, slots=True)
class TriggerList:
    items: tuple[TriggerView, ...]
