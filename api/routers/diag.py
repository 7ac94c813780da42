"""Liveness (open, says only "ok"), and behind the key readiness (DB at migration head, engines running) and the
redacted effective configuration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.auth import require_api_key
from api.deps import RuntimeDep
from core.db.migrate import current_revision, head_revision

public = APIRouter(prefix="/diag", tags=["diag"])
private = APIRouter(prefix="/diag", tags=["diag"], dependencies=[Depends(require_api_key)])


@public.get("/health")
async def health() -> dict[str, str]:
    """Open for container health checks, so it says nothing but that the process answers."""
    return {"status": "ok"}


@private.get("/ready")
async def ready(runtime: RuntimeDep) -> JSONResponse:
    reasons: list[str] = []
    try:
        current = await current_revision(runtime.db)
    except Exception as exc:  # any driver error means "not ready", with the reason
        current = None
        reasons.append(f"database unreachable: {type(exc).__name__}")
    head = head_revision(runtime.db.url)
    if not reasons and current != head:
        reasons.append(f"database at migration {current or 'none'}, head is {head}: run `tradeassist db upgrade`")
    if not runtime.started:
        reasons.append("runtime not started")
    missing = sorted(set(runtime.expected_tasks()) - set(runtime.tasks))
    if missing:
        reasons.append(f"engines not running: {', '.join(missing)}")
    body = {"ready": not reasons, "reasons": reasons, "migration": current, "tasks": runtime.tasks}
    return JSONResponse(body, status_code=200 if not reasons else 503)


@private.get("/config")
async def config(runtime: RuntimeDep) -> dict[str, Any]:
    return {"settings": runtime.redacted_settings(), "integrations": runtime.integrations()}
