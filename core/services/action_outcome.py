"""What executing a click did, typed for every surface: `ActionOutcome` (its JSON is the REST contract of
`POST /api/v1/actions`; the bots render the same value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.domain.action_effects import Effect
from core.domain.action_refs import ActionRef, PlanDraft, Target
from core.domain.alert_views import AlertCreated
from core.domain.brackets import Bracket
from core.domain.numbers import fmt_money
from core.domain.order_text import document_line
from core.domain.order_views import document
from core.domain.orders import OrderRequest
from core.services.orders import ProposeResult


class OutcomeKind(StrEnum):
    PROPOSAL = "proposal"  # an order intent waits for the trader's confirm (or risk denied it)
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    ALERT_CREATED = "alert_created"
    PLAN = "plan"  # nothing could be sized: open the planner with `plan`


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """`alert` is the alert a pick's "alert" created (what `POST /picks/{id}/alert` answers); the contract's
    JSON does not carry it, its `message` says what was created."""

    target: Target
    action: str
    kind: OutcomeKind
    message: str
    proposal: ProposeResult | None = None
    bracket: Bracket | None = None
    effect: Effect | None = None
    snoozed_until: datetime | None = None
    plan: PlanDraft | None = None
    alert: AlertCreated | None = None

    @classmethod
    def proposed(cls, ref: ActionRef, order: OrderRequest, proposal: ProposeResult, *,
                 effect: Effect | None = None) -> ActionOutcome:
        """A proposal's outcome: the bracket of a bracket order, and a sentence with the risk verdict."""
        bracket = Bracket.of(order) if order.order_class.is_bracket else None
        what = document_line(order.to_dict())
        if proposal.denied:
            message = f"Risk denied {what}: {proposal.risk.reason}. Nothing was sent."
        else:
            message = f"Review and confirm {what}"
            if bracket is not None:
                target = f"target {bracket.target}" if bracket.target is not None else "no target"
                message += f" with stop {bracket.stop}, {target}, 1R = {fmt_money(bracket.one_r_dollars)}"
            message += f". Risk: {proposal.risk.reason}. Nothing is sent until you confirm."
        return cls(ref.target, ref.action, OutcomeKind.PROPOSAL, message, proposal=proposal, bracket=bracket,
                   effect=effect)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target.value, "action": self.action, "kind": self.kind.value, "message": self.message,
                "proposal": None if self.proposal is None else document(self.proposal),
                "bracket": None if self.bracket is None else self.bracket.to_dict(),
                "effect": None if self.effect is None else self.effect.to_dict(),
                "snoozed_until": None if self.snoozed_until is None else self.snoozed_until.isoformat(),
                "plan": None if self.plan is None else self.plan.to_dict()}
