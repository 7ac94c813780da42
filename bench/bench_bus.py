"""Event bus latency: InProcessBus fan-out (10 subscribers, 20,000 events/s) and RedisBus across two instances.

Publish->receive latency of every delivered event, measured from just before ``publish`` to the moment the
subscriber's ``async for`` yields it. Baselines: a plain ``asyncio.Queue`` hop per subscriber (in-process) and
raw redis-py XADD + blocking XREAD on two connections (Redis).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import uuid
from collections.abc import Awaitable, Callable
from time import perf_counter, perf_counter_ns
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.bus import InProcessBus, RedisBus
from core.domain.events import PriceEvent

SUBSCRIBERS = 10
RATE = 20_000
SECONDS = 3.0
REDIS_RATE = 2_000
REDIS_SECONDS = 2.0
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _ms(samples: list[int]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] / 1e6, "p95": cuts[94] / 1e6, "p99": cuts[98] / 1e6}


def _report(label: str, samples: list[int], expected: int) -> dict[str, float]:
    figures = _ms(samples)
    print(f"{label:<44} p50 {figures['p50']:7.3f} ms  p95 {figures['p95']:7.3f} ms  "
          f"p99 {figures['p99']:7.3f} ms  delivered {len(samples)}/{expected}")
    return figures


async def _paced(publish: Callable[[int], Awaitable[object]], rate: int, seconds: float, stamps: list[int]) -> float:
    """Publish ``rate * seconds`` sequence numbers on schedule (small batches, yielding between them)."""
    total = len(stamps)
    start = perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((perf_counter() - start) * rate) + 1)
        while sent < due:
            stamps[sent] = perf_counter_ns()
            await publish(sent)
            sent += 1
        await asyncio.sleep(0.0005)
    return total / (perf_counter() - start)


async def _inprocess_bus() -> tuple[list[int], int, float]:
    bus = InProcessBus()
    stamps = [0] * int(RATE * SECONDS)
    samples: list[int] = []
    subs = [bus.subscribe(["price"], name=f"bench-{i}") for i in range(SUBSCRIBERS)]

    async def consume(index: int) -> None:
        async for event in subs[index]:
            samples.append(perf_counter_ns() - stamps[int(event.last)])  # type: ignore[union-attr]

    consumers = [asyncio.create_task(consume(i)) for i in range(SUBSCRIBERS)]
    rate = await _paced(lambda n: bus.publish(PriceEvent(symbol="SPY", last=str(n))), RATE, SECONDS, stamps)
    await asyncio.sleep(0.1)
    dropped = sum(sub.dropped for sub in subs)
    await bus.close()
    await asyncio.gather(*consumers)
    return samples, dropped, rate


async def _plain_queues() -> list[int]:
    queues: list[asyncio.Queue[int]] = [asyncio.Queue(1024) for _ in range(SUBSCRIBERS)]
    stamps = [0] * int(RATE * SECONDS)
    samples: list[int] = []

    async def consume(queue: asyncio.Queue[int]) -> None:
        while (n := await queue.get()) >= 0:
            samples.append(perf_counter_ns() - stamps[n])

    async def publish(n: int) -> None:
        for queue in queues:
            queue.put_nowait(n)

    consumers = [asyncio.create_task(consume(queue)) for queue in queues]
    await _paced(publish, RATE, SECONDS, stamps)
    await publish(-1)
    await asyncio.gather(*consumers)
    return samples


async def _redis_bus(prefix: str) -> list[int]:
    publisher = RedisBus(REDIS_URL, prefix=prefix)
    receiver = RedisBus(REDIS_URL, prefix=prefix)
    stamps = [0] * int(REDIS_RATE * REDIS_SECONDS)
    samples: list[int] = []
    sub = receiver.subscribe(["price"], name="bench")
    await receiver.start()

    async def consume() -> None:
        async for event in sub:
            samples.append(perf_counter_ns() - stamps[int(event.last)])  # type: ignore[union-attr]
            if len(samples) == len(stamps):
                return

    consumer = asyncio.create_task(consume())
    await _paced(lambda n: publisher.publish(PriceEvent(symbol="SPY", last=str(n))),
                 REDIS_RATE, REDIS_SECONDS, stamps)
    await asyncio.wait({consumer}, timeout=5)
    await receiver.close()
    await publisher.close()
    await consumer
    return samples


async def _raw_streams(key: str) -> list[int]:
    writer, reader = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    stamps = [0] * int(REDIS_RATE * REDIS_SECONDS)
    samples: list[int] = []

    async def consume() -> None:
        last = "$"
        while len(samples) < len(stamps):
            reply: list[list[Any]] = await reader.xread({key: last}, count=512, block=1000)  # type: ignore[assignment]
            for _, rows in reply:
                for entry_id, fields in rows:
                    samples.append(perf_counter_ns() - stamps[int(fields[b"n"])])
                    last = entry_id

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.05)  # let the first XREAD block on "$"
    await _paced(lambda n: writer.xadd(key, {b"n": n}, maxlen=1_000), REDIS_RATE, REDIS_SECONDS, stamps)
    await asyncio.wait_for(consumer, 5)
    await writer.delete(key)
    await writer.aclose()
    await reader.aclose()
    return samples


async def _run() -> bool:
    print(f"in-process: {SUBSCRIBERS} subscribers, {RATE:,} price events/s for {SECONDS:.0f} s")
    baseline = _report("baseline: plain asyncio.Queue hop", await _plain_queues(), int(RATE * SECONDS) * SUBSCRIBERS)
    samples, dropped, rate = await _inprocess_bus()
    figures = _report("InProcessBus publish->receive", samples, int(RATE * SECONDS) * SUBSCRIBERS)
    print(f"achieved {rate:,.0f} events/s, dropped {dropped}; "
          f"ratio vs asyncio.Queue hop: p50 {figures['p50'] / baseline['p50']:.2f}x, "
          f"p95 {figures['p95'] / baseline['p95']:.2f}x")

    print(f"\nRedis ({REDIS_URL}): 2 instances, {REDIS_RATE:,} price events/s for {REDIS_SECONDS:.0f} s")
    prefix = f"bench:bus:{uuid.uuid4().hex}:"
    try:
        raw = _report("baseline: raw XADD + blocking XREAD", await _raw_streams(f"{prefix}raw"),
                      int(REDIS_RATE * REDIS_SECONDS))
        redis_figures = _report("RedisBus publish->receive (2 instances)", await _redis_bus(prefix),
                                int(REDIS_RATE * REDIS_SECONDS))
    except (RedisError, OSError) as exc:
        print(f"Redis unreachable ({type(exc).__name__}: {exc}): RedisBus figures missing")
        return False
    print(f"ratio vs raw XADD/XREAD: p50 {redis_figures['p50'] / raw['p50']:.2f}x, "
          f"p95 {redis_figures['p95'] / raw['p95']:.2f}x")
    return True


def main() -> bool:
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
