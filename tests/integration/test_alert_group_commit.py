"""AlertEngine publish-then-group-commit (SQLite and PostgreSQL): the `alert` event never waits for the database,
a fired state is never committed without its trigger, one transaction carries every fire published meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from core.bus import InProcessBus
from core.db.migrate import upgrade_to_head
from core.db.models import AlertDelivery, AlertRow, AlertTrigger
from core.db.session import Database
from core.domain.events import AlertEvent
from core.engines.alerts import AlertEngine
from core.engines.stream import StreamEngine
from core.services.alerts import AlertService
from core.services.market import MarketService
from core.services.settings import SettingsService


@dataclass
class Rig:
    db: Database
    bus: InProcessBus
    engine: AlertEngine
    alerts: AlertService


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[Rig]:
    db = Database(database_url)
    await upgrade_to_head(db)
    bus = InProcessBus()
    stream = StreamEngine(bus, market_hours=lambda: False)
    market = MarketService(bus, stream, data=None)
    engine = AlertEngine(db, bus, market, SettingsService(db, initial_watchlist=[]), poll_sec=3600)
    await engine.start()
    try:
        yield Rig(db, bus, engine, AlertService(db, market, max_active=100, engine=engine))
    finally:
        await bus.close()
        await db.close()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def rows(db: Database, model: Any) -> list[Any]:
    async with db.read() as session:
        return list((await session.scalars(select(model))).all())


async def alert_row(db: Database, alert_id: str) -> AlertRow:
    async with db.read() as session:
        row = await session.get(AlertRow, alert_id)
        assert row is not None
        return row


async def test_alert_is_published_while_the_writer_is_blocked_then_committed_with_its_state(rig: Rig) -> None:
    created = await rig.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500"})
    sub = rig.bus.subscribe(["alert"], name="test")
    runner = asyncio.create_task(rig.engine.run())
    try:
        async with rig.engine.write_lock:  # the database is "slow": no commit can happen now
            rig.engine.on_tick("SPY", 500.5, 500.5, 500.5, now_ms())
            event = await asyncio.wait_for(anext(aiter(sub)), 2)
            assert isinstance(event, AlertEvent) and event.meta is not None
            assert event.meta.alert_id == created.id
            assert await rows(rig.db, AlertTrigger) == []
            row = await alert_row(rig.db, created.id)
            assert (row.status, row.armed) == ("active", True)
        deadline = time.monotonic() + 5
        while not await rows(rig.db, AlertTrigger):
            assert time.monotonic() < deadline, "trigger never committed"
            await asyncio.sleep(0.02)
        [trigger] = await rows(rig.db, AlertTrigger)
        assert trigger.id == event.meta.trigger_id
        [delivery] = await rows(rig.db, AlertDelivery)
        assert (delivery.channel, delivery.status, delivery.attempts) == ("ws", "delivered", 1)
        row = await alert_row(rig.db, created.id)
        assert (row.status, row.armed) == ("triggered", False)
        assert rig.engine.published == 1 and len(rig.engine.latency_ns) == 1
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await sub.close()


async def test_fired_state_waits_for_its_trigger_and_one_commit_carries_every_published_fire(rig: Rig) -> None:
    ids = [(await rig.alerts.create({"symbol": "SPY", "condition": "price_above", "level": level,
                                     "repeat": "every"})).id for level in ("500", "501", "502")]
    rig.engine.on_tick("SPY", 503.0, 503.0, 503.0, now_ms())  # three fires, queued, not published yet
    assert await rig.engine.commit() == []  # nothing published: the fired states are held back
    for alert_id in ids:
        assert (await alert_row(rig.db, alert_id)).last_triggered_at is None
    rig.engine.on_tick("SPY", 499.0, 499.0, 499.0, now_ms())  # re-arms all three: a later state, same alerts
    assert await rig.engine.commit() == []  # still held back: their fires are not written yet
    assert await rows(rig.db, AlertTrigger) == []
    for alert_id in ids:
        assert (await alert_row(rig.db, alert_id)).last_triggered_at is None

    written = await rig.engine.drain()  # publish the three, then ONE group commit with fires and states
    assert sorted(item.fire.alert.id for item in written) == sorted(ids)
    assert sorted(t.alert_id for t in await rows(rig.db, AlertTrigger)) == sorted(ids)
    for alert_id in ids:
        row = await alert_row(rig.db, alert_id)
        assert (row.status, row.armed, row.last_triggered_at is not None) == ("active", True, True)
    assert len(await rows(rig.db, AlertDelivery)) == 3


async def test_a_failed_commit_keeps_the_fires_and_the_retry_writes_them_once(rig: Rig,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    created = await rig.alerts.create({"symbol": "SPY", "condition": "price_below", "level": "100",
                                       "repeat": "every"})
    rig.engine.on_tick("SPY", 99.0, 99.0, 99.0, now_ms())
    calls = 0
    real_uow = rig.db.uow

    def flaky_uow() -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database is locked")
        return real_uow()

    monkeypatch.setattr(rig.db, "uow", flaky_uow)
    with pytest.raises(OSError):
        await rig.engine.drain()
    assert await rows(rig.db, AlertTrigger) == []
    written = await rig.engine.commit()
    assert [item.fire.alert.id for item in written] == [created.id]
    assert await rig.engine.commit() == []
    assert len(await rows(rig.db, AlertTrigger)) == 1 and len(await rows(rig.db, AlertDelivery)) == 1
    assert (await alert_row(rig.db, created.id)).armed is False
