"""`GET /stream/risk`: the latest risk state for a dashboard's first paint (`/ws` `risk` events update it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.auth import require_api_key
from api.routers.plan import RuntimeDep
from core.services.risk_now import risk_state_now

router = APIRouter(prefix="/stream", tags=["stream"], dependencies=[Depends(require_api_key)])


@router.get("/risk")
async def get_risk(runtime: RuntimeDep) -> dict[str, Any]:
    """`{"state": {...}}`: the same object a `risk` event carries. Evaluated on demand when the last evaluation
    is older than RISK_EVAL_SEC (e.g. in an API-only process); `unknown` with the reason when it cannot be."""
    return {"state": await risk_state_now(runtime.risk)}
