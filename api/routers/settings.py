"""GET/PUT the tunables (partial updates, every field validated)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from api.auth import require_api_key
from api.deps import runtime_of
from api.schemas import json_response, partial_model
from core.services.settings import RiskLimitsSettings, Tunables

router = APIRouter(prefix="/settings", tags=["settings"], dependencies=[Depends(require_api_key)])


@router.get("", response_model=dict[str, Any])
async def get_settings(request: Request) -> Response:
    return json_response(await runtime_of(request).settings_service.get_dumped())


# Any subset of the tunables; a section (`risk`) may itself be partial.
SettingsPatch = partial_model(Tunables, risk=partial_model(RiskLimitsSettings))


@router.put("", response_model=dict[str, Any])
async def put_settings(patch: SettingsPatch, request: Request) -> Response:  # type: ignore[valid-type]
    changes = patch.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
    updated = await runtime_of(request).settings_service.update(changes, actor="api")
    return json_response(updated.model_dump(mode="json"))
