"""Broker endpoints: account reads, and orders through propose -> confirm intents (never placed in one call).

    GET    /broker/account | positions | orders    the account as the broker has it (`runtime.account`)
    POST   /broker/orders                          propose: 201 {intent, preview, risk, token, mode}; risk denied: 403
    POST   /broker/orders/{intent_id}/confirm      {token}: 200 submitted, 202 outcome unknown, 409 already handled
                                                   or expired or price moved, 403 not a trader / not yours / bad token
                                                   / risk denied, 502 rejected by the broker, 503 not sent
    POST   /broker/orders/{intent_id}/cancel-intent
    PUT    /broker/orders/{order_id}               replace a working order: a proposal like POST (action "replace")
    DELETE /broker/orders/{order_id}               cancel a working order: a proposal (action "cancel"), no preview
    GET    /stream/positions | /stream/orders      first-paint snapshots; `/ws` carries `positions`/`orders` updates
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import API_ACTOR, require_api_key
from api.deps import RuntimeDep
from api.errors import error_response
from api.schemas import (
    PROPOSAL_RESPONSES,
    BlotterResponse,
    BrokerOrdersResponse,
    IntentResponse,
    PositionsResponse,
    json_response,
    proposal_response,
)
from core.domain.order_input import OrderInput, ReplaceInput, parse_order, parse_replace
from core.domain.order_views import Account, Intent, document
from core.services.orders import ConfirmResult, ProposeResult

MAX_TEXT = 4000

router = APIRouter(prefix="/broker", tags=["broker"], dependencies=[Depends(require_api_key)])
stream_router = APIRouter(prefix="/stream", tags=["stream"], dependencies=[Depends(require_api_key)])


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256)


class AuditContext(BaseModel):
    """Why an order is proposed and from where, kept with its intent."""

    rationale: str | None = Field(default=None, max_length=MAX_TEXT)
    source: str | None = Field(default=None, max_length=32)


class OrderBody(OrderInput, AuditContext):
    """An order (checked by the domain's order rules) with its optional audit context."""


class ReplaceBody(ReplaceInput, AuditContext):
    """What to change on a working order, with the optional audit context."""


_CONFIRM_ERRORS = {
    "rejected": (502, "order_rejected"),
    "failed": (503, "order_not_sent"),
}


def _confirmed(result: ConfirmResult) -> Response:
    if result.outcome == "submitted":
        return json_response(result, 200)
    if result.outcome == "unknown":
        return json_response(result, 202)
    if result.outcome == "aborted":
        if result.code in {"price_moved", "no_quote"}:
            status, code = 409, str(result.code)
        else:
            status, code = 403, "risk_denied"
    else:
        status, code = _CONFIRM_ERRORS[result.outcome]
    return error_response(status, code, result.reason or result.outcome, {"intent": document(result.intent),
                                                                           "outcome": result.outcome,
                                                                           "reason_code": result.code})


_CONFIRMED: dict[int | str, dict[str, Any]] = {
    202: {"model": ConfirmResult, "description": "the broker did not answer: looked up by tag, never resent"}}


@router.get("/account", response_model=Account)
async def get_account(runtime: RuntimeDep) -> Response:
    return json_response(await runtime.account.account())


@router.get("/positions", response_model=PositionsResponse)
async def get_positions(runtime: RuntimeDep) -> Response:
    return json_response({"items": await runtime.account.positions(), "mode": runtime.account.mode})


@router.get("/orders", response_model=BrokerOrdersResponse)
async def get_orders(runtime: RuntimeDep) -> Response:
    return json_response({"items": await runtime.account.broker_orders(), "mode": runtime.account.mode})


@router.post("/orders", status_code=201, response_model=ProposeResult, responses=PROPOSAL_RESPONSES)
async def propose_order(body: OrderBody, runtime: RuntimeDep) -> Response:
    runtime.orders.require_broker()
    order = parse_order(body)
    result = await runtime.orders.propose(API_ACTOR, order, rationale=body.rationale, source=body.source or "api")
    return proposal_response(result, 201)


@router.get("/orders/intents/{intent_id}", response_model=Intent)
async def get_intent(intent_id: str, runtime: RuntimeDep) -> Response:
    return json_response(await runtime.orders.get_intent(intent_id))


@router.post("/orders/{intent_id}/confirm", response_model=ConfirmResult, responses=_CONFIRMED)
async def confirm_order(intent_id: str, body: ConfirmRequest, runtime: RuntimeDep) -> Response:
    return _confirmed(await runtime.orders.confirm(intent_id, body.token, API_ACTOR))


@router.post("/orders/{intent_id}/cancel-intent", response_model=IntentResponse)
async def cancel_intent(intent_id: str, runtime: RuntimeDep) -> Response:
    return json_response({"intent": await runtime.orders.cancel_intent(intent_id, API_ACTOR)})


@router.put("/orders/{order_id}", response_model=ProposeResult, responses=PROPOSAL_RESPONSES)
async def replace_order(order_id: str, body: ReplaceBody, runtime: RuntimeDep) -> Response:
    runtime.orders.require_broker()
    changes = parse_replace(body.model_dump(include=set(ReplaceInput.model_fields), exclude_unset=True))
    result = await runtime.orders.propose_replace(API_ACTOR, order_id, changes, rationale=body.rationale,
                                                  source=body.source or "api")
    return proposal_response(result, 200)


@router.delete("/orders/{order_id}", response_model=ProposeResult, responses=PROPOSAL_RESPONSES)
async def cancel_order(order_id: str, runtime: RuntimeDep) -> Response:
    result = await runtime.orders.propose_cancel(API_ACTOR, order_id, source="api")
    return proposal_response(result, 200)


@stream_router.get("/positions", response_model=PositionsResponse)
async def stream_positions(runtime: RuntimeDep) -> Response:
    """The tracker's last published positions (live from the broker when this process runs no tracker)."""
    tracker = runtime.order_tracker
    if tracker is not None and tracker.positions is not None:
        return json_response({"items": tracker.positions, "mode": runtime.account.mode,
                              "as_of": tracker.status()["last_poll_at"]})
    return json_response({"items": await runtime.account.positions(), "mode": runtime.account.mode, "as_of": None})


@stream_router.get("/orders", response_model=BlotterResponse)
async def stream_orders(runtime: RuntimeDep) -> Response:
    """Today's blotter: broker orders (ours and manual) and intents awaiting confirmation or resolution."""
    runtime.account.require_broker()
    return json_response({"items": await runtime.account.orders_snapshot(), "mode": runtime.account.mode})
