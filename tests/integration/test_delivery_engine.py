"""DeliveryEngine start-up: leases released once, one worker per channel however often start is asked."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from core.db.migrate import upgrade_to_head
from core.db.session import Database
from core.domain.deliveries import Delivery
from core.engines.delivery import DeliveryEngine


class Recorder:
    channel = "ws"

    async def deliver(self, delivery: Delivery) -> None:
        raise AssertionError("nothing is due")


async def test_start_twice_spawns_each_worker_once(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/delivery.db")
    await upgrade_to_head(db)
    engine = DeliveryEngine(db)
    engine.register(Recorder())
    spawned: list[str] = []

    def spawn(coro: Coroutine[Any, Any, Any], name: str) -> None:
        spawned.append(name)
        coro.close()

    try:
        await engine.start(spawn)
        await engine.start(spawn)  # e.g. the Discord bot and the Slack app of one process both ask
    finally:
        await db.close()
    assert sorted(spawned) == ["delivery-sweeper", "delivery-ws"]
