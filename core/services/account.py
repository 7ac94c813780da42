"""Reads of the broker account, as every surface shows them: balances, positions, today's orders and the blotter.

Nothing here changes the account (orders go through `core.services.orders`); a read needs the broker integration
and raises its `IntegrationDisabled` (with how to enable it) when there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from core.db.base import utcnow
from core.db.repositories.journal import JournalRepository
from core.db.repositories.orders import OrderIntentRepository, OrderRepository
from core.db.session import Database
from core.domain.order_views import Account, AccountOrder, BlotterItem, LinkedPlan, PositionItem, position_items
from core.domain.orders import TradingMode
from core.errors import CoreError, IntegrationDisabled
from core.ports import Broker
from core.services.order_risk import fetch_prices
from core.services.order_views import ACTIVE_INTENT, blotter

log = structlog.get_logger(__name__)

BROKER_DISABLED = IntegrationDisabled("broker", "TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID not set",
                                      "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID (sandbox = paper account)")


class AccountService:
    def __init__(self, db: Database, broker: Broker | None, *, mode: TradingMode,
                 disabled: IntegrationDisabled | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.broker = broker
        self.mode = mode
        self._disabled = disabled or BROKER_DISABLED
        self._now = clock

    def require_broker(self) -> Broker:
        if self.broker is None:
            raise self._disabled
        return self.broker

    @property
    def enabled(self) -> bool:
        return self.broker is not None

    async def account(self) -> Account:
        balances = await self.require_broker().balances()
        return Account(mode=self.mode, equity=balances.equity, buying_power=balances.buying_power,
                       cash=balances.cash, realized_pnl_today=balances.realized_pnl_today,
                       unrealized_pnl=balances.unrealized_pnl, account_type=balances.account_type)

    async def positions(self) -> list[PositionItem]:
        """Live positions with last price and unrealized P&L (None when no price: never guessed)."""
        broker = self.require_broker()
        held = [p for p in await broker.positions() if p.quantity]
        try:
            prices = await fetch_prices(broker, [p.symbol for p in held])
        except CoreError as exc:
            log.warning("orders.position_prices_failed", error=exc.message)
            prices = {}
        return position_items(held, prices, await self.linked_plans([p.symbol for p in held]))

    async def position(self, symbol: str) -> PositionItem | None:
        """The open position in `symbol`, valued like `positions()`; None when there is none."""
        return next((p for p in await self.positions() if p.symbol == symbol), None)

    async def linked_plans(self, symbols: Sequence[str]) -> dict[str, LinkedPlan]:
        """The entry and stop of each symbol's newest journal plan: what links a position to the plan it was taken
        on (left out when that plan has no usable entry and stop)."""
        async with self.db.read() as session:
            plans = await JournalRepository(session).latest_plans(symbols)
        return {symbol: linked for symbol, plan in plans.items() if (linked := LinkedPlan.of_journal(plan))}

    async def broker_orders(self) -> list[AccountOrder]:
        """Today's orders as the broker has them; `manual` when the tag is not one of our intents."""
        orders = await self.require_broker().orders()
        async with self.db.read() as session:
            ours = await OrderIntentRepository(session).existing_ids(o.tag or "" for o in orders)
        return [AccountOrder.listed(o, ours) for o in orders]

    async def orders_snapshot(self) -> list[BlotterItem]:
        """Today's blotter: broker orders (ours and manual) and intents not at the broker."""
        since = self._now().replace(hour=0, minute=0, second=0, microsecond=0)
        async with self.db.read() as session:
            orders = await OrderRepository(session).recent(since)
            intents = await OrderIntentRepository(session).blotter(since, ACTIVE_INTENT)
        return blotter(orders, intents)
