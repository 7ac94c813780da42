"""The coach's option tools: `options_chain` (the chain around the money) and `express_plan` (a stock plan as
contracts). Both only read and draft: an express-plan candidate carries the order the trader could propose, and
nothing here proposes or places it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec
from pydantic import Field, field_validator

from core.domain.coach import Source
from core.domain.options_express import ExpressPrefs, StockPlan
from core.domain.options_types import around_the_money
from core.services.coach_args import _SymbolArgs
from core.services.coach_deps import OptionsReader

CHAIN_STRIKES = 8


class OptionsChainArgs(_SymbolArgs):
    expiration: date | None = Field(default=None, description="YYYY-MM-DD; omit for the nearest expiration")
    strikes: int = Field(default=CHAIN_STRIKES, ge=1, le=20, description="strikes nearest the money")


class ExpressPlanArgs(_SymbolArgs):
    side: Literal["long", "short"]
    entry: float = Field(gt=0, le=1_000_000)
    stop: float = Field(gt=0, le=1_000_000)
    targets: list[float] = Field(default_factory=list, max_length=3)
    target_delta: float = Field(default=0.5, ge=0.05, le=0.95)
    dte_min: int = Field(default=0, ge=0, le=3650)
    dte_max: int = Field(default=45, ge=0, le=3650)
    structure: Literal["single", "vertical", "both"] = "both"
    equity: float | None = Field(default=None, gt=0, description="only when the broker is not connected")

    @field_validator("targets")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(not 0 < target <= 1_000_000 for target in value):
            raise ValueError("targets must be prices above zero")
        return value


async def options_chain(options: OptionsReader, args: OptionsChainArgs) -> tuple[dict[str, Any], tuple[Source, ...]]:
    chain = await options.chain(args.symbol, args.expiration)
    near = msgspec.structs.replace(chain, contracts=around_the_money(chain, args.strikes))
    result: dict[str, Any] = msgspec.to_builtins(near)
    return result, (Source("options_chain", f"{chain.source}:options_chain", chain.as_of),)


async def express_plan(options: OptionsReader, args: ExpressPlanArgs) -> tuple[dict[str, Any], tuple[Source, ...]]:
    plan = StockPlan(side=args.side, entry=args.entry, stop=args.stop, targets=tuple(args.targets))
    prefs = ExpressPrefs(target_delta=args.target_delta, dte_min=args.dte_min, dte_max=args.dte_max,
                         structure=args.structure)
    result = await options.express(args.symbol, plan, prefs,
                                   equity=None if args.equity is None else str(args.equity))
    body: dict[str, Any] = msgspec.to_builtins({
        "symbol": result.symbol, "underlying_price": result.underlying_price, "candidates": result.candidates,
        "notes": result.notes,
        "drafts_only": "each candidate's `order` is a draft the trader proposes and confirms; nothing was sent"})
    return body, (Source("express_plan", f"{result.source}:options_chain", result.as_of),)

