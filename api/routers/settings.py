"""GET/PUT the tunables (partial updates, every field validated)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from api.auth import require_api_key
from api.deps import runtime_of
from api.schemas import json_response

router = APIRouter(prefix="/settings", tags=["settings"], dependencies=[Depends(require_api_key)])


@router.get("", response_model=dict[str, Any])
async def get_settings(request: Request) -> Response:
    return json_response(await runtime_of(request).settings_service.get_dumped())


@router.put("", response_model=dict[str, Any])
async def put_settings(patch: Annotated[dict[str, Any], Body()], request: Request) -> Response:
    updated = await runtime_of(request).settings_service.update(patch, actor="api")
    return json_response(updated.model_dump(mode="json"))
