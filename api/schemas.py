"""Domain -> JSON for the REST API: pure functions and response DTOs, no I/O.

Money and prices leave as strings (``Decimal`` rendered in plain notation, never a float), times as ISO-8601
UTC; an unknown value is ``null``, never a made-up number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import orjson
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from core.domain.market import Bar, MarketStatus, Quote
from core.domain.market_views import Headline, MarketDataStatus, WatchedPrice
from core.domain.order_views import AccountOrder, BlotterItem, Intent, PositionItem, document
from core.errors import RiskDenied
from core.services.orders import ProposeResult

_PCT = Decimal("0.01")


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(body: Any, status_code: int = 200) -> Response:
    """A body encoded once with orjson (dataclasses as objects, Decimals as strings in their own notation).
    Returning a Response skips FastAPI's response serialization pass (the route keeps its `response_model` for the
    OpenAPI docs)."""
    return Response(orjson.dumps(body, default=_decimal), status_code=status_code, media_type="application/json")


PROPOSAL_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "risk denied the order (`risk_denied`, the decision in `details.risk`)"}}


def proposal_response(result: ProposeResult, status: int) -> Response:
    """A proposal as the API answers it: the intent to confirm, or a 403 `risk_denied` with the decision."""
    if result.denied:
        raise RiskDenied(result.risk.reason, details={"risk": document(result.risk), "mode": result.mode})
    return json_response(result, status)


def partial_model(model: type[BaseModel], **nested: type[BaseModel]) -> type[BaseModel]:
    """`model` as the body of a partial update: every field may be left out (its None default means "not sent"
    and is never validated), none may be null, each keeps its type and bounds so the OpenAPI says what is
    accepted; `nested` replaces a section's model by its own partial one. The service merging the update
    validates the result in full (cross-field rules included)."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation: Any = nested.get(name, info.annotation)
        if info.metadata and name not in nested:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = (annotation, Field(default=None, description=info.description))
    partial: type[BaseModel] = create_model(f"{model.__name__}Patch", __config__=ConfigDict(extra="forbid"),
                                            **fields)
    return partial


def money(value: Decimal | None) -> str | None:
    """`Decimal` -> plain-notation string (`1E+2` would confuse a client), None stays None."""
    return None if value is None else format(value, "f")


def utc(value: datetime | None) -> str | None:
    """Aware datetime -> ISO-8601 in UTC; None stays None."""
    return None if value is None else value.astimezone(UTC).isoformat()


class QuoteResponse(BaseModel):
    symbol: str
    last: str | None
    bid: str | None
    ask: str | None
    bid_size: int | None
    ask_size: int | None
    prev_close: str | None
    change: str | None
    change_pct: str | None
    spread: str | None
    ts: str | None
    source: str

    @classmethod
    def of(cls, quote: Quote) -> QuoteResponse:
        pct = quote.change_pct
        return cls(symbol=quote.symbol, last=money(quote.last), bid=money(quote.bid), ask=money(quote.ask),
                   bid_size=quote.bid_size, ask_size=quote.ask_size, prev_close=money(quote.prev_close),
                   change=money(quote.change), change_pct=money(None if pct is None else pct.quantize(_PCT)),
                   spread=money(quote.spread), ts=utc(quote.ts), source=quote.source)


class BarResponse(BaseModel):
    start: str
    open: str
    high: str
    low: str
    close: str
    volume: int
    vwap: str | None

    @classmethod
    def of(cls, bar: Bar) -> BarResponse:
        return cls(start=utc(bar.start) or "", open=format(bar.open, "f"), high=format(bar.high, "f"),
                   low=format(bar.low, "f"), close=format(bar.close, "f"), volume=bar.volume,
                   vwap=money(bar.vwap))


class BarsResponse(BaseModel):
    symbol: str
    timespan: str
    items: list[BarResponse]

    @classmethod
    def of(cls, symbol: str, timespan: str, bars: list[Bar]) -> BarsResponse:
        return cls(symbol=symbol, timespan=timespan, items=[BarResponse.of(bar) for bar in bars])


class MarketStatusResponse(BaseModel):
    session: str
    is_open: bool
    early_hours: bool
    after_hours: bool
    server_time: str | None
    exchanges: dict[str, str]
    source: str

    @classmethod
    def of(cls, status: MarketStatus) -> MarketStatusResponse:
        return cls(session=status.session.value, is_open=status.is_open, early_hours=status.early_hours,
                   after_hours=status.after_hours, server_time=utc(status.server_time),
                   exchanges=dict(status.exchanges), source=status.source)


class NewsResponse(msgspec.Struct, frozen=True):
    symbol: str | None
    items: list[Headline]


class PricesResponse(msgspec.Struct, frozen=True):
    """The first paint of the watchlist: every watched symbol, and the market-data integration's status."""

    items: list[WatchedPrice]
    market_data: MarketDataStatus


class PositionsResponse(BaseModel):
    """Open positions, valued at the last price; `as_of` (streams only) is when the tracker last read them."""

    items: list[PositionItem]
    mode: str
    as_of: str | None = None


class BrokerOrdersResponse(BaseModel):
    """Today's orders as the broker has them (ours and manual ones)."""

    items: list[AccountOrder]
    mode: str


class BlotterResponse(BaseModel):
    """Today's blotter: broker orders, then intents not (yet) at the broker."""

    items: list[BlotterItem]
    mode: str


class IntentResponse(BaseModel):
    intent: Intent
