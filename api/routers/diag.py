"""Liveness (open, says only "ok"), and behind the key readiness (DB at migration head, engines running) and the
redacted effective configuration."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

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


class KpiOut(BaseModel):
    name: Literal["ws_uptime", "quote_latency_p95", "alert_delivery_p95", "plan_compute_p95", "api_error_rate"]
    label: str
    value: float | None = Field(description="null: nothing measured in the window")
    unit: Literal["%", "ms", "s"]
    goal: float
    status: Literal["ok", "breach", "no_data"]
    detail: str
    channel: str | None = Field(None, description="alert delivery only: one row per channel")


class FreshnessOut(BaseModel):
    symbol: str
    age_sec: float | None
    status: Literal["fresh", "stale", "no_data"]


class IntegrationOut(BaseModel):
    name: str
    enabled: bool
    reason: str
    how_to_enable: str


class KpisOut(BaseModel):
    kpis: list[KpiOut]
    freshness: list[FreshnessOut]
    integrations: list[IntegrationOut]


@private.get("/kpis", response_model=KpisOut, response_model_exclude_unset=True)
async def kpis(runtime: RuntimeDep) -> dict[str, Any]:
    """The seed KPIs over the last minutes, from the metrics `/metrics` exports, with their goals."""
    report = runtime.kpis.report()
    return {"kpis": [{k: v for k, v in asdict(kpi).items() if k != "channel" or v is not None}
                     for kpi in report.kpis],
            "freshness": [asdict(row) for row in report.freshness],
            "integrations": [asdict(status) for status in report.integrations]}
