"""`/options/*`: expirations, chains with greeks, the screen, Black-Scholes pricing, a stock plan expressed as
contracts, and option picks. Thin translators over OptionsService.

Taking a candidate is proposing its `order` through `POST /broker/orders` (then confirm), like any other order.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import API_ACTOR, require_api_key
from api.deps import RuntimeDep
from api.schemas import PROPOSAL_RESPONSES
from api.schemas_options import (
    ExpirationsResponse,
    ExpressResponse,
    HedgeResponse,
    OptionPick,
    OptionPicksResponse,
    ScreenResponse,
)
from api.struct_schema import struct_json, struct_response
from core.domain.access import check_account_read
from core.domain.market import normalize_symbol
from core.domain.options_express import ExpressPrefs, StockPlan
from core.domain.options_types import OptionChain, PriceResult, ScreenFilter, around_the_money
from core.domain.order_views import document
from core.domain.pick_views import PickView
from core.errors import CoreError, Invalid, RiskDenied
from core.runtime import Runtime

router = APIRouter(prefix="/options", tags=["options"], dependencies=[Depends(require_api_key)])


@router.get("/expirations/{symbol}", responses=struct_response(ExpirationsResponse))
async def get_expirations(symbol: str, runtime: RuntimeDep) -> Response:
    source, dates = await runtime.options.expirations(symbol)
    return struct_json(ExpirationsResponse(symbol=normalize_symbol(symbol), source=source, expirations=list(dates)))


@router.get("/chain/{symbol}", responses=struct_response(OptionChain))
async def get_chain(symbol: str, runtime: RuntimeDep, expiration: date | None = None,
                    strikes: Annotated[int | None, Query(ge=1, le=200, description="strikes nearest the money")]
                    = None) -> Response:
    chain = await runtime.options.chain(symbol, expiration)
    if strikes is not None:
        chain = msgspec.structs.replace(chain, contracts=around_the_money(chain, strikes))
    return struct_json(chain)


MIN_PRICE, MAX_PRICE = 0.0001, 10_000_000.0  # a tick below a dollar; the order validation's ceiling


class PriceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    underlying: float = Field(ge=MIN_PRICE, le=MAX_PRICE, description="the underlying's price")
    strike: float = Field(ge=MIN_PRICE, le=MAX_PRICE)
    expiration: date | None = None
    dte: int | None = Field(default=None, gt=0, le=3650, description="days to expiration (instead of expiration)")
    type: Literal["call", "put"]
    rate: float | None = Field(default=None, ge=-0.05, le=0.5,
                               description="risk-free rate, 0.04 = 4%; omit for OPTIONS_RISK_FREE_RATE")
    dividend_yield: float = Field(default=0.0, ge=0, le=0.5)
    iv: float | None = Field(default=None, gt=0, le=10, description="volatility, 0.25 = 25%: value the option")
    price: float | None = Field(default=None, ge=MIN_PRICE, le=MAX_PRICE,
                                description="option price: solve its implied volatility")


@router.post("/price", responses=struct_response(PriceResult))
async def post_price(body: PriceRequest, runtime: RuntimeDep) -> Response:
    if (body.expiration is None) == (body.dte is None):
        raise Invalid("give exactly one of expiration (YYYY-MM-DD) or dte", details={"field": "expiration"})
    years = runtime.options.years_to(body.expiration) if body.expiration else (body.dte or 0) / 365
    result = runtime.options.price(underlying=body.underlying, strike=body.strike, years=years,
                                   option_type=body.type, rate=body.rate, dividend_yield=body.dividend_yield,
                                   iv=body.iv, price=body.price)
    return struct_json(result)


@router.get("/screen", responses=struct_response(ScreenResponse))
async def get_screen(runtime: RuntimeDep, symbol: Annotated[str, Query(min_length=1, max_length=10)],  # noqa: PLR0917
                     type: Literal["call", "put"] | None = None,
                     delta_min: Annotated[float | None, Query(ge=0, le=1)] = None,
                     delta_max: Annotated[float | None, Query(ge=0, le=1)] = None,
                     dte_min: Annotated[int | None, Query(ge=0, le=3650)] = None,
                     dte_max: Annotated[int | None, Query(ge=0, le=3650)] = None,
                     max_spread_pct: Annotated[float | None, Query(gt=0, le=200)] = None,
                     min_open_interest: Annotated[int | None, Query(ge=0)] = None,
                     min_volume: Annotated[int | None, Query(ge=0)] = None,
                     limit: Annotated[int, Query(ge=1, le=50)] = 20) -> Response:
    spec = ScreenFilter(type=type, delta_min=delta_min, delta_max=delta_max, dte_min=dte_min, dte_max=dte_max,
                        max_spread_pct=max_spread_pct, min_open_interest=min_open_interest, min_volume=min_volume,
                        limit=limit)
    hits, chains = await runtime.options.screen(symbol, spec)
    return struct_json(ScreenResponse(symbol=normalize_symbol(symbol), source=chains[0].source,
                                expirations=[c.expiration for c in chains],
                                results=list(hits)))


class ExpressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=10, examples=["AAPL"])
    side: Literal["long", "short"]
    entry: float = Field(gt=0)
    stop: float = Field(gt=0)
    targets: list[float] = Field(default_factory=list, max_length=3)
    target_delta: float = Field(default=0.5, ge=0.05, le=0.95)
    dte_min: int = Field(default=0, ge=0, le=3650)
    dte_max: int = Field(default=45, ge=0, le=3650)
    max_spread_pct: float | None = Field(default=None, gt=0, le=200)
    structure: Literal["single", "vertical", "both"] = "both"
    candidates: int = Field(default=3, ge=1, le=10)
    equity: float | None = Field(default=None, gt=0, description="omit to use the broker's equity")
    confidence: float | None = Field(default=None, ge=0, le=1)


@router.post("/express", responses=struct_response(ExpressResponse))
async def post_express(body: ExpressRequest, runtime: RuntimeDep) -> Response:
    if body.equity is None:
        check_account_read(API_ACTOR, runtime.settings.traders, instead="Send equity to size without the account.")
    plan = StockPlan(side=body.side, entry=body.entry, stop=body.stop, targets=tuple(body.targets))
    prefs = ExpressPrefs(target_delta=body.target_delta, dte_min=body.dte_min, dte_max=body.dte_max,
                         max_spread_pct=body.max_spread_pct, structure=body.structure, candidates=body.candidates)
    result = await runtime.options.express(
        body.symbol, plan, prefs, equity=None if body.equity is None else str(body.equity),
        confidence=None if body.confidence is None else str(body.confidence))
    return struct_json(ExpressResponse(symbol=result.symbol, underlying_price=result.underlying_price,
                                 source=result.source, as_of=result.as_of, candidates=result.candidates,
                                 notes=result.notes))


class HedgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=10, description="a long stock position of 100+ shares")
    kind: Literal["put", "collar"] = Field(default="put", description="collar: also sell a call above the price")
    otm_pct: float = Field(default=5.0, ge=0, lt=50, description="how far below the price the floor sits, %")
    call_otm_pct: float = Field(default=5.0, ge=0, lt=50, description="collar: how far above the price the cap sits, %")
    min_dte: int = Field(default=30, ge=0, le=3650)


@router.post("/hedge", status_code=201, responses={**struct_response(HedgeResponse, 201), **PROPOSAL_RESPONSES})
async def post_hedge(body: HedgeRequest, runtime: RuntimeDep) -> Response:
    """Propose a protective put or a collar (one multileg order) for a long stock position; confirm it with
    POST /broker/orders/{id}/confirm."""
    hedge = await runtime.option_hedges.propose(API_ACTOR, body.symbol, kind=body.kind, otm_pct=body.otm_pct,
                                                call_otm_pct=body.call_otm_pct, min_dte=body.min_dte)
    proposal = hedge.proposal
    if proposal.denied:
        raise RiskDenied(proposal.risk.reason, details={"risk": document(proposal.risk)})
    return Response(msgspec.json.encode(HedgeResponse(
        effect=hedge.effect, expiration=hedge.expiration, underlying_price=hedge.underlying_price,
        intent=proposal.intent, preview=proposal.preview, risk=proposal.risk, token=proposal.token,
        mode=proposal.mode)), status_code=201, media_type="application/json")


@router.get("/picks", responses=struct_response(OptionPicksResponse))
async def get_option_picks(runtime: RuntimeDep, limit: int = Query(5, ge=1, le=10),
                           dte_max: int = Query(14, ge=0, le=365),
                           equity: float | None = Query(None, gt=0, description="omit to use the broker's equity"),
                           ) -> Response:
    """Today's live stock picks (forming or triggered), each expressed as its best contract, sized for the risk
    budget like POST /express (a trader's: the picks' sizes come from the account)."""
    page = await runtime.picks.top(limit=limit, sized=False)
    items = [await _option_pick(runtime, pick, dte_max, equity) for pick in page.items
             if pick.active]
    return struct_json(OptionPicksResponse(items=items, as_of=page.as_of))


async def _option_pick(runtime: Runtime, pick: PickView, dte_max: int, equity: float | None) -> OptionPick:
    plan = StockPlan(side="long" if pick.direction == "long" else "short", entry=float(pick.trigger),
                     stop=float(pick.stop), targets=tuple(float(t) for t in pick.targets))
    shown: dict[str, Any] = {"pick_id": pick.id, "symbol": pick.symbol, "setup": pick.setup,
                             "direction": pick.direction.value, "trigger": pick.trigger, "stop": pick.stop,
                             "targets": list(pick.targets), "status": pick.status.value}
    try:
        result = await runtime.options.express(pick.symbol, plan, ExpressPrefs(dte_max=dte_max, candidates=1),
                                               equity=None if equity is None else str(equity))
    except CoreError as exc:  # this pick has no contract to show; the others still do
        return OptionPick(**shown, candidate=None, note=exc.message)
    best = result.candidates[0] if result.candidates else None
    return OptionPick(**shown, candidate=best, note=None if best else "; ".join(result.notes))
