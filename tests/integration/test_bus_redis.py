"""RedisBus against the Redis on 127.0.0.1:6379: cross-instance delivery, trimming, reconnect, clean close.

Each test uses its own key prefix (parallel runs do not collide) and deletes its streams afterwards. An
unreachable Redis fails these tests: CI guarantees one.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from structlog.testing import capture_logs

from core.bus import QueueSubscription, RedisBus
from core.domain.events import (
    EVENT_TYPES,
    AlertEvent,
    AlertMeta,
    Event,
    OrdersEvent,
    PositionsEvent,
    PriceEvent,
    RiskEvent,
    StatusEvent,
    event_type,
)
from core.domain.order_views import BlotterItem, position_item
from core.domain.orders import Position
from core.domain.risk_view import RiskStateView
from core.errors import ExternalTransient

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MakeBus = Callable[..., RedisBus]


def alert(n: int) -> AlertEvent:
    return AlertEvent(level="warning", msg=f"a{n}", meta=AlertMeta(kind="crossed", alert_id=str(n), actions=()))


def one_of_each(n: int) -> list[Event]:
    return [alert(n), PriceEvent(symbol="QQQ", last=f"{n}.25"),
            RiskEvent(state=RiskStateView.unknown(f"reason {n}", "fix")),
            PositionsEvent(items=[position_item(Position("SPY", Decimal(n + 1), Decimal("100.5")), Decimal("101"))]),
            OrdersEvent(items=[blotter_row(str(n))]), StatusEvent(integrations={"n": n})]


def blotter_row(order_id: str) -> BlotterItem:
    return BlotterItem(id=order_id, intent_id=None, action=None, symbol="SPY", side="buy", quantity=Decimal(1),
                       type="limit", status="open", intent_status=None, manual=True, working=True,
                       price=Decimal("512.30"), stop=None, duration="day", option_symbol=None, filled_quantity=None,
                       avg_fill_price=None, reason=None, tag=None, created_at="2024-06-03T14:30:11+00:00",
                       updated_at=None, expires_at=None)


async def take(sub: QueueSubscription, n: int) -> list[Event]:
    """The next n events (fewer if the subscription closes), failing after 5 s."""
    out: list[Event] = []
    async with asyncio.timeout(5):
        async for event in sub:
            out.append(event)
            if len(out) == n:
                break
    return out


@pytest.fixture
async def admin() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(client.ping(), 3)
    except (RedisError, OSError, TimeoutError) as exc:
        await client.aclose()
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}: {exc}). The bus suite "
                    "needs it and CI guarantees it: start it (`service redis-server start` or "
                    "`redis-server --daemonize yes --port 6379`) or point TEST_REDIS_URL at one.", pytrace=False)
    yield client
    await client.aclose()


@pytest.fixture
async def make_bus(admin: Redis) -> AsyncIterator[MakeBus]:
    prefix = f"test:bus:{uuid.uuid4().hex}:"
    made: list[RedisBus] = []

    def make(**options: Any) -> RedisBus:
        bus = RedisBus(REDIS_URL, prefix=prefix, block_ms=200, backoff=(0.02, 0.2), **options)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()
    keys = [key async for key in admin.scan_iter(match=f"{prefix}*")]
    if keys:
        await admin.delete(*keys)


async def test_a_second_instance_receives_every_event_type_in_order(make_bus: MakeBus) -> None:
    publisher, receiver = make_bus(), make_bus()
    everything = receiver.subscribe(name="everything")
    own_alerts = publisher.subscribe(["alert"])
    await receiver.start()
    await publisher.start()
    events = [event for n in range(30) for event in one_of_each(n)]
    for event in events:
        await publisher.publish(event)
    received = await take(everything, len(events))
    for kind in EVENT_TYPES:
        assert [e for e in received if event_type(e) == kind] == [e for e in events if event_type(e) == kind]
    assert await take(own_alerts, 30) == [alert(n) for n in range(30)]  # the publisher's process gets them too
    assert receiver.queue_depths() == {"everything": 0}


async def test_a_type_first_subscribed_after_start_gets_what_is_published_next(make_bus: MakeBus) -> None:
    publisher, receiver = make_bus(), make_bus()
    await publisher.publish(alert(-1))  # before the receiver started: not delivered
    await receiver.start()
    risk = receiver.subscribe(["risk"])
    await publisher.publish(RiskEvent(state=RiskStateView.unknown("reason 1", "fix")))
    assert await take(risk, 1) == [RiskEvent(state=RiskStateView.unknown("reason 1", "fix"))]
    alerts = receiver.subscribe(["alert"])
    await publisher.publish(alert(1))
    assert await take(alerts, 1) == [alert(1)]


async def test_price_streams_are_trimmed_and_others_kept(make_bus: MakeBus, admin: Redis) -> None:
    bus = make_bus(maxlen={"price": 100})
    for n in range(1_000):
        await bus.publish(PriceEvent(symbol="SPY", last=str(n)))
    for n in range(300):
        await bus.publish(alert(n))
    price_len = await admin.xlen(bus._keys["price"])
    assert 100 <= price_len <= 200  # MAXLEN ~ trims whole stream nodes (100 entries by default)
    assert await admin.xlen(bus._keys["alert"]) == 300


async def test_the_reader_reconnects_after_its_connection_is_killed(make_bus: MakeBus, admin: Redis) -> None:
    publisher, receiver = make_bus(), make_bus()
    sub = receiver.subscribe(["alert"])
    await receiver.start()
    await publisher.publish(alert(0))
    assert await take(sub, 1) == [alert(0)]
    with capture_logs() as logs:
        reader_ids = [c["id"] for c in await admin.client_list() if c.get("name") == receiver.client_name]
        assert reader_ids, "the reader's connection should be listed under its client name"
        for client_id in reader_ids:
            await admin.client_kill_filter(_id=client_id)
        for n in range(1, 6):
            await publisher.publish(alert(n))
        assert await take(sub, 5) == [alert(n) for n in range(1, 6)]  # nothing published meanwhile is lost
    assert "bus_reader_disconnected" in [entry["event"] for entry in logs]
    await publisher.publish(alert(6))
    assert await take(sub, 1) == [alert(6)]


async def test_close_cancels_the_reader_and_ends_subscriptions(make_bus: MakeBus) -> None:
    bus = make_bus()
    sub = bus.subscribe()
    await bus.start()
    consumer = asyncio.create_task(take(sub, 1))
    await asyncio.sleep(0.05)
    await bus.close()
    assert await asyncio.wait_for(consumer, 1) == []
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("bus-reader:")]
    await bus.close()  # idempotent


async def test_start_fails_clearly_when_redis_is_unreachable() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    with pytest.raises(ExternalTransient, match="unreachable"):
        await bus.start()
    await bus.close()
