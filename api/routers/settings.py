"""GET/PUT the tunables (partial updates, every field validated)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.auth import require_api_key
from api.deps import RuntimeDep

router = APIRouter(prefix="/settings", tags=["settings"], dependencies=[Depends(require_api_key)])


@router.get("")
async def get_settings(runtime: RuntimeDep) -> dict[str, Any]:
    return (await runtime.settings_service.get()).model_dump(mode="json")


@router.put("")
async def put_settings(patch: Annotated[dict[str, Any], Body()], runtime: RuntimeDep) -> dict[str, Any]:
    updated = await runtime.settings_service.update(patch, actor="api")
    return updated.model_dump(mode="json")
