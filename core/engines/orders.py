"""Order tracker: keeps our view of the broker's orders and positions current, and accounts for every intent.

On start it reconciles (freqtrade-style): PENDING intents past expiry -> EXPIRED; SUBMITTING/UNKNOWN intents
are matched with the broker's orders by tag (found -> SUBMITTED; not found -> UNKNOWN and a critical alert for a
human, never resent); SUBMITTED intents get their order's current status. Then every `interval` seconds it reads
orders and positions (2 standard reads + 1 quote read per cycle: 40/min at 3 s, inside Tradier's 120/min) and
publishes `orders` / `positions` only when something changed. Orders at the broker whose tag is not one of our
intents are stored and shown as `manual`: never adopted silently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from core.db.base import utcnow
from core.db.models import OrderIntentRow
from core.db.repositories.orders import OrderIntentRepository, OrderRepository
from core.domain.events import PositionsEvent
from core.domain.order_views import BrokerOrderView, PositionItem, document, position_items
from core.domain.orders import BrokerOrder, Position
from core.errors import CoreError, IntegrationDisabled, NotFound
from core.ports import Broker, EventBus
from core.services.order_risk import fetch_prices
from core.services.orders import OrderService

log = structlog.get_logger(__name__)

DEFAULT_INTERVAL_SEC = 3.0
DISABLED_RETRY_SEC = 30.0
UNSETTLED = ("SUBMITTING", "UNKNOWN")


def changed_orders(seen: dict[str, BrokerOrderView],
                   orders: Iterable[BrokerOrder]) -> list[tuple[BrokerOrder, BrokerOrderView]]:
    """Orders whose echo differs from the last one seen (updates `seen`). Pure CPU: the cycle's hot part."""
    changed = []
    for order in orders:
        echo = BrokerOrderView.of(order)
        if seen.get(order.id) != echo:
            seen[order.id] = echo
            changed.append((order, echo))
    return changed


