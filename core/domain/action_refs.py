"""What a click refers to, on any surface: an alert chip, a pick, a position or a plan, and the verb.

A button carries only this reference (trigger id + chip id, pick id + verb, symbol + verb, or the plan's numbers);
the action service re-reads what it points at and builds the order from the live account.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.domain.access import Action
from core.errors import Invalid


class Target(StrEnum):
    ALERT = "alert"
    PICK = "pick"
    POSITION = "position"
    PLAN = "plan"


PICK_VERBS = ("take", "alert")
ALERT_STATE_CHIPS = ("snooze", "dismiss")  # the chips that change the alert rather than propose an order


@dataclass(frozen=True, slots=True)
class PlanDraft:
    """A plan as typed (prices as text, parsed by the plan rules): the "Take setup" of a /plan reply."""

    symbol: str
    side: str
    entry: str
    stop: str
    targets: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "side": self.side, "entry": self.entry, "stop": self.stop,
                "targets": list(self.targets)}

    @classmethod
    def of(cls, body: dict[str, Any]) -> PlanDraft:
        """From a chip's `plan` (JSON as published)."""
        return cls(str(body.get("symbol") or ""), str(body.get("side") or ""), str(body.get("entry") or ""),
                   str(body.get("stop") or ""), tuple(str(t) for t in body.get("targets") or ()))


@dataclass(frozen=True, slots=True)
class ActionRef:
    """`id`: the trigger id (alert), pick id (pick) or symbol, OCC for options (position); `plan` for a plan."""

    target: Target
    action: str
    id: str = ""
    plan: PlanDraft | None = None

    def __post_init__(self) -> None:
        if self.target is Target.PLAN:
            if self.plan is None:
                raise Invalid("a plan action needs the plan (symbol, side, entry, stop, targets)",
                              details={"field": "plan"})
            if self.action != "take":
                raise Invalid(f"unknown plan action {self.action[:40]!r}; use take", details={"field": "action"})
        elif not self.id:
            raise Invalid(f"a {self.target} action needs the id of the {self.target}", details={"field": "id"})
        if self.target is Target.PICK and self.action not in PICK_VERBS:
            raise Invalid(f"unknown pick action {self.action[:40]!r}; use one of {', '.join(PICK_VERBS)}",
                          details={"field": "action"})

    @property
    def access(self) -> Action:
        """What the click does, for the trader check: change an alert, or propose an order."""
        if (self.target is Target.ALERT and self.action in ALERT_STATE_CHIPS) or \
                (self.target is Target.PICK and self.action == "alert"):
            return Action.ALERT_WRITE
        return Action.ORDER_PROPOSE
