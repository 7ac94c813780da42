"""Response models of `/api/v1/options/*` (OpenAPI); the routes encode the core's msgspec values directly."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from core.domain.order_views import Intent, RiskDecision
from core.domain.orders import PreviewView


class ContractModel(BaseModel):
    option_symbol: str
    type: Literal["call", "put"]
    strike: float
    expiration: date
    dte: int
    bid: float | None
    ask: float | None
    mid: float | None
    last: float | None
    volume: int | None
    open_interest: int | None
    iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    spread_pct: float | None
    greeks_source: Literal["vendor", "computed", "none"]
    greeks_note: str | None = None


class ExpirationsResponse(BaseModel):
    symbol: str
    source: str
    expirations: list[date]


class ChainResponse(BaseModel):
    symbol: str
    expiration: date | None
    underlying_price: float | None
    source: str
    as_of: datetime
    contracts: list[ContractModel]


class ScreenHitModel(BaseModel):
    contract: ContractModel
    reason: str


class ScreenResponse(BaseModel):
    symbol: str
    source: str
    expirations: list[date]
    results: list[ScreenHitModel]


class PriceResponse(BaseModel):
    value: float | None
    iv: float | None
    iv_solved: bool
    iv_note: str | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    rho: float | None
    years: float
    model: str


class LegModel(BaseModel):
    option_symbol: str
    side: Literal["buy_to_open", "sell_to_open"]
    type: str
    strike: float
    bid: float | None
    ask: float | None
    delta: float | None
    greeks_source: str


class TargetValueModel(BaseModel):
    target: float
    value: float
    pnl_per_contract: float


class CandidateModel(BaseModel):
    structure: Literal["single", "vertical"]
    legs: list[LegModel]
    expiration: str
    dte: int
    premium: float
    cost_per_contract: float
    value_at_stop: float
    risk_per_contract: float
    targets: list[TargetValueModel]
    breakeven: float
    max_gain_per_contract: float | None
    warnings: list[str]
    contracts: int
    dollar_risk: float
    sizing: str
    order: dict[str, Any] | None


class ExpressResponse(BaseModel):
    symbol: str
    underlying_price: float
    source: str
    as_of: datetime
    candidates: list[CandidateModel]
    notes: list[str]


class HedgeEffectModel(BaseModel):
    """`net_premium`/`cost` are negative for a collar that takes in more than it pays; a put has no cap or call."""

    kind: Literal["put", "collar"]
    put: ContractModel
    call: ContractModel | None
    contracts: int
    shares_covered: int
    unhedged_shares: int
    premium: float
    call_premium: float | None
    net_premium: float
    cost: float
    floor: float
    cap: float | None
    max_loss: float
    max_gain: float | None
    breakeven: float


class HedgeResponse(BaseModel):
    effect: HedgeEffectModel
    expiration: date
    underlying_price: float
    intent: Intent | None
    preview: PreviewView | None
    risk: RiskDecision
    token: str | None
    mode: str


class OptionPickModel(BaseModel):
    """A live stock pick and its best contract; `candidate` is null with `note` saying why when none fits."""

    pick_id: str
    symbol: str
    setup: str
    direction: str
    trigger: str
    stop: str
    targets: list[str]
    status: str
    candidate: CandidateModel | None
    note: str | None


class OptionPicksResponse(BaseModel):
    items: list[OptionPickModel]
    as_of: str
