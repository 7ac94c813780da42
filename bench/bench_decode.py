"""Polygon feed decode+dispatch vs the official `massive` client's parse path, and engine lag receive -> price event.

Part 1 decodes the same recorded-shape frames (mixed T/Q/AM, 10-100 events per frame, 500 symbols) with our
msgspec path (FrameDecoder + PolygonFeed dispatch into a counting sink) and with the official client's path
(`json.loads` + `massive.websocket.models.parse`, one dataclass per event), side by side, and prints events/s and
the ratio (goals: >= 4x and >= 500,000 events/s). Part 2 drives the real feed decoder task and StreamEngine at
20,000 events/s for 500 symbols into an in-memory bus and prints the receive -> PriceEvent published p95 (goal
< 2 ms).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import statistics
import time
from typing import Any

from pydantic import SecretStr

from core.adapters.polygon.stream import PolygonFeed
from core.domain.events import Event
from core.domain.market import BarTick, QuoteTick, TradeTick
from core.engines.stream import StreamEngine

SYMBOLS = [f"S{i:03d}" for i in range(500)]
_RNG = random.Random(7)


def _event(symbol: str, ts: int) -> dict[str, Any]:
    kind = _RNG.random()
    price = round(_RNG.uniform(5, 500), 4)
    if kind < 0.30:
        return {"ev": "T", "sym": symbol, "x": 4, "i": str(_RNG.randrange(10**12)), "z": 3, "p": price,
                "s": _RNG.randrange(1, 500), "c": [0, 12], "t": ts, "q": _RNG.randrange(10**8)}
    if kind < 0.95:
        return {"ev": "Q", "sym": symbol, "bx": 4, "bp": price, "bs": 100, "ax": 7, "ap": price + 0.01,
                "as": 160, "c": 0, "i": [604], "t": ts, "q": _RNG.randrange(10**8), "z": 3}
    return {"ev": "AM", "sym": symbol, "v": 4110, "av": 9470157, "op": price, "vw": price, "o": price,
            "c": price, "h": price + 0.1, "l": price - 0.1, "a": price, "z": 685, "s": ts - ts % 60_000,
            "e": ts - ts % 60_000 + 60_000}


def make_frames(count: int, ts: int | None = None) -> list[bytes]:
    now = ts if ts is not None else int(time.time() * 1000)
    return [json.dumps([_event(_RNG.choice(SYMBOLS), now) for _ in range(_RNG.randint(10, 100))]).encode()
            for _ in range(count)]


class CountingSink:
    def __init__(self) -> None:
        self.count = 0

    def on_trade(self, trade: TradeTick, recv_ns: int) -> None:
        self.count += 1

    def on_quote(self, quote: QuoteTick, recv_ns: int) -> None:
        self.count += 1

    def on_bar(self, bar: BarTick, seconds: int, recv_ns: int, late: bool = False) -> None:
        self.count += 1


class MemoryBus:
    """In-memory EventBus stub: publish appends."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    def subscribe(self, types: Any = None, *, maxsize: int = 1024) -> Any:
        raise NotImplementedError

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def queue_depths(self) -> dict[str, int]:
        return {}


def _ours(frames: list[bytes], rounds: int) -> tuple[float, int]:
    sink = CountingSink()
    feed = PolygonFeed("ws://unused", SecretStr("x"), sink)
    decode, dispatch = feed._frames.decode, feed._dispatch
    started = time.perf_counter()
    for _ in range(rounds):
        for frame in frames:
            dispatch(decode(frame), 0)
    return time.perf_counter() - started, sink.count


def _official(frames: list[bytes], rounds: int) -> tuple[float, int]:
    from massive.websocket.models import Market, parse

    texts = [f.decode() for f in frames]  # the official client receives str frames
    logger = logging.getLogger("bench.massive")
    count = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            count += len(parse(json.loads(text), logger, Market.Stocks))
    return time.perf_counter() - started, count


def decode_throughput() -> tuple[float, float]:
    frames = make_frames(2000)
    events = sum(len(json.loads(f)) for f in frames)
    _ours(frames[:100], 1), _official(frames[:100], 1)  # warm-up
    ours = min(_ours(frames, 3)[0] for _ in range(3))
    official = min(_official(frames, 3)[0] for _ in range(3))
    ours_eps, official_eps = events * 3 / ours, events * 3 / official
    print(f"frames={len(frames)} events/frame avg={events / len(frames):.1f}")
    print(f"ours (msgspec typed + dispatch): {ours_eps:,.0f} events/s")
    print(f"official (json.loads + massive parse): {official_eps:,.0f} events/s")
    print(f"ratio: {ours_eps / official_eps:.2f}x (goal >= 4x; ours goal >= 500,000 events/s)")
    return ours_eps, official_eps


async def engine_lag(rate: int = 20_000, seconds: float = 3.0, frame_events: int = 20) -> float:
    bus = MemoryBus()
    engine = StreamEngine(bus, lag_samples=1_000_000, market_hours=lambda: True)
    engine.watch(set(SYMBOLS))
    feed = PolygonFeed("ws://unused", SecretStr("x"), engine, queue_size=100_000)
    tasks = [asyncio.create_task(engine.run()), asyncio.create_task(feed._decode_loop())]
    per_second = rate // frame_events
    frames = [_paced_frame(frame_events) for _ in range(int(per_second * seconds) + 1)]
    sent, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        due = min(int(elapsed * per_second), len(frames)) - sent
        for frame in frames[sent:sent + max(due, 0)]:
            feed._queue.put_nowait((frame, time.time_ns()))
        sent += max(due, 0)
        await asyncio.sleep(0.0005)
    await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lags = sorted(engine._engine_lag)
    p50, p95 = statistics.median(lags), lags[int(len(lags) * 0.95)]
    counters = feed.status.counters
    dropped = counters.get("dropped") if isinstance(counters, dict) else None
    print(f"engine: {sent * frame_events / seconds:,.0f} events/s offered for {len(SYMBOLS)} symbols, "
          f"{len(bus.events):,} price events published, dropped={dropped}")
    print(f"engine lag receive -> PriceEvent published: p50 {p50:.3f} ms, p95 {p95:.3f} ms (goal p95 < 2 ms)")
    return p95


def _paced_frame(events: int) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps([_event(_RNG.choice(SYMBOLS), now) for _ in range(events)]).encode()


def main() -> bool:
    ours, official = decode_throughput()
    p95 = asyncio.run(engine_lag())
    ok = ours >= 500_000 and ours / official >= 4 and p95 < 2.0
    print("PASS" if ok else "BELOW GOAL")
    return ok
