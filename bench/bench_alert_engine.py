"""Alert engine: tick -> `alert` published p95 < 5 ms at 20,000 events/s; alert -> Discord webhook p95 < 100 ms.

In-process: StreamEngine (+ its price publisher) + AlertEngine (index, publisher, group-commit writer on SQLite)
+ InProcessBus with one `alert` subscriber, fed TradeTicks at a paced 20,000 events/s over 1,000 symbols with
10,000 live alerts (repeat=every, so prices walking around the levels keep firing). Latency is measured from the
engine's tick hook (called synchronously by `StreamEngine.on_trade`) to the `alert` publish returning; the
trigger rows, states and outbox are committed after the publish, in group commits, and the run checks that every
published fire was committed exactly once. Then the Discord webhook channel: DeliveryEngine +
DiscordWebhookNotifier against the local webhook double, latency trigger decided -> webhook answered (the outbox
row's latency_ms).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from core.adapters.discord_webhook import DiscordWebhookNotifier
from core.bus import InProcessBus
from core.db.migrate import upgrade_to_head
from core.db.models import AlertDelivery, AlertRow, AlertTrigger
from core.db.repositories.alerts import spec_columns, state_columns
from core.db.session import Database
from core.domain.alerts import AlertSpec, Channel, Condition, Repeat, create
from core.engines.alerts import AlertEngine
from core.engines.delivery import DeliveryEngine
from core.engines.stream import StreamEngine
from core.services.market import MarketService
from core.services.settings import SettingsService
from tests.doubles.discord_webhook import DiscordWebhookDouble

RATE = 20_000
SECONDS = 4.0
N_SYMBOLS = 1_000
PER_SYMBOL = 10
BATCH = 20  # events per 1 ms slot
FIRE_EVERY_SLOTS = 10  # one crossing every 10 ms: ~100 fires/s in the 20,000 events/s tape
ENGINE_GOAL_MS = 5.0
WEBHOOK_GOAL_MS = 100.0
WEBHOOK_FIRES = 150


@dataclass(frozen=True, slots=True)
class Tick:
    symbol: str
    price: float
    size: float
    ts_ms: int


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if len(samples) > 1 else float("nan")


async def _setup(tmp: str, channels: tuple[Channel, ...], symbols: int,
                 per_symbol: int) -> tuple[Database, InProcessBus, StreamEngine, AlertEngine, DeliveryEngine]:
    db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
    await upgrade_to_head(db)
    bus = InProcessBus()
    await bus.start()
    stream = StreamEngine(bus, market_hours=lambda: False)
    market = MarketService(bus, stream, data=None)
    settings = SettingsService(db, initial_watchlist=[])
    delivery = DeliveryEngine(db, idle_poll_sec=0.5)
    engine = AlertEngine(db, bus, market, settings, poll_sec=3600, on_committed=delivery.wake)
    now = datetime.now(UTC)
    rows = []
    for s in range(symbols):
        for k in range(per_symbol):
            above = k % 2 == 0
            step = Decimal(k // 2 + 1) / 4
            level = Decimal(100) + (step if above else -step)
            spec = AlertSpec(f"S{s:04d}", Condition.PRICE_ABOVE if above else Condition.PRICE_BELOW, level,
                             repeat=Repeat.EVERY, channels=channels)
            alert = create(f"a{s:04d}{k:02d}", spec, last_price=Decimal(100)).alert
            rows.append(AlertRow(id=alert.id, **spec_columns(spec), **state_columns(alert), created_at=now,
                                 updated_at=now))
    async with db.uow() as session:
        session.add_all(rows)
    await engine.start()
    return db, bus, stream, engine, delivery


async def engine_latency() -> tuple[float, float, int, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db, bus, stream, engine, _ = await _setup(tmp, (Channel.WS,), N_SYMBOLS, PER_SYMBOL)
        sub = bus.subscribe(["alert"], name="bench")
        received = 0

        async def drain() -> None:
            nonlocal received
            async for _ in sub:
                received += 1

        tasks = [asyncio.create_task(stream.run()), asyncio.create_task(engine.run()), asyncio.create_task(drain())]
        rng = random.Random(7)
        prices = [100.0] * N_SYMBOLS
        total = int(RATE * SECONDS)
        start = time.perf_counter()
        sent = slot = 0
        while sent < total:
            target = start + sent / RATE
            delay = target - time.perf_counter()
            await asyncio.sleep(delay if delay > 0 else 0)
            ts = time.time_ns() // 1_000_000
            slot += 1
            for n in range(BATCH):
                i = rng.randrange(N_SYMBOLS)
                if n == 0 and slot % FIRE_EVERY_SLOTS == 0:  # a crossing of the nearest level above
                    price = 100.3
                else:  # the background tape: a walk inside (99.9, 100.1), which also re-arms
                    prices[i] = price = round(min(max(prices[i] + rng.choice((-0.01, 0.01)), 99.91), 100.09), 2)
                stream.on_trade(Tick(f"S{i:04d}", price, 100, ts), time.time_ns())  # type: ignore[arg-type]
                sent += 1
        elapsed = time.perf_counter() - start
        await asyncio.sleep(1.0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # the engine drains: the last fires are committed
        async with db.read() as session:
            committed = len((await session.scalars(select(AlertTrigger.id))).all())
        await bus.close()
        await db.close()
        samples = [ns / 1e6 for ns in engine.latency_ns]
        return pct(samples, 95), pct(samples, 50), len(samples), sent / elapsed, committed


async def webhook_latency() -> tuple[float, float, int]:
    async with DiscordWebhookDouble() as hook:
        with tempfile.TemporaryDirectory() as tmp:
            db, bus, stream, engine, delivery = await _setup(tmp, (Channel.DISCORD_WEBHOOK,), WEBHOOK_FIRES, 1)
            notifier = DiscordWebhookNotifier(hook.url, dashboard_url="http://127.0.0.1:8000/")
            delivery.register(notifier)
            tasks: list[asyncio.Task[object]] = []
            await delivery.start(lambda coro, name: tasks.append(asyncio.create_task(coro, name=name)))
            tasks.append(asyncio.create_task(engine.run()))
            for s in range(WEBHOOK_FIRES):  # one crossing every 20 ms (50/s), each on its own alert
                stream.on_trade(Tick(f"S{s:04d}", 100.3, 100, time.time_ns() // 1_000_000), time.time_ns())  # type: ignore[arg-type]
                await asyncio.sleep(0.02)
            deadline = time.monotonic() + 20
            while len(hook.accepted) < WEBHOOK_FIRES and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            async with db.read() as session:
                rows = (await session.scalars(select(AlertDelivery.latency_ms)
                                              .where(AlertDelivery.status == "delivered"))).all()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await notifier.aclose()
            await bus.close()
            await db.close()
    samples = [float(v) for v in rows if v is not None]
    return pct(samples, 95), pct(samples, 50), len(samples)


async def _run() -> bool:
    p95, p50, fires, rate, committed = await engine_latency()
    print(f"engine: {rate:,.0f} events/s fed for {SECONDS:.0f} s, {N_SYMBOLS:,} symbols, "
          f"{N_SYMBOLS * PER_SYMBOL:,} alerts, {fires:,} alerts published, {committed:,} triggers committed")
    print(f"engine latency tick -> alert published: p50 {p50:.2f} ms, p95 {p95:.2f} ms "
          f"(goal p95 < {ENGINE_GOAL_MS} ms: {p95 / ENGINE_GOAL_MS:.2f}x of the goal)")
    w95, w50, delivered = await webhook_latency()
    print(f"discord webhook double: {delivered}/{WEBHOOK_FIRES} delivered, trigger -> webhook answered "
          f"p50 {w50:.1f} ms, p95 {w95:.1f} ms (goal p95 < {WEBHOOK_GOAL_MS} ms: {w95 / WEBHOOK_GOAL_MS:.2f}x)")
    return (rate >= RATE * 0.95 and fires > 100 and committed == fires and p95 < ENGINE_GOAL_MS
            and delivered == WEBHOOK_FIRES and w95 < WEBHOOK_GOAL_MS)


def main() -> bool:
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
