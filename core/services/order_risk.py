"""The risk gate every order passes before it is previewed or sent.

`RiskGate` is anything with `check(order) -> Approved | Denied` (sync or async): the risk service
(core/services/risk.py) when the runtime has one. Until then `BrokerRiskGate` evaluates the same domain rules
(`evaluate_risk` + `check_order`) on a fresh read of the account. When the account cannot be read, the order is
denied with the reason: risk that cannot be evaluated is never assumed to be fine.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

import structlog

from core.domain.day_trades import FILLED
from core.domain.orders import OrderRequest
from core.domain.risk import AccountSnapshot, Approved, Decision, Denied, RiskLimits, check_order, evaluate_risk
from core.domain.valuation import DEFAULT_COLLAR_PCT
from core.errors import CoreError
from core.ports import Broker

log = structlog.get_logger(__name__)


class RiskGate(Protocol):
    """`price`: the fresh quote of the order's symbol, which every order is valued against (at its worst case)."""

    def check(self, order: OrderRequest, *, price: Decimal | None = None) -> Decision | Awaitable[Decision]: ...


async def run_gate(gate: RiskGate, order: OrderRequest, price: Decimal | None) -> Decision:
    """Ask the gate; any fault while asking is a denial that says so."""
    try:
        outcome = gate.check(order, price=price)
        decision = await outcome if inspect.isawaitable(outcome) else outcome
    except CoreError as exc:
        return Denied("risk_unknown", f"risk state unknown ({exc.message}); nothing was sent")
    except Exception as exc:  # a gate bug must deny, never approve
        log.error("orders.risk_gate_failed", exc_info=exc)
        return Denied("risk_unknown", f"risk check failed ({type(exc).__name__}); nothing was sent")
    if not isinstance(decision, Approved | Denied):
        return Denied("risk_unknown", "risk check gave no decision; nothing was sent")
    return decision


async def fetch_prices(broker: Broker, symbols: set[str] | list[str]) -> dict[str, Decimal]:
    """Last prices in one request when the broker can batch quotes, else one `quote_price` per symbol."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    batch = getattr(broker, "quotes", None)
    if batch is not None:
        return {q.symbol: q.last for q in await batch(wanted) if q.last is not None}
    prices = {}
    for symbol in wanted:
        price = await broker.quote_price(symbol)
        if price is not None:
            prices[symbol] = price
    return prices


class BrokerRiskGate:
    """`check_order` over a snapshot read from the broker at check time (balances, positions, today's orders,
    quotes). Consecutive losses are not known here (the risk engine tracks them), so that limit is not applied."""

    def __init__(self, broker: Broker, limits: Callable[[], Awaitable[RiskLimits]], *,
                 now: Callable[[], datetime] | None = None, collar_pct: Decimal = DEFAULT_COLLAR_PCT) -> None:
        self.broker = broker
        self.limits = limits
        self.collar_pct = collar_pct
        self._now = now or (lambda: datetime.now(UTC))

    async def check(self, order: OrderRequest, *, price: Decimal | None = None) -> Decision:
        try:
            limits = await self.limits()
            balances = await self.broker.balances()
            positions = tuple(await self.broker.positions())
            today = self._now().date()
            trades = sum(1 for o in await self.broker.orders()
                         if o.status in FILLED and (o.created_at is None or o.created_at.date() == today))
            symbols = {p.symbol for p in positions} | {order.option_symbol or order.symbol}
            prices = await fetch_prices(self.broker, symbols)
        except CoreError as exc:
            return Denied("risk_unknown", f"risk state unknown: could not read the account from the broker "
                                          f"({exc.message}); nothing was sent")
        account = AccountSnapshot(balances=balances, positions=positions, prices=prices, trades_today=trades)
        state = evaluate_risk(limits, account, self._now())
        return check_order(order, state, account, price=price or prices.get(order.option_symbol or order.symbol),
                           collar_pct=self.collar_pct)
