"""Options use cases: expirations, chains with greeks, the screen, Black-Scholes pricing and a stock plan expressed
as contracts (sized from the trader's risk budget).

Source: Tradier (chains with ORATS greeks) when the broker is configured, else Polygon's option chain snapshot.
A Tradier chain that fails for a reason other than a hiccup falls back to Polygon when Polygon is configured.
Polygon answering 403 (the plan has no options data) is `IntegrationDisabled` naming the plan, never a 502.
Orders drafted here go through `OrderService.propose` / `confirm` like any other (`POST /api/v1/broker/orders`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol, TypeVar

import structlog

from core.domain.market import OptionContract, Quote, normalize_symbol
from core.domain.news import EarningsAnswer, EarningsDate
from core.domain.options_express import (
    Candidate,
    ExpressPrefs,
    StockPlan,
    express,
    sized,
    sizing_prices,
    with_earnings,
)
from core.domain.options_types import (
    DAYS_PER_YEAR,
    OptionChain,
    OptionRow,
    PriceResult,
    ScreenFilter,
    ScreenHit,
    mid_price,
)
from core.domain.plans import Instrument
from core.errors import CoreError, ExternalPermanent, IntegrationDisabled, Invalid, NotFound
from core.services.market import MarketService
from core.services.plans import PlanService, invalid_from_issues

log = structlog.get_logger("service.options")
T = TypeVar("T")

MAX_SCREEN_EXPIRATIONS = 8
POLYGON_MAX_CONTRACTS = 2000
_HOW_TO_ENABLE = ("set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID (chains with greeks), or POLYGON_API_KEY "
                  "with a Polygon (Massive) plan that includes options")
EarningsLookup = Callable[[Sequence[str], date, date], Awaitable[EarningsAnswer]]
EARNINGS_UNCHECKED = "earnings before expiration not checked: "
EARNINGS_LOOKAHEAD_DAYS = 120  # the calendars' widest window


class OptionsBroker(Protocol):
    """The market-data part of the Tradier adapter the options service reads."""

    async def quotes(self, symbols: Sequence[str]) -> list[Quote]: ...

    async def option_expirations(self, symbol: str) -> list[date]: ...

    async def option_chain(self, symbol: str, expiration: date, *, greeks: bool = True) -> list[OptionContract]: ...


@dataclass(frozen=True, slots=True)
class ExpressResult:
    symbol: str
    underlying_price: float
    source: str
    as_of: datetime
    candidates: tuple[Candidate, ...]
    notes: tuple[str, ...]


class OptionsService:
    def __init__(self, *, broker: OptionsBroker | None, market: MarketService, plans: PlanService,
                 polygon_enabled: bool, rate: float, earnings: EarningsLookup | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._broker = broker
        self.rate = rate
        self._earnings = earnings
        self._market = market
        self._plans = plans
        self._polygon = polygon_enabled
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self._broker is not None or self._polygon

    def _require(self) -> None:
        if not self.enabled:
            raise IntegrationDisabled("options_data", "neither Tradier nor Polygon is configured", _HOW_TO_ENABLE)

    @staticmethod
    def _entitlement(exc: ExternalPermanent) -> CoreError:
        details = exc.details if isinstance(exc.details, dict) else {}
        if details.get("http_status") == 403 or details.get("status") == "NOT_AUTHORIZED":
            return IntegrationDisabled(
                "options_data", f"the Polygon (Massive) plan does not include options data ({exc.message})",
                "upgrade the Polygon plan to one with options, or set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID")
        return exc

    async def _polygon_contracts(self, symbol: str, expiration: date | None) -> list[OptionContract]:
        try:
            return await self._market.options_chain(symbol, expiration=expiration,
                                                    max_contracts=POLYGON_MAX_CONTRACTS)
        except ExternalPermanent as exc:
            raise self._entitlement(exc) from exc

    async def _tradier(self, read: Callable[[OptionsBroker], Awaitable[T]]) -> T | None:
        """`read` against Tradier; None when Polygon should answer instead (Tradier not configured or refusing)."""
        if self._broker is None:
            return None
        try:
            return await read(self._broker)
        except (ExternalPermanent, IntegrationDisabled) as exc:
            if not self._polygon:
                raise
            log.warning("options.tradier_failed_using_polygon", error=exc.message)
            return None

    # -- reads -----------------------------------------------------------------------------------------------------

    async def expirations(self, symbol: str) -> tuple[str, list[date]]:
        """(source, listed expirations from today on)."""
        self._require()
        symbol = normalize_symbol(symbol)
        today = self.clock().date()
        dates = await self._tradier(lambda broker: broker.option_expirations(symbol))
        source = "tradier"
        if dates is None:
            source = "polygon"
            dates = sorted({c.expiration for c in await self._polygon_contracts(symbol, None)})
        return source, [day for day in dates if day >= today]

    async def contract_quote(self, option_symbol: str) -> Quote:
        """The live quote of one contract from Tradier (it quotes any contract it lists)."""
        if self._broker is None:
            raise IntegrationDisabled("broker", "taking a contract reads its live Tradier quote",
                                      "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID")
        quotes = await self._broker.quotes([option_symbol])
        if not quotes:
            raise NotFound(f"Tradier has no quote for {option_symbol}: is the contract listed?")
        return quotes[0]

    async def _underlying(self, symbol: str, source: str) -> float | None:
        try:
            if source == "tradier" and self._broker is not None:
                quotes = await self._broker.quotes([symbol])
                quote = quotes[0] if quotes else None
            else:
                quote = await self._market.quote(symbol)
        except CoreError as exc:
            log.info("options.underlying_quote_failed", symbol=symbol, error=exc.message)
            return None
        if quote is None:
            return None
        price = quote.last if quote.last is not None else mid_price(
            None if quote.bid is None else float(quote.bid), None if quote.ask is None else float(quote.ask))
        return None if price is None else float(price)

    async def chain(self, symbol: str, expiration: date | None = None) -> OptionChain:
        """One expiration's chain (the nearest listed one when not given), normalized, greeks filled in."""
        self._require()
        symbol = normalize_symbol(symbol)
        if expiration is None:
            _, listed = await self.expirations(symbol)
            if not listed:
                raise Invalid(f"no listed {symbol} expiration from today on", details={"field": "expiration"})
            expiration = listed[0]
        day = expiration
        contracts = await self._tradier(lambda broker: broker.option_chain(symbol, day, greeks=True))
        source = "tradier"
        if contracts is None:
            source = "polygon"
            contracts = await self._polygon_contracts(symbol, expiration)
        from core.domain.options import build_chain  # numpy/scipy load on first use, not at start-up
        return build_chain(symbol, contracts, underlying_price=await self._underlying(symbol, source),
                           source=source, as_of=self.clock(), rate=self.rate, expiration=expiration)

    async def screen(self, symbol: str, spec: ScreenFilter) -> tuple[list[ScreenHit], list[OptionChain]]:
        """The screen over every listed expiration in the DTE window (at most MAX_SCREEN_EXPIRATIONS)."""
        spec.check()
        chains = await self._window(symbol, spec.dte_min or 0, spec.dte_max)
        rows = [row for chain in chains for row in chain.contracts]
        from core.domain.options_screen import screen  # numpy loads on first use, not at start-up
        return screen(rows, spec), chains

    async def _window(self, symbol: str, dte_min: int, dte_max: int | None) -> list[OptionChain]:
        _, listed = await self.expirations(symbol)
        today = self.clock().date()
        wanted = [day for day in listed
                  if (day - today).days >= dte_min and (dte_max is None or (day - today).days <= dte_max)]
        if not wanted:
            raise Invalid(f"no listed {normalize_symbol(symbol)} expiration between {dte_min} and "
                          f"{'any' if dte_max is None else dte_max} days out", details={"field": "dte_min"})
        return [await self.chain(symbol, day) for day in wanted[:MAX_SCREEN_EXPIRATIONS]]

    # -- pricing ---------------------------------------------------------------------------------------------------

    def price(self, *, underlying: float, strike: float, years: float, option_type: Literal["call", "put"],
              rate: float | None = None, dividend_yield: float = 0.0, iv: float | None = None,
              price: float | None = None) -> PriceResult:
        """Value and greeks at `iv`, or the volatility implied by `price` and the greeks at it (exactly one);
        `rate` defaults to the configured risk-free rate."""
        if (iv is None) == (price is None):
            raise Invalid("give exactly one of iv (to value the option) or price (to solve its implied volatility)",
                          details={"field": "iv"})
        if years <= 0:
            raise Invalid("the option has expired: expiration must be after today (or dte above 0)",
                          details={"field": "expiration"})
        from core.domain.options_pricing import price_option  # numpy/scipy load on first use, not at start-up
        return price_option(underlying=underlying, strike=strike, years=years, call=option_type == "call",
                            rate=self.rate if rate is None else rate, dividend_yield=dividend_yield, iv=iv,
                            price=price)

    def years_to(self, expiration: date) -> float:
        return (expiration - self.clock().date()).days / DAYS_PER_YEAR

    async def _releases(self, symbol: str, expirations: Sequence[str]) -> tuple[list[EarningsDate], list[str]]:
        """`symbol`'s earnings up to the last expiration, and a note when they could not be checked."""
        if not expirations:
            return [], []
        if self._earnings is None:
            return [], [EARNINGS_UNCHECKED + "no earnings calendar in this process"]
        today = self.clock().date()
        last = min(max(date.fromisoformat(e) for e in expirations), today + timedelta(days=EARNINGS_LOOKAHEAD_DAYS))
        try:
            answer = await self._earnings([symbol], today, last)
        except CoreError as exc:
            return [], [EARNINGS_UNCHECKED + exc.message]
        if not any(source.state == "ok" for source in answer.sources):
            why = "; ".join(f"{s.source}: {s.reason or s.state}" for s in answer.sources) or "no calendar"
            return [], [EARNINGS_UNCHECKED + why]
        return list(answer.items), []

    # -- a plan as options -----------------------------------------------------------------------------------------

    async def express(self, symbol: str, plan: StockPlan, prefs: ExpressPrefs, *, equity: object = None,
                      confidence: object = None) -> ExpressResult:
        """Candidates for `plan`, each sized from the risk budget (PlanService.size, equity from the broker)."""
        plan.check()
        prefs.check()
        symbol = normalize_symbol(symbol)
        chains = await self._window(symbol, prefs.dte_min, prefs.dte_max)
        underlying = next((c.underlying_price for c in chains if c.underlying_price is not None), None)
        if underlying is None:
            raise IntegrationDisabled("options_data", f"no {symbol} quote to measure the plan's moves from",
                                      "check the market-data integration (Tradier or Polygon quotes)")
        rows: list[OptionRow] = [row for chain in chains for row in chain.contracts]
        out = []
        for candidate in express(plan, prefs, rows, underlying):
            entry, stop = sizing_prices(candidate)
            check = await self._plans.size(entry=entry, stop=stop, equity=equity, confidence=confidence,
                                           symbol=symbol, instrument=Instrument.OPTION)
            if check.result.sizing is None:
                raise invalid_from_issues(check.result.errors, "sizing")
            out.append(sized(candidate, check.result.sizing.quantity, check.result.summary))
        releases, unchecked = await self._releases(symbol, [c.expiration for c in out])
        out = [with_earnings(candidate, releases) for candidate in out]
        notes = [*unchecked, "risk at the stop and values at the targets are delta-gamma estimates from "
                             f"the underlying at {underlying:g} (no time decay or volatility change)"]
        if abs(plan.entry - underlying) / underlying > 0.01:
            notes.append(f"the plan's entry {plan.entry:g} is more than 1% from the quoted {underlying:g}; moves "
                         "are measured from the quote")
        if not out:
            notes.append("no contract matched: widen the DTE window or the spread limit")
        return ExpressResult(symbol, underlying, chains[0].source, chains[0].as_of, tuple(out), tuple(notes))
