"""Alerts: CRUD, snooze/dismiss, and the triggers of an alert. Rules live in core (AlertService + domain)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.struct_schema import struct_json, struct_response
from core.domain.alert_views import AlertCreated, AlertEdited, AlertList, AlertView, TriggerList
from core.domain.events import event_time
from core.services.alerts import HISTORY_MAX

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


@router.post("", status_code=201, responses={**struct_response(AlertCreated, 201), **struct_response(AlertCreated)})
async def create_alert(body: AlertCreateRequest, runtime: RuntimeDep) -> Response:
    """201 with the new alert; 200 with the live alert it duplicates (``duplicate: true``)."""
    created = await runtime.alerts.create(body.model_dump(exclude_unset=True), actor="api")
    return struct_json(created, 200 if created.duplicate else 201)


@router.get("", responses=struct_response(AlertList))
async def list_alerts(runtime: RuntimeDep, status: str | None = Query(None)) -> Response:
    return struct_json(AlertList(tuple(await runtime.alerts.list(status or None))))


class ActionChip(BaseModel):
    """A next-best-action chip as `alert` events carry it (kind-specific fields such as ``order``, ``plan``,
    ``snooze_sec``, ``needs`` come along as they are)."""

    model_config = ConfigDict(extra="allow")

    id: str
    label: str
    kind: str


class AlertEventMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    alert_id: str
    trigger_id: str
    symbol: str | None = None
    kind: str = Field(description="crossed | approaching")
    price: str = Field(description="the price that fired it")
    level: str | None = Field(None, description="the alert's level")
    condition: str | None = None
    timeframe: str | None = None
    late: bool
    fired_at: str | None = None
    note: str | None = None
    actions: list[ActionChip]
    rationale: str | None = Field(None, description="the LLM's note, present once it arrived")


class AlertHistoryItem(BaseModel):
    """Exactly the `alert` event `/ws` sent for the fire (without the per-connection ``seq``)."""

    type: Literal["alert"]
    level: Literal["info", "warning", "critical"]
    msg: str
    meta: AlertEventMeta
    ts: str = Field(description="when it was published, ISO-8601 UTC")


class AlertHistory(BaseModel):
    items: list[AlertHistoryItem]
    next_before: str | None = Field(description="pass as `before` for the next (older) page; null at the end")


@router.get("/history", response_model=AlertHistory, response_model_exclude_unset=True)
async def alert_history(runtime: RuntimeDep, limit: int = Query(50, ge=1, le=HISTORY_MAX),
                        before: str | None = Query(None, description="the next_before of the previous page")
                        ) -> dict[str, Any]:
    """Every alert's fires, newest first: what the live feed showed, chips and rationale included."""
    page = await runtime.alerts.history(limit=limit, before=before)
    items = [{**msgspec.to_builtins(item.event), "ts": event_time(item.at)} for item in page.items]
    return {"items": items, "next_before": page.next_before}


@router.get("/{alert_id}", responses=struct_response(AlertView))
async def get_alert(alert_id: str, runtime: RuntimeDep) -> Response:
    return struct_json(await runtime.alerts.get(alert_id))


@router.patch("/{alert_id}", responses=struct_response(AlertEdited))
async def patch_alert(alert_id: str, body: AlertPatchRequest, runtime: RuntimeDep) -> Response:
    return struct_json(await runtime.alerts.update(alert_id, body.model_dump(exclude_unset=True)))


@router.delete("/{alert_id}", status_code=204)
async def delete_alert(alert_id: str, runtime: RuntimeDep) -> Response:
    await runtime.alerts.delete(alert_id)
    return Response(status_code=204)


@router.get("/{alert_id}/triggers", responses=struct_response(TriggerList))
async def alert_triggers(alert_id: str, runtime: RuntimeDep,
                         limit: int = Query(200, ge=1, le=1000)) -> Response:
    return struct_json(TriggerList(tuple(await runtime.alerts.triggers(alert_id, limit=limit))))


@router.post("/{alert_id}/snooze", responses=struct_response(AlertView))
async def snooze_alert(alert_id: str, body: SnoozeRequest, runtime: RuntimeDep) -> Response:
    return struct_json(await runtime.alerts.snooze(alert_id, minutes=body.minutes, until=body.until))


@router.post("/{alert_id}/dismiss", responses=struct_response(AlertView))
async def dismiss_alert(alert_id: str, runtime: RuntimeDep) -> Response:
    return struct_json(await runtime.alerts.dismiss(alert_id))
