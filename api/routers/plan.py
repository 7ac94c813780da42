"""`POST /plan/validate` and `POST /sizing/suggest`: thin translators over PlanService.

Request fields accept raw JSON values (numbers or numeric strings): the domain parsers decide what is valid, so
the REST API, the bots and the coach refuse the same inputs in the same words. Errors are the standard 422 body,
one `{field, message, code}` per problem; money and prices leave as plain-notation strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.auth import API_ACTOR, require_api_key
from api.schemas import json_response
from core.domain.access import check_account_read
from core.domain.plans import Issue, MarketContext
from core.runtime import Runtime
from core.services.plans import PlanCheck, SizeCheck, invalid_from_issues


async def _runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs a sync dependency (api.deps.get_runtime) in the thread pool, a thread hop
    per request that dominates these sub-millisecond endpoints."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
router = APIRouter(tags=["plan"], dependencies=[Depends(require_api_key)])

# Fields are taken as sent and parsed (and refused with a reason) by the domain; their schema says what it accepts.
RawNumber = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]})]
Side = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string", "enum": ["long", "short"]}, {"type": "null"}]})]
Instrument = Annotated[Any, WithJsonSchema({"type": "string", "enum": ["stock", "option"]})]
Hold = Annotated[Any, WithJsonSchema({"type": "string", "enum": ["day", "overnight"]})]


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    side: Side = Field(default=None, description="long | short", examples=["long"])
    entry: RawNumber = Field(default=None, examples=["190.50"])
    stop: RawNumber = Field(default=None, examples=["189.80"])
    targets: list[RawNumber] = Field(default_factory=list, description="0-3 prices", examples=[["192.00"]])
    symbol: str | None = Field(default=None, examples=["AAPL"])
    instrument: Instrument = Field(default="stock", description="stock | option (prices are premiums)")
    hold: Hold = Field(default="day", description="day | overnight: earnings inside the hold warn")


class SizingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry: RawNumber = Field(default=None, examples=["190.50"])
    stop: RawNumber = Field(default=None, examples=["189.80"])
    confidence: RawNumber = Field(default=None, description="0-1; scales the risk budget between 0.5x and 1x")
    equity: RawNumber = Field(default=None, description="omit to use the broker's equity")
    buying_power: RawNumber = None
    risk_per_trade_pct: RawNumber = Field(default=None, description="percent: 1 means 1%; default from settings")
    symbol: str | None = None
    instrument: Instrument = Field(default="stock", description="stock | option (entry/stop are premiums, x100)")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _issues(issues: tuple[Issue, ...]) -> list[dict[str, str | None]]:
    return [issue.to_dict() for issue in issues]


def _market(context: MarketContext | None, source: str | None) -> dict[str, Any] | None:
    if context is None:
        return None
    return {"last": _s(context.last), "bid": _s(context.bid), "ask": _s(context.ask),
            "quote_age_sec": None if context.quote_age_sec is None else round(context.quote_age_sec, 3),
            "stale": context.stale, "market_open": context.market_open, "source": source}


def render_plan(check: PlanCheck) -> dict[str, Any]:
    result = check.result
    plan = result.plan
    assert plan is not None
    return {
        "ok": True,
        "plan": {"symbol": plan.symbol, "side": plan.side.value, "instrument": plan.instrument.value,
                 "entry": _s(plan.entry), "stop": _s(plan.stop), "targets": [_s(t) for t in plan.targets]},
        "risk_per_share": _s(result.risk_per_share),
        "risk_per_unit": _s(result.risk_per_unit),
        "risk_pct": _s(result.risk_pct),
        "targets": [{"price": _s(price), "r": _s(r)} for price, r in zip(plan.targets, result.target_r, strict=True)],
        "r_bands": [{"r": band.r, "price": _s(band.price)} for band in result.r_bands],
        "reward_risk": _s(result.reward_risk),
        "default_rr": _s(result.default_rr),
        "errors": [],
        "warnings": _issues(result.warnings),
        "summary": result.summary,
        "market": _market(check.market, check.market_source),
        "notes": list(check.notes),
    }


def render_sizing(check: SizeCheck) -> dict[str, Any]:
    result = check.result
    sizing = result.sizing
    assert sizing is not None
    return {
        "ok": True,
        "side": sizing.side.value, "instrument": sizing.instrument.value, "symbol": sizing.symbol,
        "entry": _s(sizing.entry), "stop": _s(sizing.stop),
        "quantity": sizing.quantity, "unit": sizing.unit, sizing.unit: sizing.quantity,
        "risk_per_unit": _s(sizing.risk_per_unit),
        "risk_budget": _s(sizing.risk_budget),
        "risk_amount": _s(sizing.risk_amount),
        "notional": _s(sizing.notional),
        "pct_of_equity": _s(sizing.pct_of_equity),
        "risk_pct_of_equity": _s(sizing.risk_pct_of_equity),
        "equity": _s(sizing.equity), "buying_power": _s(sizing.buying_power),
        "risk_per_trade_pct": _s(sizing.risk_per_trade_pct),
        "confidence": _s(sizing.confidence), "confidence_scale": _s(sizing.confidence_scale),
        "limited_by": sizing.limited_by.value,
        "caps": [{"name": name.value, "quantity": quantity} for name, quantity in sizing.caps],
        "account": check.account,
        "warnings": _issues(result.warnings),
        "summary": result.summary,
    }


@router.post("/plan/validate", response_model=dict[str, Any])
async def validate(body: PlanRequest, runtime: RuntimeDep) -> Response:
    """Risk per share, R multiples, R bands, warnings and a summary; with market data, live-quote checks."""
    check = await runtime.plans.validate(side=body.side, entry=body.entry, stop=body.stop, targets=body.targets,
                                         symbol=body.symbol, instrument=body.instrument, hold=body.hold)
    if not check.result.ok:
        raise invalid_from_issues(check.result.errors, "plan")
    return json_response(render_plan(check))


@router.post("/sizing/suggest", response_model=dict[str, Any])
async def suggest(body: SizingRequest, runtime: RuntimeDep) -> Response:
    """Shares (or contracts) for a plan under the risk limits; `limited_by` names the cap that bound. Without
    `equity` the broker's is read, which needs `api` in TRADERS."""
    if body.equity is None:
        check_account_read(API_ACTOR, runtime.settings.traders, instead="Send equity to size without the account.")
    check = await runtime.plans.size(entry=body.entry, stop=body.stop, confidence=body.confidence,
                                     equity=body.equity, buying_power=body.buying_power,
                                     risk_per_trade_pct=body.risk_per_trade_pct, symbol=body.symbol,
                                     instrument=body.instrument)
    if not check.result.ok:
        raise invalid_from_issues(check.result.errors, "sizing")
    return json_response(render_sizing(check))
