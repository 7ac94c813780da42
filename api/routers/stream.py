"""Snapshots for a dashboard's first paint; `/ws` carries the updates."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.schemas import PricesResponse
from api.struct_schema import struct_json, struct_response

router = APIRouter(prefix="/stream", tags=["stream"], dependencies=[Depends(require_api_key)])


@router.get("/prices", responses=struct_response(PricesResponse))
async def get_prices(runtime: RuntimeDep) -> Response:
    """Every watched symbol (last/bid/ask/change, age, stale) and the market-data status that explains nulls."""
    return struct_json(PricesResponse(runtime.market.snapshot(), runtime.market.status()))
