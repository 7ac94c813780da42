"""InProcessBus: fan-out, type filter, price drop-oldest, non-price backpressure, closing, depths, factory."""

from __future__ import annotations

import asyncio

import pytest

from core.bus import InProcessBus, QueueSubscription, RedisBus, create_bus
from core.domain.events import AlertEvent, Event, OrdersEvent, PriceEvent, RiskEvent, StatusEvent
from core.domain.risk_view import RiskStateView
from core.errors import Invalid
from core.ports import EventBus


def price(n: int) -> PriceEvent:
    return PriceEvent(symbol="SPY", last=str(n))


def alert(n: int) -> AlertEvent:
    return AlertEvent(level="info", msg=f"a{n}")


async def take(sub: QueueSubscription, n: int) -> list[Event]:
    out: list[Event] = []
    async for event in sub:
        out.append(event)
        if len(out) == n:
            break
    return out


async def drain(sub: QueueSubscription) -> list[Event]:
    """Everything queued right now, without waiting for more."""
    return await take(sub, sub.depth) if sub.depth else []


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_every_subscriber_receives_every_event_in_order() -> None:
    bus = InProcessBus()
    subs = [bus.subscribe() for _ in range(3)]
    unknown = RiskEvent(state=RiskStateView.unknown("not evaluated", "wait"))
    events: list[Event] = [alert(1), price(1), unknown, OrdersEvent(items=[]), price(2)]
    for event in events:
        await bus.publish(event)
    for sub in subs:
        assert await take(sub, len(events)) == events


async def test_subscribers_only_get_the_types_they_asked_for() -> None:
    bus = InProcessBus()
    alerts = bus.subscribe(["alert"])
    prices_and_status = bus.subscribe(["price", "status"])
    await bus.publish(price(1))
    await bus.publish(alert(1))
    await bus.publish(StatusEvent(integrations={}))
    assert await drain(alerts) == [alert(1)]
    assert await drain(prices_and_status) == [price(1), StatusEvent(integrations={})]
    assert bus.subscribed_types() == {"alert", "price", "status"}


async def test_publishing_without_subscribers_is_a_no_op() -> None:
    bus = InProcessBus()
    await bus.publish(alert(1))
    sub = bus.subscribe(["risk"])
    await bus.publish(alert(2))  # no alert subscriber: must not block or queue anywhere
    assert sub.depth == 0


async def test_price_is_drop_oldest_and_counts_drops() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(["price"], maxsize=3)
    for n in range(5):
        await bus.publish(price(n))
    assert sub.depth == 3
    assert sub.dropped == 2
    assert await take(sub, 3) == [price(2), price(3), price(4)]


async def test_price_never_evicts_other_event_types() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(maxsize=3)
    await bus.publish(alert(1))
    await bus.publish(price(1))
    await bus.publish(alert(2))
    await bus.publish(price(2))  # full: evicts price(1), not alert(1)
    assert await drain(sub) == [alert(1), alert(2), price(2)]
    assert sub.dropped == 1
    await sub.close()
    full_of_alerts = bus.subscribe(["alert", "price"], maxsize=2)
    await bus.publish(alert(3))
    await bus.publish(alert(4))
    await bus.publish(price(3))  # nothing evictable: the new price is the one dropped
    assert await drain(full_of_alerts) == [alert(3), alert(4)]
    assert full_of_alerts.dropped == 1


async def test_non_price_events_wait_for_space_and_none_is_lost() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(["alert"], maxsize=2)
    await bus.publish(alert(1))
    await bus.publish(alert(2))
    blocked = asyncio.create_task(bus.publish(alert(3)))
    await settle()
    assert not blocked.done()  # backpressure: the publisher waits
    assert await take(sub, 1) == [alert(1)]
    await settle()
    assert blocked.done()
    assert await take(sub, 2) == [alert(2), alert(3)]
    assert sub.dropped == 0


async def test_a_waiting_publisher_keeps_its_slot_against_later_prices() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(maxsize=2)
    await bus.publish(price(1))
    await bus.publish(alert(1))
    blocked = asyncio.create_task(bus.publish(alert(2)))
    await settle()
    await bus.publish(price(2))  # queue full of [price1, alert1]: evicts price1
    assert await take(sub, 1) == [alert(1)]
    await settle()
    assert blocked.done()
    assert await take(sub, 2) == [price(2), alert(2)]


async def test_a_closed_subscriber_does_not_block_publishers() -> None:
    bus = InProcessBus()
    stuck = bus.subscribe(["alert"], maxsize=1, name="stuck")
    healthy = bus.subscribe(["alert"], name="healthy")
    await bus.publish(alert(1))
    blocked = asyncio.create_task(bus.publish(alert(2)))
    await settle()
    assert not blocked.done()
    await stuck.close()
    await asyncio.wait_for(blocked, 1)
    await asyncio.wait_for(bus.publish(alert(3)), 1)
    assert await take(healthy, 3) == [alert(1), alert(2), alert(3)]
    assert [event async for event in stuck] == []


async def test_closing_ends_iteration_of_waiting_consumers() -> None:
    bus = InProcessBus()
    sub = bus.subscribe()
    consumer = asyncio.create_task(take(sub, 10))
    await bus.publish(alert(1))
    await settle()
    await bus.close()
    assert await asyncio.wait_for(consumer, 1) == [alert(1)]
    assert bus.queue_depths() == {}


async def test_queue_depths_are_reported_per_subscription_name() -> None:
    bus = InProcessBus()
    ws = bus.subscribe(name="ws")
    bus.subscribe(["price"], name="engine")
    unnamed = bus.subscribe(["risk"])
    await bus.publish(price(1))
    await bus.publish(alert(1))
    assert bus.queue_depths() == {"ws": 2, "engine": 1, unnamed.name: 0}
    await ws.close()
    assert bus.queue_depths() == {"engine": 1, unnamed.name: 0}


@pytest.mark.parametrize("types", [[], ["nope"]])
async def test_subscribe_rejects_unknown_or_empty_types(types: list[str]) -> None:
    with pytest.raises(Invalid):
        InProcessBus().subscribe(types)  # type: ignore[arg-type]


async def test_create_bus_picks_the_transport_from_the_url() -> None:
    memory = create_bus("memory://")
    assert isinstance(memory, InProcessBus)
    assert isinstance(memory, EventBus)
    redis_bus = create_bus("redis://127.0.0.1:6379/0")  # connects only on start()
    assert isinstance(redis_bus, RedisBus)
    await redis_bus.close()
    with pytest.raises(Invalid, match=r"memory://.*redis://") as caught:
        create_bus("kafka://user:secret@broker:9092")
    assert "secret" not in caught.value.message
