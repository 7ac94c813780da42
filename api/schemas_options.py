"""Response shapes of `/api/v1/options/*`: the core's msgspec values, composed where a route adds fields. Their
OpenAPI schemas are generated from these types (api.struct_schema)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from core.domain.options_express import Candidate
from core.domain.options_hedge import HedgeEffect
from core.domain.options_types import ScreenHit
from core.domain.order_views import Intent, RiskDecision
from core.domain.orders import PreviewView


class ExpirationsResponse(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    source: str
    expirations: list[date]


class ScreenResponse(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    source: str
    expirations: list[date | None]
    results: list[ScreenHit]


class ExpressResponse(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    underlying_price: float
    source: str
    as_of: datetime
    candidates: tuple[Candidate, ...]
    notes: tuple[str, ...]


class HedgeResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The hedge's effect and the order proposal (confirm it with POST /broker/orders/{id}/confirm)."""

    effect: HedgeEffect
    expiration: date
    underlying_price: float
    intent: Intent | None
    preview: PreviewView | None
    risk: RiskDecision
    token: str | None
    mode: str


class OptionPick(msgspec.Struct, frozen=True, kw_only=True):
    """A live stock pick and its best contract; `candidate` is null with `note` saying why when none fits."""

    pick_id: str
    symbol: str
    setup: str
    direction: str
    trigger: str
    stop: str
    targets: list[str]
    status: str
    candidate: Candidate | None
    note: str | None


class OptionPicksResponse(msgspec.Struct, frozen=True, kw_only=True):
    items: list[OptionPick]
    as_of: str
