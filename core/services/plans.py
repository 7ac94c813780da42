"""Plan validation and position sizing as use cases: the domain math (core/domain/plans.py, sizing.py) plus the
trader's settings, the market context of the symbol, and the broker's equity when the caller gives none.

Outcomes are values (`PlanCheck`, `SizeCheck`); `invalid_from_issues` turns a result's errors into the one
`Invalid` every front-end renders (a 422 naming each field and what would be valid).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import structlog
from prometheus_client import Histogram

from core.domain.confidence import (
    Confidence,
    Factor,
    freshness,
    liquidity,
    plan_quality,
    risk_headroom,
    score_confidence,
)
from core.domain.news import Hold
from core.domain.plans import Instrument, Issue, MarketContext, PlanResult, parse_choice, parse_symbol, validate_plan
from core.domain.sizing import SizingResult, suggest_size
from core.errors import CoreError, Invalid
from core.services.market import MarketService
from core.services.news import NewsService
from core.services.risk import RiskService, limits_from
from core.services.settings import SettingsService, Tunables

log = structlog.get_logger("service.plans")

PLAN_COMPUTE = Histogram("tradeassist_plan_compute_seconds", "A plan validated: request to result (quote included)",
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2.5, 5))
QUOTE_TIMEOUT_SEC = 2.0
SETTINGS_TTL_SEC = 1.0


NO_ACCOUNT = "no sizing or risk headroom: they read the account, which only traders (TRADERS) may see"


def invalid_from_issues(errors: Sequence[Issue], what: str) -> Invalid:
    details = [{"field": e.field or "body", "message": e.message, "code": e.code} for e in errors]
    return Invalid(f"{what} not valid: " + "; ".join(e.message for e in errors),
                   details=details)


@dataclass(frozen=True, slots=True)
class PlanCheck:
    result: PlanResult
    market: MarketContext | None = None
    market_source: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SizeCheck:
    result: SizingResult
    account: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlanOffer:
    """A valid plan as every surface's reply offers it: the sizing and the risk headroom only where the actor may
    read the account, and "Take setup" only when the plan sizes to at least one unit; `notes` say what is missing."""

    check: PlanCheck
    confidence: Confidence
    sizing: SizeCheck | None
    notes: tuple[str, ...]

    @property
    def take(self) -> bool:
        sized = self.sizing.result.sizing if self.sizing is not None else None
        return sized is not None and sized.quantity >= 1


class PlanService:
    def __init__(self, settings_service: SettingsService, risk: RiskService, market: MarketService | None = None,
                 *, market_enabled: bool = False, quote_timeout: float = QUOTE_TIMEOUT_SEC,
                 news: NewsService | None = None) -> None:
        self.settings_service = settings_service
        self.news = news
        self.risk = risk
        self.market = market
        self.market_enabled = market_enabled and market is not None
        self.quote_timeout = quote_timeout
        self._tunables: Tunables | None = None
        self._tunables_at = 0.0
        settings_service.on_change(self._settings_changed)

    async def _settings_changed(self, tunables: Tunables, _changed: set[str]) -> None:
        self._tunables, self._tunables_at = tunables, time.monotonic()

    async def tunables(self) -> Tunables:
        """The trader's settings, re-read at most every SETTINGS_TTL_SEC (edits in this process apply at once;
        edits made by another process within a second)."""
        if self._tunables is None or time.monotonic() - self._tunables_at > SETTINGS_TTL_SEC:
            self._tunables, self._tunables_at = await self.settings_service.get(), time.monotonic()
        return self._tunables

    async def _context(self, symbol: str | None, instrument: object) -> tuple[MarketContext | None, str | None,
                                                                             list[str]]:
        parsed = parse_symbol(symbol) if isinstance(symbol, str) else None
        if not isinstance(parsed, str):
            return None, None, []
        if not self.market_enabled or self.market is None:
            return None, None, ["market data is disabled, so the plan was not checked against the live quote"]
        if parse_choice("instrument", instrument, Instrument) is Instrument.OPTION:
            return None, None, ["market context is checked for stock plans only (option prices are premiums)"]
        try:
            quote = await asyncio.wait_for(self.market.quote(parsed), self.quote_timeout)
        except TimeoutError:
            return None, None, [f"no quote for {parsed} within {self.quote_timeout:.0f}s; market checks skipped"]
        except CoreError as exc:
            log.info("plan.quote_failed", symbol=parsed, error=exc.message)
            return None, None, [f"no quote for {parsed} ({exc.message}); market checks skipped"]
        context = MarketContext.from_quote(quote, now=datetime.now(UTC), market_open=self.market.market_open())
        return context, quote.source, []

    async def validate(self, *, side: object, entry: object, stop: object, targets: Sequence[object] = (),
                       symbol: str | None = None, instrument: object = Instrument.STOCK,
                       hold: object = Hold.DAY) -> PlanCheck:
        """`hold` (day | overnight) is how long the trade is meant to be held: earnings inside it warn."""
        with PLAN_COMPUTE.time():
            return await self._validate(side=side, entry=entry, stop=stop, targets=targets, symbol=symbol,
                                        instrument=instrument, hold=hold)

    async def _validate(self, *, side: object, entry: object, stop: object, targets: Sequence[object],
                        symbol: str | None, instrument: object, hold: object) -> PlanCheck:
        held = parse_choice("hold", hold, Hold)
        if isinstance(held, Issue):
            raise invalid_from_issues([held], "plan")
        tunables = await self.tunables()
        context, source, notes = await self._context(symbol, instrument)
        result = validate_plan(side=side, entry=entry, stop=stop, targets=targets, symbol=symbol,
                               instrument=instrument, default_rr=tunables.default_rr, market=context)
        parsed = parse_symbol(symbol) if isinstance(symbol, str) else None
        if self.news is not None and not result.errors and isinstance(parsed, str):
            minutes = tunables.news_breaking_minutes
            known = self.news.cached_plan_warnings(parsed, held, minutes)  # the common case: no await at all
            extra, more_notes = known if known is not None else await self._news_warnings(
                self.news, parsed, held, minutes, self.quote_timeout)
            if extra:
                result = msgspec.structs.replace(result, warnings=result.warnings + tuple(extra))
            notes += more_notes
        return PlanCheck(result, context, source, tuple(notes))

    @staticmethod
    async def _news_warnings(news: NewsService, symbol: str, hold: Hold, minutes: int,
                             timeout: float) -> tuple[list[Issue], list[str]]:
        try:
            return await asyncio.wait_for(news.plan_warnings(symbol, hold, minutes), timeout)
        except TimeoutError:
            return [], [f"earnings and news not checked: no answer within {timeout:.0f}s"]
        except CoreError as exc:
            log.info("plan.news_failed", symbol=symbol, error=exc.message)
            return [], [f"earnings and news not checked ({exc.message})"]

    async def offer(self, check: PlanCheck, *, account: bool) -> PlanOffer:
        """What a reply to a valid plan offers; `account`: the actor may read the account (a trader)."""
        plan = check.result.plan
        assert plan is not None, "PlanService.validate refuses an invalid plan"
        confidence = await self._confidence(check, account=account)  # first: sizing reuses the balances it read
        sizing, missing = None, [NO_ACCOUNT]
        if account:
            try:
                sizing, missing = await self.size(entry=plan.entry, stop=plan.stop, symbol=plan.symbol), []
            except CoreError as exc:
                missing = [f"no sizing: {exc.message}"]
        return PlanOffer(check, confidence, sizing, (*check.notes, *missing))

    async def _confidence(self, check: PlanCheck, *, account: bool) -> Confidence:
        """The plan's quality and what is known right now: quote freshness and spread, and the risk headroom when
        the account may be read. Unknown evidence is left out, never guessed."""
        factors: list[Factor | None] = [plan_quality(check.result)]
        if check.market is not None:
            factors += [freshness(check.market.quote_age_sec), liquidity(check.market.bid, check.market.ask)]
        if account and self.risk.enabled:
            with contextlib.suppress(CoreError):
                state, _ = await self.risk.current()
                factors.append(risk_headroom(state))
        return score_confidence(factors)

    async def size(self, *, entry: object, stop: object, confidence: object = None, equity: object = None,
                   buying_power: object = None, risk_per_trade_pct: object = None, symbol: str | None = None,
                   instrument: object = Instrument.STOCK) -> SizeCheck:
        """Without `equity`, equity (and buying power unless given) come from the broker's balances, labelled
        `source: broker`; without a broker that is an Invalid asking for equity."""
        account: dict[str, Any] = {"source": "request"}
        if equity is None:
            if not self.risk.enabled:
                raise Invalid("equity is needed: the broker is not configured, so send equity (and buying_power)",
                              details=[{"field": "equity", "code": "missing",
                                        "message": "equity is needed because the broker is not configured "
                                                   f"({self.risk.disabled_reason}); send a number greater than 0"}])
            balances, read_at = await self.risk.balances()
            equity = balances.equity
            account = {"source": "broker", "equity": str(balances.equity), "as_of": read_at.isoformat(),
                       "buying_power_source": "request" if buying_power is not None else "broker"}
            if buying_power is None:
                buying_power = balances.buying_power
            account["buying_power"] = str(buying_power) if isinstance(buying_power, Decimal) else buying_power
        limits = limits_from(await self.tunables())
        result = suggest_size(entry=entry, stop=stop, limits=limits, equity=equity, buying_power=buying_power,
                              confidence=confidence, risk_per_trade_pct=risk_per_trade_pct, instrument=instrument,
                              symbol=symbol)
        return SizeCheck(result, account)
