"""GET/PUT the tunables (partial updates, every field validated)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.schemas import json_response

router = APIRouter(prefix="/settings", tags=["settings"], dependencies=[Depends(require_api_key)])


@router.get("", response_model=dict[str, Any])
async def get_settings(runtime: RuntimeDep) -> Response:
    return json_response((await runtime.settings_service.get()).model_dump(mode="json"))


@router.put("", response_model=dict[str, Any])
async def put_settings(patch: Annotated[dict[str, Any], Body()], runtime: RuntimeDep) -> Response:
    updated = await runtime.settings_service.update(patch, actor="api")
    return json_response(updated.model_dump(mode="json"))
