"""`GET /stream/risk`: the latest risk state for a dashboard's first paint (`/ws` `risk` events update it)."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Depends, Response

from api.auth import require_api_key
from api.routers.plan import RuntimeDep
from api.struct_schema import struct_json, struct_response
from core.domain.risk_view import RiskStateView
from core.services.risk_now import risk_state_now

router = APIRouter(prefix="/stream", tags=["stream"], dependencies=[Depends(require_api_key)])


class RiskResponse(msgspec.Struct, frozen=True):
    state: RiskStateView


@router.get("/risk", responses=struct_response(RiskResponse))
async def get_risk(runtime: RuntimeDep) -> Response:
    """`{"state": {...}}`: the same object a `risk` event carries. Evaluated on demand when the last evaluation
    is older than RISK_EVAL_SEC (e.g. in an API-only process); `unknown` with the reason when it cannot be."""
    return struct_json(RiskResponse(await risk_state_now(runtime.risk)))
