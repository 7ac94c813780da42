"""A symbol's chart: Polygon candles, session VWAP, prior-day high/low, opening range and the trader's levels.
Live updates are the `/ws` `price` events (the page folds them into the last candle)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import require_api_key
from api.deps import RuntimeDep
from core.services.chart import MAX_MULTIPLIER, Chart, Timespan

router = APIRouter(prefix="/chart", tags=["chart"], dependencies=[Depends(require_api_key)])


@router.get("/{symbol}", response_model=Chart)
async def get_chart(symbol: str, runtime: RuntimeDep, timespan: Timespan = "minute",
                    multiplier: Annotated[int, Query(ge=1, le=MAX_MULTIPLIER,
                                                     description="minutes (or days) per candle")] = 1,
                    days: Annotated[int, Query(ge=1, le=1000, description="sessions of minute candles (1-10), "
                                                                          "or daily candles (1-1000)")] = 1) -> Chart:
    """Candles' ``t`` is epoch seconds (UTC); without market data: 503 with how to enable it."""
    return await runtime.chart.chart(symbol, timespan=timespan, multiplier=multiplier, days=days)
