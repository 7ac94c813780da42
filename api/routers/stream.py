"""Snapshots for a dashboard's first paint; `/ws` carries the updates."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.schemas import PricesResponse

router = APIRouter(prefix="/stream", tags=["stream"], dependencies=[Depends(require_api_key)])


@router.get("/prices")
async def get_prices(runtime: RuntimeDep) -> PricesResponse:
    """Every watched symbol (last/bid/ask/change, age, stale) and the market-data status that explains nulls."""
    return PricesResponse.of(runtime.market.snapshot(), runtime.market.status())
