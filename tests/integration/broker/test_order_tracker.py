"""The order tracker against the Tradier double, on SQLite and PostgreSQL: manual orders, orders/positions events
on change only (restart reconciliation after a crash: tests/faults/test_broker_orders.py)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select

from core.db.models import OrderRow
from core.domain.events import OrdersEvent, PositionsEvent
from core.domain.journal import JournalDraft
from core.domain.order_views import BrokerOrderView, LinkedPlan
from core.engines.orders import OrderTracker, changed_orders
from core.runtime import Runtime
from core.settings import Settings
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import (
    AAPL_LAST,
    buy_aapl,
    placed,
    unthrottled,
)


def _tracker(rt: Runtime) -> OrderTracker:
    assert rt.broker is not None
    unthrottled(rt)
    return OrderTracker(rt.orders, rt.broker, rt.bus, interval=0.05)


async def test_orders_without_our_tag_are_manual_never_adopted(settings: Settings, tradier: TradierDouble) -> None:
    async with Runtime(settings, roles={"api"}) as rt:
        proposal = await rt.orders.propose("api", buy_aapl())
        assert proposal.intent is not None and proposal.token is not None
        await rt.orders.confirm(proposal.intent.id, proposal.token, "api")
        base = {"type": "limit", "symbol": "MSFT", "side": "buy", "quantity": 5.0, "status": "open",
                "duration": "day", "price": 30.0, "avg_fill_price": 0.0, "exec_quantity": 0.0,
                "remaining_quantity": 5.0, "create_date": "2024-06-03T14:30:11.123Z", "class": "equity"}
        tradier.orders["7001"] = {**base, "id": 7001}
        tradier.orders["7002"] = {**base, "id": 7002, "tag": "placed-from-the-tradier-app"}
        await rt.orders.aclose()  # the confirm's own `orders` publish is out before we listen
        orders_events = rt.bus.subscribe(["orders"], name="test-orders")

        await _tracker(rt).cycle()

        async with rt.db.read() as session:
            rows = {r.id: r for r in (await session.scalars(select(OrderRow))).all()}
        assert rows["7001"].manual and rows["7002"].manual
        assert rows["7001"].intent_id is None and rows["7002"].intent_id is None
        ours = rows[str(placed(tradier)[0]["id"])]
        assert not ours.manual and ours.intent_id == proposal.intent.id and ours.status == "open"
        event = await asyncio.wait_for(anext(aiter(orders_events)), 5)
        assert isinstance(event, OrdersEvent)
        manual = {item.id: item.manual for item in event.items if item.id}
        assert manual == {"7001": True, "7002": True, ours.id: False}
        await orders_events.close()


async def test_positions_published_with_pnl_and_only_on_change(settings: Settings, tradier: TradierDouble) -> None:
    async with Runtime(settings, roles={"api"}) as rt:
        positions = rt.bus.subscribe(["positions"], name="test-positions")
        tracker = _tracker(rt)
        await tracker.cycle()
        event = await asyncio.wait_for(anext(aiter(positions)), 5)
        assert isinstance(event, PositionsEvent)
        (item,) = event.items
        assert item.symbol == "AAPL" and item.last == AAPL_LAST
        assert item.unrealized_pnl == AAPL_LAST * 2 - 800
        assert str(item.average_price) == "400.00"
        assert item.plan is None and item.r_multiple is None  # no plan linked: no R, never guessed

        await tracker.cycle()
        assert positions.depth == 0  # nothing changed: nothing published
        await rt.journal.add(JournalDraft(kind="plan", body="AAPL reclaim", symbol="AAPL",
                                          plan={"side": "long", "entry": "400", "stop": "390"}))
        tradier.quotes["AAPL"] = {**tradier.quotes["AAPL"], "last": 440.0}
        await tracker.cycle()
        event = await asyncio.wait_for(anext(aiter(positions)), 5)
        assert isinstance(event, PositionsEvent) and event.items[0].unrealized_pnl == Decimal("80.00")
        assert event.items[0].plan == LinkedPlan(Decimal(400), Decimal(390))
        assert event.items[0].r_multiple == Decimal("4.00")  # (440 - 400) / (400 - 390)
        assert tracker.status()["cycles"] == 3
        await positions.close()


def test_changed_orders_reports_only_new_or_different_echoes() -> None:
    from core.domain.orders import BrokerOrder, OrderSide, OrderType

    seen: dict[str, BrokerOrderView] = {}
    order = BrokerOrder("1", "SPY", OrderSide.BUY, Decimal(1), OrderType.MARKET, "open")
    assert len(changed_orders(seen, [order])) == 1
    assert changed_orders(seen, [order]) == []
    filled = BrokerOrder("1", "SPY", OrderSide.BUY, Decimal(1), OrderType.MARKET, "filled")
    assert [o.status for o, _ in changed_orders(seen, [filled])] == ["filled"]