class OrderTracker:
    def __init__(self, service: OrderService, broker: Broker, bus: EventBus, *,
                 interval: float = DEFAULT_INTERVAL_SEC, clock: Callable[[], datetime] = utcnow,
                 stale_submitting_sec: float = 60.0) -> None:
        self.service = service
        self.broker = broker
        self.bus = bus
        self.interval = interval
        self._now = clock
        self.stale_submitting = timedelta(seconds=stale_submitting_sec)
        self.positions: list[PositionItem] | None = None
        self.cycles = 0
        self.last_error: str | None = None
        self.last_poll_at: datetime | None = None
        self._seen: dict[str, BrokerOrderView] = {}
        self._manual: set[str] = set()
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """Poll now instead of at the next interval (after a confirm, say)."""
        self._wake.set()

    # -- reconciliation --------------------------------------------------------------------------------

    async def _expire(self) -> int:
        async with self.service.db.uow() as session:
            expired = await OrderIntentRepository(session).expire_pending(self._now())
            for intent_id in expired:
                row = await OrderIntentRepository(session).get(intent_id)
                if row is not None:
                    row.status = "EXPIRED"
                    await self.service.audit(session, row, "EXPIRED", "system", "not confirmed in time")
        return len(expired)

    async def reconcile(self) -> dict[str, int]:
        """Account for every intent the last run left open. Returns counts per outcome."""
        counts = {"expired": await self._expire(), "submitted": 0, "unknown": 0, "refreshed": 0}
        orders = await self.broker.orders()
        by_tag = {order.tag: order for order in orders if order.tag}
        async with self.service.db.read() as session:
            rows = list(await OrderIntentRepository(session).with_status((*UNSETTLED, "SUBMITTED")))
        for row in rows:
            if row.status == "SUBMITTED":
                counts["refreshed"] += await self._refresh(row, by_tag)
                continue
            found = await self._find(row, by_tag)
            if found is not None:
                if await self.service.settle(row, row.status, "system", found.id,
                                             echo=document(BrokerOrderView.of(found)), found=found):
                    counts["submitted"] += 1
                continue
            if row.status == "SUBMITTING":
                await self.service.move(row, "SUBMITTING", "UNKNOWN", "system",
                                         "the process stopped while sending; not found at the broker")
            await self.service.still_unknown(row)
            counts["unknown"] += 1
        await self.sync_orders(orders)
        log.info("orders.reconciled", **counts)
        return counts

    async def _find(self, row: OrderIntentRow, by_tag: dict[str, BrokerOrder]) -> BrokerOrder | None:
        if row.action == "place":
            return by_tag.get(row.id)
        try:
            return await self.service.lookup(row)
        except CoreError as exc:
            log.warning("orders.reconcile_lookup_failed", intent_id=row.id, error=exc.message)
            return None

    async def _refresh(self, row: OrderIntentRow, by_tag: dict[str, BrokerOrder]) -> int:
        """A SUBMITTED place intent whose order left today's list: fetch it by id (older orders)."""
        if row.action != "place" or not row.broker_order_id or row.id in by_tag:
            return 0
        try:
            order = await self.broker.order(row.broker_order_id)
        except NotFound:
            log.warning("orders.submitted_not_found", intent_id=row.id, order_id=row.broker_order_id)
            return 0
        except CoreError as exc:
            log.warning("orders.refresh_failed", intent_id=row.id, error=exc.message)
            return 0
        await self.sync_orders([order])
        return 1

    # -- polling ---------------------------------------------------------------------------------------

    async def sync_orders(self, orders: Sequence[BrokerOrder]) -> bool:
        """Store changed echoes (ours by tag, others manual), settle UNKNOWN/SUBMITTING intents whose tag shows
        up, and publish `orders` when anything changed."""
        changed = changed_orders(self._seen, orders)
        try:
            settled = await self._store(changed, {order.tag: order for order in orders if order.tag})
        except BaseException:
            for order, _ in changed:  # not stored: compare against the old echo again next cycle
                self._seen.pop(order.id, None)
            raise
        if changed and not settled:
            await self.service.publish_orders()
        return bool(changed or settled)

    async def _store(self, changed: list[tuple[BrokerOrder, BrokerOrderView]],
                     by_tag: dict[str, BrokerOrder]) -> int:
        async with self.service.db.uow() as session:
            intents = OrderIntentRepository(session)
            unsettled = [row for row in await intents.with_status(UNSETTLED) if row.id in by_tag]
            if changed:
                ours = await intents.existing_ids(order.tag or "" for order, _ in changed)
                rows = []
                for order, echo in changed:
                    mine = order.tag in ours
                    if not mine and order.id not in self._manual:
                        self._manual.add(order.id)
                        log.info("orders.manual_order", order_id=order.id, symbol=order.symbol, tag=order.tag)
                    rows.append({"id": order.id, "intent_id": order.tag if mine else None, "symbol": order.symbol,
                                 "side": order.side.value, "quantity": order.quantity, "type": order.type.value,
                                 "status": order.status, "tag": order.tag, "manual": not mine,
                                 "payload": document(echo)})
                await OrderRepository(session).upsert_many(rows)
        settled = 0
        for row in unsettled:
            found = by_tag[row.id]
            # a SUBMITTING intent is mid-confirm in some process: leave it to that process unless it is stale
            if row.status == "UNKNOWN" or row.updated_at < self._now() - self.stale_submitting:
                settled += await self.service.settle(row, row.status, "system", found.id,
                                                     echo=document(BrokerOrderView.of(found)), found=found)
        return settled

    async def sync_positions(self, positions: Sequence[Position]) -> bool:
        try:
            prices = await fetch_prices(self.broker, [p.symbol for p in positions if p.quantity])
        except CoreError as exc:
            log.warning("orders.position_prices_failed", error=exc.message)
            prices = {}
        plans = await self.service.account.linked_plans([p.symbol for p in positions])
        items = position_items(positions, prices, plans)
        if items == self.positions:
            return False
        self.positions = items
        await self.bus.publish(PositionsEvent(items=items))
        return True

    async def cycle(self) -> None:
        if await self._expire():
            await self.service.publish_orders()
        orders = await self.broker.orders()
        positions = await self.broker.positions()
        await self.sync_orders(orders)
        await self.sync_positions(positions)
        self.cycles += 1
        self.last_poll_at = self._now()
        self.last_error = None

    async def run(self) -> None:
        """Reconcile once (retrying until the broker answers), then poll until cancelled."""
        while True:
            try:
                await self.reconcile()
                break
            except CoreError as exc:
                self.last_error = exc.message
                log.warning("orders.reconcile_failed", error=exc.message)
                await asyncio.sleep(self._pause(exc))
        while True:
            try:
                await self.cycle()
                pause = self.interval
            except CoreError as exc:
                self.last_error = exc.message
                log.warning("orders.poll_failed", error=exc.message)
                pause = self._pause(exc)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)

    def _pause(self, exc: CoreError) -> float:
        return DISABLED_RETRY_SEC if isinstance(exc, IntegrationDisabled) else max(self.interval, 1.0)

    def status(self) -> dict[str, Any]:
        return {"cycles": self.cycles, "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
                "last_error": self.last_error, "interval_sec": self.interval}
