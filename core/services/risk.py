"""Risk use cases: read the account from the Broker port, evaluate the limits, keep the latest state, and gate
every order (`check`).

    service = RiskService(broker=broker, settings_service=settings, market=market, eval_sec=5)
    state = await service.evaluate()         # reads balances, positions, today's orders; live prices
    decision = await service.check(order)    # Approved | Denied(code, reason); re-evaluates when stale

Live prices come from the market stream (no I/O) and, for symbols it does not cover (options, unwatched
symbols), from one batched broker quote call. Trades today and the loss streak are rebuilt from today's filled
orders (`day_trades`). Without a broker every read raises IntegrationDisabled and `check` denies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import structlog

from core.domain.day_trades import day_trades
from core.domain.market import Quote
from core.domain.orders import Balances, OrderRequest, Position
from core.domain.risk import AccountSnapshot, Decision, Denied, RiskLimits, RiskState, check_order, evaluate_risk
from core.domain.risk_view import RiskStateView
from core.domain.valuation import DEFAULT_COLLAR_PCT
from core.errors import CoreError, IntegrationDisabled
from core.ports import Broker
from core.services.market import MarketService
from core.services.settings import SettingsService, Tunables

log = structlog.get_logger("service.risk")

BROKER_HOW_TO_ENABLE = "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID (and TRADIER_ENV) and restart"


@runtime_checkable
class BatchQuotes(Protocol):
    """A broker that can quote many symbols in one call (TradierBroker.quotes)."""

    async def quotes(self, symbols: Sequence[str]) -> list[Quote]: ...


def limits_from(tunables: Tunables) -> RiskLimits:
    return RiskLimits(**tunables.risk.model_dump(), default_rr=tunables.default_rr)


# -- the service ------------------------------------------------------------------------------------------------


class RiskService:
    """Holds the latest state and the account it was computed from; `check` is the single order gate."""

    def __init__(self, *, broker: Broker | None, settings_service: SettingsService,
                 market: MarketService | None = None, eval_sec: float = 5.0,
                 disabled_reason: str = "the broker is not configured",
                 how_to_enable: str = BROKER_HOW_TO_ENABLE, collar_pct: Decimal = DEFAULT_COLLAR_PCT,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.broker = broker
        self.settings_service = settings_service
        self.market = market
        self.eval_sec = eval_sec
        self.disabled_reason = disabled_reason
        self.how_to_enable = how_to_enable
        self.collar_pct = collar_pct
        self._clock = clock
        self.latest: RiskState | None = None
        self.account: AccountSnapshot | None = None
        self.error: RiskStateView | None = None
        self._evaluated_at = 0.0
        self._balances_at = 0.0
        self._balances_read_at = clock()
        self._notes: list[str] = []
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.broker is not None

    def _require(self) -> Broker:
        if self.broker is None:
            raise IntegrationDisabled("broker", self.disabled_reason, self.how_to_enable)
        return self.broker

    async def limits(self) -> RiskLimits:
        return limits_from(await self.settings_service.get())

    # -- reads -----------------------------------------------------------------------------------------------

    async def balances(self, *, max_age: float | None = None) -> tuple[Balances, datetime]:
        """Account balances and when they were read: the last evaluation's when younger than `max_age`
        (default RISK_EVAL_SEC), else a fresh broker read."""
        broker = self._require()
        limit = self.eval_sec if max_age is None else max_age
        if self.account is not None and time.monotonic() - self._balances_at <= limit:
            return self.account.balances, self._balances_read_at
        balances = await broker.balances()
        return balances, self._clock()

    async def prices(self, positions: Sequence[Position]) -> tuple[dict[str, Decimal], list[str]]:
        """Live last prices: the market stream first, then one broker quote call for the rest. A failed broker
        quote leaves those symbols unpriced (the evaluation says so) rather than failing the cycle."""
        prices: dict[str, Decimal] = {}
        missing: list[str] = []
        engine = self.market.engine if self.market is not None else None
        for position in positions:
            live = engine.quote(position.symbol) if engine is not None else None
            if live is not None and live.last is not None:
                prices[position.symbol] = live.last
            elif position.symbol not in missing:
                missing.append(position.symbol)
        notes: list[str] = []
        if missing and self.broker is not None:
            try:
                prices.update(await self._broker_prices(self.broker, missing))
            except CoreError as exc:
                notes.append(f"broker quotes failed: {exc.message}")
                log.warning("risk.quotes_failed", error=exc.message, symbols=len(missing))
        return prices, notes

    @staticmethod
    async def _broker_prices(broker: Broker, symbols: list[str]) -> dict[str, Decimal]:
        if isinstance(broker, BatchQuotes):
            return {q.symbol: q.last for q in await broker.quotes(symbols) if q.last is not None}
        found = await asyncio.gather(*(broker.quote_price(symbol) for symbol in symbols))
        return {symbol: price for symbol, price in zip(symbols, found, strict=True) if price is not None}

    async def snapshot_account(self) -> AccountSnapshot:
        broker = self._require()
        balances, positions, orders = await asyncio.gather(broker.balances(), broker.positions(), broker.orders())
        self._balances_at, self._balances_read_at = time.monotonic(), self._clock()
        held = tuple(p for p in positions if p.quantity)
        prices, notes = await self.prices(held)
        trades = day_trades(orders, held, self._clock())
        self._notes = notes + ([f"{trades.unknown_closes} closing fill(s) today with an unknown entry price are "
                                "not counted in the loss streak"] if trades.unknown_closes else [])
        return AccountSnapshot(balances, held, prices, trades.trades, trades.consecutive_losses, trades.last_loss_at)

    async def evaluate(self) -> RiskState:
        """Read the account and compute the state. Broker faults propagate (the engine reports them as
        `unknown`); the previous state is kept until a new one is computed."""
        account = await self.snapshot_account()
        state = evaluate_risk(await self.limits(), account, self._clock())
        if self._notes:
            state = _with_warnings(state, self._notes)
        self.latest, self.account, self.error = state, account, None
        self._evaluated_at = time.monotonic()
        return state

    def mark_unknown(self, reason: str, how_to_fix: str) -> RiskStateView:
        self.error = RiskStateView.unknown(reason, how_to_fix)
        return self.error

    def snapshot(self) -> RiskStateView:
        """The latest state as the `risk` event carries it: the error when the last cycle failed, `unknown`
        before the first evaluation or without a broker."""
        if self.broker is None:
            return RiskStateView.unknown(f"broker not configured: {self.disabled_reason}", self.how_to_enable)
        if self.error is not None:
            return self.error
        if self.latest is None:
            return RiskStateView.unknown("risk not evaluated yet", "the risk engine evaluates every RISK_EVAL_SEC")
        return RiskStateView.of(self.latest)

    @property
    def age(self) -> float:
        return time.monotonic() - self._evaluated_at if self.latest is not None else float("inf")

    async def current(self) -> tuple[RiskState, AccountSnapshot]:
        """The latest state and account, re-evaluated when older than RISK_EVAL_SEC (one evaluation at a time)."""
        async with self._lock:
            if self.latest is None or self.account is None or self.age > self.eval_sec:
                await self.evaluate()
            assert self.latest is not None and self.account is not None
            return self.latest, self.account

    async def check(self, order: OrderRequest, *, price: Decimal | None = None) -> Decision:
        """The single gate OrderService calls before preview and again before placing. When the account cannot
        be read the answer is Denied (`risk_unknown`), never a guess."""
        if self.broker is None:
            return Denied("broker_disabled", f"the broker is not configured ({self.disabled_reason}): "
                                             f"{self.how_to_enable}")
        try:
            state, account = await self.current()
        except CoreError as exc:
            return Denied("risk_unknown", f"the risk state cannot be computed ({exc.message}); try again shortly")
        return check_order(order, state, account, price=price, collar_pct=self.collar_pct)


def _with_warnings(state: RiskState, notes: list[str]) -> RiskState:
    return replace(state, warnings=(*state.warnings, *notes))
