"""Picks: the ranked intraday setups, one pick, the scorecard, and the pick actions.

    GET  /picks?limit=&setup=&symbol=   {items: [pick], universe: {symbols, source, reason?}, as_of}
    GET  /picks/stats                   hit rate and average R per setup over the stored picks
    GET  /picks/{id}
    POST /picks/{id}/alert              a price alert at the trigger (201)
    POST /picks/{id}/take               a bracket order intent with its confirm token (201; confirm it through
                                        POST /broker/orders/{intent_id}/confirm)
    POST /picks/{id}/explain            a coach turn about the pick
Without market data every route but /stats answers 503 with how to enable it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from api.auth import API_ACTOR, require_api_key
from api.deps import RuntimeDep
from api.schemas import PROPOSAL_RESPONSES, json_response, proposal_response
from api.struct_schema import struct_json, struct_response
from core.domain.action_refs import ActionRef, Target
from core.domain.alert_views import AlertCreated
from core.domain.coach_replies import CoachReply
from core.domain.pick_views import PickView
from core.domain.picks import SetupStats
from core.errors import IntegrationDisabled
from core.runtime import Runtime
from core.services.orders import ProposeResult
from core.services.picks import MAX_LIMIT, PicksPage, PicksService

STATS_NOTE = ("hit rate: triggered picks that reached 1R before their stop (a bar through both counts as the stop); "
              "avg_r: +1 at 1R, -1 at the stop, else the mark at the session's end, in R")

router = APIRouter(prefix="/picks", tags=["picks"], dependencies=[Depends(require_api_key)])


class StatsOut(BaseModel):
    setups: list[SetupStats]  # the domain dataclass: its fields are the response schema
    note: str


def _picks(runtime: Runtime) -> PicksService:
    service: PicksService | None = getattr(runtime, "picks", None)
    if service is None:
        raise IntegrationDisabled("picks", "picks are not built in this process", "run the api role")
    return service


@router.get("", response_model=PicksPage)
async def list_picks(runtime: RuntimeDep, limit: int = Query(20, ge=1, le=MAX_LIMIT), setup: str | None = None,
                     symbol: str | None = None) -> Response:
    return json_response(await _picks(runtime).top(limit=limit, setup=setup, symbol=symbol,
                                                   sized=API_ACTOR in runtime.settings.traders))


@router.get("/stats", response_model=StatsOut)
async def pick_stats(runtime: RuntimeDep) -> dict[str, Any]:
    stats = await _picks(runtime).stats()
    return {"setups": [asdict(s) for s in stats], "note": STATS_NOTE}


@router.get("/{pick_id}", response_model=PickView)
async def get_pick(pick_id: str, runtime: RuntimeDep) -> Response:
    return json_response(await _picks(runtime).get(pick_id, sized=API_ACTOR in runtime.settings.traders))


@router.post("/{pick_id}/alert", status_code=201, responses=struct_response(AlertCreated, 201))
async def alert_at_trigger(pick_id: str, runtime: RuntimeDep) -> Response:
    """The created alert (as `POST /alerts` returns it); the same click as POST /actions (pick, alert)."""
    _picks(runtime)
    outcome = await runtime.actions.execute(API_ACTOR, ActionRef(Target.PICK, "alert", pick_id), source="api")
    assert outcome.alert is not None
    return struct_json(outcome.alert, 201)


@router.post("/{pick_id}/take", status_code=201, response_model=ProposeResult, responses=PROPOSAL_RESPONSES)
async def take_setup(pick_id: str, runtime: RuntimeDep) -> Response:
    """A PENDING bracket intent; nothing is sent until it is confirmed (403 `risk_denied` when risk refuses).
    The same click as POST /actions (pick, take)."""
    _picks(runtime)
    outcome = await runtime.actions.execute(API_ACTOR, ActionRef(Target.PICK, "take", pick_id), source="picks")
    assert outcome.proposal is not None
    return proposal_response(outcome.proposal, 201)


@router.post("/{pick_id}/explain", response_model=CoachReply)
async def explain_pick(pick_id: str, runtime: RuntimeDep) -> Response:
    """A coach reply (as `POST /coach/chat` returns it) that starts from the pick."""
    return json_response(await _picks(runtime).explain(pick_id, actor=API_ACTOR))
