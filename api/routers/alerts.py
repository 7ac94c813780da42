"""Alerts: CRUD, snooze/dismiss, and the triggers of an alert. Rules live in core (AlertService + domain)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import require_api_key
from api.deps import RuntimeDep

router = APIRouter(prefix="/alerts", tags=["alerts"], dependencies=[Depends(require_api_key)])

Number = Decimal | str


class AlertCreateRequest(BaseModel):
    """An alert's fields. Values are checked by the domain, which names each bad field."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    condition: str = Field(description="price_above | price_below")
    level: Number = Field(description="> 0")
    threshold_pct: Number | None = Field(None, description="approach alert: within this % of the level, (0, 50]")
    timeframe: str = Field("tick", description="tick | minute | day")
    repeat: str = Field("once", description="once | every")
    cooldown_sec: int = 0
    expires_at: datetime | None = None
    channels: list[str] = Field(default_factory=lambda: ["ws"], description="ws | discord | slack | discord_webhook")
    note: str | None = None


class AlertPatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str | None = None
    condition: str | None = None
    level: Number | None = None
    threshold_pct: Number | None = None
    timeframe: str | None = None
    repeat: str | None = None
    cooldown_sec: int | None = None
    expires_at: datetime | None = None
    channels: list[str] | None = None
    note: str | None = None


class SnoozeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: int | None = Field(None, description="1-10080")
    until: datetime | None = None


@router.post("", status_code=201)
async def create_alert(body: AlertCreateRequest, runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    created = await runtime.alerts.create(body.model_dump(exclude_unset=True), actor="api")
    if created["duplicate"]:
        response.status_code = 200
    return created


@router.get("")
async def list_alerts(runtime: RuntimeDep, status: str | None = Query(None)) -> dict[str, Any]:
    return {"items": await runtime.alerts.list(status or None)}


@router.get("/{alert_id}")
async def get_alert(alert_id: str, runtime: RuntimeDep) -> dict[str, Any]:
    return await runtime.alerts.get(alert_id)


@router.patch("/{alert_id}")
async def patch_alert(alert_id: str, body: AlertPatchRequest, runtime: RuntimeDep) -> dict[str, Any]:
    return await runtime.alerts.update(alert_id, body.model_dump(exclude_unset=True))


@router.delete("/{alert_id}", status_code=204)
async def delete_alert(alert_id: str, runtime: RuntimeDep) -> Response:
    await runtime.alerts.delete(alert_id)
    return Response(status_code=204)


@router.get("/{alert_id}/triggers")
async def alert_triggers(alert_id: str, runtime: RuntimeDep,
                         limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    return {"items": await runtime.alerts.triggers(alert_id, limit=limit)}


@router.post("/{alert_id}/snooze")
async def snooze_alert(alert_id: str, body: SnoozeRequest, runtime: RuntimeDep) -> dict[str, Any]:
    return await runtime.alerts.snooze(alert_id, minutes=body.minutes, until=body.until)


@router.post("/{alert_id}/dismiss")
async def dismiss_alert(alert_id: str, runtime: RuntimeDep) -> dict[str, Any]:
    return await runtime.alerts.dismiss(alert_id)
