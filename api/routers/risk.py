"""`GET /stream/risk`: the latest risk state for a dashboard's first paint (`/ws` `risk` events update it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.auth import require_api_key
from api.routers.plan import RuntimeDep
from core.errors import CoreError
from core.services.risk import state_payload, unknown_state

router = APIRouter(prefix="/stream", tags=["stream"], dependencies=[Depends(require_api_key)])


@router.get("/risk")
async def get_risk(runtime: RuntimeDep) -> dict[str, Any]:
    """`{"state": {...}}`: the same object a `risk` event carries. Evaluated on demand when the last evaluation
    is older than RISK_EVAL_SEC (e.g. in an API-only process); `unknown` with the reason when it cannot be."""
    risk = runtime.risk
    if not risk.enabled:
        return {"state": risk.snapshot()}
    if risk.error is not None:  # the engine's last cycle failed; it retries every RISK_EVAL_SEC
        return {"state": risk.error}
    try:
        state, _ = await risk.current()
    except CoreError as exc:
        return {"state": unknown_state(f"broker read failed: {exc.message}",
                                       "the risk engine retries every RISK_EVAL_SEC")}
    return {"state": state_payload(state)}
