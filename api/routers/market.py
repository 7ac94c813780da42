"""Market data: quote, bars, market status and news (Polygon through MarketService). Watchlist is in settings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.schemas import BarsResponse, MarketStatusResponse, NewsResponse, QuoteResponse
from api.struct_schema import struct_json, struct_response
from core.domain.market import normalize_symbol
from core.errors import Invalid

router = APIRouter(prefix="/market", tags=["market"], dependencies=[Depends(require_api_key)])

Timespan = Literal["minute", "day"]


@router.get("/quote/{symbol}")
async def get_quote(symbol: str, runtime: RuntimeDep) -> QuoteResponse:
    return QuoteResponse.of(await runtime.market.quote(symbol))


@router.get("/bars/{symbol}")
async def get_bars(symbol: str, runtime: RuntimeDep, timespan: Timespan = "minute",
                   limit: Annotated[int, Query(ge=1, le=5000)] = 100) -> BarsResponse:
    bars = await runtime.market.bars(symbol, timespan=timespan, limit=limit)
    return BarsResponse.of(normalize_symbol(symbol), timespan, bars)


@router.get("/status")
async def get_market_status(runtime: RuntimeDep) -> MarketStatusResponse:
    return MarketStatusResponse.of(await runtime.market.market_status())


@router.get("/news", responses=struct_response(NewsResponse))
async def get_news(runtime: RuntimeDep, symbol: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    items = await runtime.market.news(symbol or None, limit=limit)
    return struct_json(NewsResponse(normalize_symbol(symbol) if symbol else None, items))


@router.get("/quote/", include_in_schema=False)
@router.get("/bars/", include_in_schema=False)
async def missing_symbol() -> None:
    """`/market/quote/` (an empty symbol) is bad input, not an unknown route."""
    raise Invalid("a symbol is required, e.g. /market/quote/SPY", details={"field": "symbol"})
