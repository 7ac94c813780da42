"""Orders: propose + confirm overhead excluding broker latency (goal p95 < 20 ms); tracker cycle for 100 open
orders excluding I/O (goal < 20 ms).

Propose + confirm runs the real OrderService (validation, risk gate = `evaluate_risk` + `check_order`, intent row,
audit entries, CAS, echo row, `orders` events) on SQLite in a temp dir, against an in-process Broker that answers
instantly, so every millisecond measured is ours. The tracker figure is the CPU part of one cycle: diffing 100
changed orders, building the blotter and position items, encoding both events. A full cycle with SQLite writes is
printed for information. Baselines: the 20 ms goals for propose + confirm overhead and the tracker cycle.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import InProcessBus
from core.db.migrate import upgrade_to_head
from core.db.models import OrderIntentRow, OrderRow
from core.db.session import Database
from core.domain.events import OrdersEvent, PositionsEvent, encode_event
from core.domain.market import Quote
from core.domain.order_views import BrokerOrderView, position_items
from core.domain.orders import (
    Balances,
    BrokerOrder,
    OrderAck,
    OrderPreview,
    OrderRequest,
    OrderSide,
    OrderType,
    Position,
)
from core.domain.risk import RiskLimits
from core.engines.orders import OrderTracker, changed_orders
from core.services.account import AccountService
from core.services.order_risk import BrokerRiskGate
from core.services.order_tokens import TokenSigner
from core.services.order_views import blotter
from core.services.orders import OrderService

GOAL_MS = 20.0
ROUNDS = 200
OPEN_ORDERS = 100
D = Decimal


class InstantBroker:
    """The Broker port with no network: answers at once, keeps what it accepted."""

    def __init__(self, orders: int = 0) -> None:
        self.accepted: dict[str, BrokerOrder] = {}
        self.positions_held = [Position("AAPL", D(2), D(200)), Position("MSFT", D(10), D(1000))]
        for n in range(orders):
            self._add(f"tag{n}", OrderRequest(f"SYM{n % 40}", OrderSide.BUY, D(10), OrderType.LIMIT,
                                              price=D("100") + n))

    def _add(self, tag: str, order: OrderRequest) -> BrokerOrder:
        echo = BrokerOrder(str(10_000 + len(self.accepted)), order.symbol, order.side, order.quantity, order.type,
                           "open", price=order.price, tag=tag, created_at=datetime.now(UTC))
        self.accepted[echo.id] = echo
        return echo

    async def balances(self) -> Balances:
        return Balances(equity=D(100_000), buying_power=D(200_000), cash=D(50_000))

    async def positions(self) -> list[Position]:
        return self.positions_held

    async def orders(self) -> list[BrokerOrder]:
        return list(self.accepted.values())

    async def order(self, order_id: str) -> BrokerOrder:
        return self.accepted[order_id]

    async def find_order_by_tag(self, tag: str) -> BrokerOrder | None:
        return next((o for o in self.accepted.values() if o.tag == tag), None)

    async def preview(self, order: OrderRequest) -> OrderPreview:
        return OrderPreview(True, D("101.0"), D("0"), D("0"), D("101.0"), D("0"))

    async def place(self, order: OrderRequest, *, tag: str) -> OrderAck:
        return OrderAck(self._add(tag, order).id, "ok", tag=tag)

    async def modify(self, order_id: str, **changes: object) -> OrderAck:
        return OrderAck(order_id, "ok")

    async def cancel(self, order_id: str) -> OrderAck:
        return OrderAck(order_id, "ok")

    async def quote_price(self, symbol: str) -> Decimal | None:
        return D("101.00")

    async def quotes(self, symbols: list[str]) -> list[Quote]:
        return [Quote(s, D("101.00"), None, None, None, None, None, None, "bench") for s in symbols]


class FastDatabase(Database):
    """Every commit at synchronous=NORMAL, the durable one included: what the durable commit costs, by difference."""

    def uow(self, *, durable: bool = False) -> AbstractAsyncContextManager[AsyncSession]:
        return super().uow()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


async def _round_trip(folder: Path) -> list[float]:
    """The floor under every figure above: one aiosqlite statement round trip (thread hop) on this machine."""
    db = Database(f"sqlite+aiosqlite:///{folder}/rt.db")
    samples = []
    try:
        async with db.read() as session:
            await session.execute(text("SELECT 1"))
            for _ in range(ROUNDS):
                started = time.perf_counter()
                await session.execute(text("SELECT 1"))
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        await db.close()
    return samples


async def _service(folder: Path, database: type[Database]) -> OrderService:
    db = database(f"sqlite+aiosqlite:///{folder}/{database.__name__}.db")
    await upgrade_to_head(db)
    bus = InProcessBus()
    await bus.start()
    broker = InstantBroker()

    async def limits() -> RiskLimits:
        return RiskLimits()

    return OrderService(db, bus, AccountService(db, broker, mode="PAPER"), signer=TokenSigner(b"b" * 32),
                        traders=["bench"], risk_gate=BrokerRiskGate(broker, limits))


async def _propose_confirm(folder: Path) -> tuple[list[float], list[float], list[float]]:
    """Rounds of the product's flow and of the same flow without the durable commit, interleaved so both see the
    same machine load: (durable samples, without-durable samples, blotter snapshots)."""
    services = [await _service(folder, Database), await _service(folder, FastDatabase)]
    order = OrderRequest("AAPL", OrderSide.BUY, D(5), OrderType.MARKET)
    samples: list[list[float]] = [[], []]
    snapshots = []
    try:
        for n in range(ROUNDS + 20):
            for service, figures in zip(services, samples, strict=True):
                await service.aclose()  # the previous round's `orders` publish (off the caller's path) is done
                started = time.perf_counter()
                proposal = await service.propose("bench", order, rationale="bench")
                assert proposal.intent is not None and proposal.token is not None, proposal.risk
                result = await service.confirm(proposal.intent.id, proposal.token, "bench")
                assert result.outcome == "submitted", result
                if n >= 20:  # warm-up: imports, statement caches, first connections
                    figures.append((time.perf_counter() - started) * 1000)
                    if service is services[0]:
                        started = time.perf_counter()
                        await service.account.orders_snapshot()
                        snapshots.append((time.perf_counter() - started) * 1000)
                if n % 50 == 49:  # keep today's blotter (published on every change) at a realistic size
                    async with service.db.uow() as session:
                        await session.execute(OrderRow.__table__.delete())
                        await session.execute(OrderIntentRow.__table__.delete())
    finally:
        for service in services:
            await service.aclose()
            await service.bus.close()
            await service.db.close()
    return samples[0], samples[1], snapshots


def _tracker_cpu() -> list[float]:
    broker = InstantBroker(OPEN_ORDERS)
    orders = list(broker.accepted.values())
    positions = [Position(f"SYM{n}", D(10 + n), D(1000 + n)) for n in range(20)]
    prices = {p.symbol: D("101.5") for p in positions}
    rows = [OrderRow(id=o.id, intent_id=None, symbol=o.symbol, side=o.side.value, quantity=o.quantity,
                     type=o.type.value, status=o.status, tag=o.tag, manual=True, payload={},
                     created_at=o.created_at, updated_at=o.created_at) for o in orders]
    samples = []
    for n in range(ROUNDS):
        changed = [replace(o, status="partially_filled" if n % 2 else "open") for o in orders]  # all 100 changed
        seen: dict[str, BrokerOrderView] = {}
        started = time.perf_counter()
        diff = changed_orders(seen, changed)
        items = blotter(rows, [])
        encode_event(OrdersEvent(items=items))
        encode_event(PositionsEvent(items=position_items(positions, prices, {})))
        samples.append((time.perf_counter() - started) * 1000)
        assert len(diff) == OPEN_ORDERS
    return samples


async def _tracker_full(folder: Path) -> list[float]:
    db = Database(f"sqlite+aiosqlite:///{folder}/tracker.db")
    await upgrade_to_head(db)
    bus = InProcessBus()
    await bus.start()
    broker = InstantBroker(OPEN_ORDERS)
    service = OrderService(db, bus, AccountService(db, broker, mode="PAPER"), signer=TokenSigner(b"b" * 32),
                           traders=[])
    tracker = OrderTracker(service, broker, bus)
    samples = []
    try:
        for n in range(40):
            for order_id, order in list(broker.accepted.items()):
                broker.accepted[order_id] = replace(order, exec_quantity=D(n % 10))
            started = time.perf_counter()
            await tracker.cycle()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await bus.close()
        await db.close()
    return samples


def folder_fs() -> str:
    """The disk the temp folder is on: an fsync on tmpfs costs nothing and would make the figure meaningless."""
    fs = os.statvfs(tempfile.gettempdir())
    return f"{tempfile.gettempdir()} ({fs.f_blocks * fs.f_frsize // 2**30} GiB volume)"


def main() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        hop = asyncio.run(_round_trip(Path(folder)))
        flow, fast, snapshots = asyncio.run(_propose_confirm(Path(folder)))
        full = asyncio.run(_tracker_full(Path(folder)))
    cpu = _tracker_cpu()
    flow_p95, cpu_p95 = p95(flow), p95(cpu)
    print(f"propose+confirm (SQLite, instant broker, {ROUNDS} rounds): p50 {statistics.median(flow):.2f} ms, "
          f"p95 {flow_p95:.2f} ms; ratio vs {GOAL_MS:.0f} ms goal: {flow_p95 / GOAL_MS:.2f} "
          f"({'within' if flow_p95 < GOAL_MS else 'OVER'})")
    print(f"the same without the durable commit (PENDING -> SUBMITTING at synchronous=NORMAL; information): "
          f"p50 {statistics.median(fast):.2f} ms, p95 {p95(fast):.2f} ms: the fsync costs "
          f"{statistics.median(flow) - statistics.median(fast):.2f} ms at p50 on {folder_fs()}")
    print(f"`orders` blotter snapshot published after each change (background, not in the figure above): "
          f"p50 {statistics.median(snapshots):.2f} ms, p95 {p95(snapshots):.2f} ms")
    print(f"tracker cycle CPU, {OPEN_ORDERS} changed orders + 20 positions: p50 {statistics.median(cpu):.2f} ms, "
          f"p95 {cpu_p95:.2f} ms; ratio vs {GOAL_MS:.0f} ms goal: {cpu_p95 / GOAL_MS:.2f} "
          f"({'within' if cpu_p95 < GOAL_MS else 'OVER'})")
    print(f"tracker cycle incl. SQLite upserts of {OPEN_ORDERS} changed orders (information): "
          f"p50 {statistics.median(full):.1f} ms, p95 {p95(full):.1f} ms")
    print(f"context: one SQLite statement round trip p50 {statistics.median(hop):.3f} ms, p95 {p95(hop):.3f} ms "
          f"(propose+confirm makes ~20: 3 commits, the CAS, audit rows, the echo row; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return flow_p95 < GOAL_MS and cpu_p95 < GOAL_MS


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
