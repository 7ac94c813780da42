"""One endpoint executes every click by reference (the action service decides; this only translates).

    POST /actions  {"target": "alert",    "id": <trigger id>, "action": <chip id>}
                   {"target": "pick",     "id": <pick id>,    "action": "take" | "alert"}
                   {"target": "position", "id": <symbol, OCC for options>,
                    "action": "trim" | "close" | "breakeven" | "roll" | "hedge" | "collar"}
                   {"target": "plan",     "plan": {symbol, side, entry, stop, targets}, "action": "take"}
                   -> 200 ActionOutcome; a proposal is confirmed with POST /broker/orders/{intent.id}/confirm
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.auth import API_ACTOR, require_api_key
from api.deps import RuntimeDep
from core.domain.action_refs import ActionRef, PlanDraft, Target
from core.services.orders import ProposeResult

router = APIRouter(tags=["actions"], dependencies=[Depends(require_api_key)])


def _text(value: Any) -> Any:
    """A price may come as a JSON number; the plan rules parse it from its text (exactly, no float)."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Price = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=30)]


class PlanBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=32)
    side: Literal["long", "short"]
    entry: Price
    stop: Price
    targets: list[Price] = Field(default_factory=list, max_length=3)


class ActionBody(BaseModel):
    """A click: on an alert chip, a pick or a position, the `id` of what was clicked; on a plan, the `plan`."""

    model_config = ConfigDict(extra="forbid")

    target: Literal["alert", "pick", "position", "plan"]
    action: str = Field(min_length=1, max_length=40)
    id: str | None = Field(default=None, min_length=1, max_length=64)
    plan: PlanBody | None = None


class BracketOut(BaseModel):
    order_class: Literal["otoco", "oto"]
    side: str
    quantity: str
    entry: str
    stop: str
    target: str | None
    one_r_dollars: str


class EffectOut(BaseModel):
    label: str
    dollars: str | None
    detail: str


class PlanOut(BaseModel):
    symbol: str
    side: str
    entry: str
    stop: str
    targets: list[str]


class ActionOutcomeOut(BaseModel):
    target: Literal["alert", "pick", "position", "plan"]
    action: str
    kind: Literal["proposal", "snoozed", "dismissed", "alert_created", "plan"]
    message: str
    proposal: ProposeResult | None  # exactly what POST /broker/orders answers
    bracket: BracketOut | None
    effect: EffectOut | None
    snoozed_until: str | None
    plan: PlanOut | None


def reference(body: ActionBody) -> ActionRef:
    """The core's reference (which says what is missing: the id, or the plan)."""
    plan = body.plan
    draft = None if plan is None else PlanDraft(plan.symbol, plan.side, plan.entry, plan.stop, tuple(plan.targets))
    return ActionRef(Target(body.target), body.action, body.id or "", plan=draft)


@router.post("/actions", response_model=ActionOutcomeOut)
async def execute_action(body: ActionBody, runtime: RuntimeDep) -> JSONResponse:
    """Execute a click; a proposal waits for the trader's confirm (nothing is sent here)."""
    outcome = await runtime.actions.execute(API_ACTOR, reference(body), source="api")
    return JSONResponse(outcome.to_dict())
