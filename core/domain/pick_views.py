"""What every surface is told about a pick: one typed value, the same on REST, `/ws`, the coach and the chat bots.

Prices leave as strings in the pick's own precision (`price_text`), times as ISO-8601 text. `size` depends on the
account, not on the pick: the picks service fills it in (or says in `size_note` why there is none) when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from core.domain.confidence import Confidence
from core.domain.setups.rules import Direction


class PickStatus(StrEnum):
    FORMING = "forming"
    TRIGGERED = "triggered"
    INVALIDATED = "invalidated"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class PickSize:
    """The pick sized for the trader's limits and the broker's equity: `one_r_dollars` is the loss at the stop."""

    quantity: int
    one_r_dollars: str
    limited_by: str
    summary: str


@dataclass(frozen=True, slots=True)
class PickOutcome:
    """How the pick did, in R: maximum favourable/adverse excursion, 1R before the stop, and its result."""

    mfe_r: float
    mae_r: float
    reached_1r: bool | None
    result_r: float | None


@dataclass(frozen=True, slots=True)
class PickView:
    """One pick as read: its levels, explained confidence, status, freshness (seconds since `as_of`) and size."""

    id: str
    symbol: str
    setup: str
    setup_label: str
    direction: Direction
    trigger: str
    stop: str
    stop_basis: str
    invalidation: str
    targets: tuple[str, ...]
    r_multiples: tuple[float, ...]
    size: PickSize | None
    size_note: str | None
    confidence: Confidence
    why: str
    status: PickStatus
    reason: str
    last: str
    as_of: str | None
    freshness_s: float
    created_at: str | None
    expires_at: str | None
    triggered_at: str | None
    closed_at: str | None
    outcome: PickOutcome

    @property
    def active(self) -> bool:
        return self.status in (PickStatus.FORMING, PickStatus.TRIGGERED)

    def sized(self, size: PickSize | None, note: str | None = None) -> PickView:
        return replace(self, size=size, size_note=note)


def card_text(pick: PickView) -> tuple[str, str]:
    """A pick as a chat card: a title and a few lines, the same on Discord and Slack."""
    title = (f"{pick.symbol} · {pick.setup_label} {pick.direction} · {pick.status} · "
             f"confidence {pick.confidence.score:.2f}")
    targets = ", ".join(f"{t} ({r:g}R)" for t, r in zip(pick.targets, pick.r_multiples, strict=False))
    size = pick.size
    sized = (f"{size.quantity} sh, 1R ${size.one_r_dollars} (limited by {size.limited_by.replace('_', ' ')})"
             if size else (pick.size_note or "not sized"))
    factors = "; ".join(f"{f.name.replace('_', ' ')} {f.value:.2f}" for f in pick.confidence.factors)
    lines = [f"Trigger {pick.trigger} · stop {pick.stop} ({pick.stop_basis}) · targets {targets}",
             f"Size: {sized}", f"Why: {pick.why}", f"Factors: {factors}",
             f"As of {pick.as_of} ({pick.freshness_s:.0f}s ago), expires {pick.expires_at}"]
    return title, "\n".join(lines)
