"""What the bot benches share: alerts fired through the real AlertEngine, timed from the `alert` event on the bus
to the alert card's POST recorded at a fake chat API, and the figures line with its ratio to the goal."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from bench._server import percentile
from core.domain.events import AlertEvent
from core.runtime import Runtime

LEVEL = 100_000.0  # above any price the Polygon double serves, so each new alert starts armed
# ALERT_POLL_SEC for the benches: the alert poller (bars for symbols without fresh stream data) stays idle. The
# Polygon double answers its limit=3 minute-aggs request with every minute of the last ~10 days, whose parsing
# would swamp the event loop (real Polygon honours the limit); the benches' ticks stand in for the stream.
POLLER_OFF_SEC = 3600.0

# Every card POST the fake recorded so far, in order: (its time.monotonic(), the request body)
Posts = Callable[[], Sequence[tuple[float, Any]]]
_HEX_ID = re.compile(r"[0-9a-f]{32}")  # core ids are uuid4 hex


def _symbols(count: int) -> list[str]:
    """`count` distinct tickers (QAA, QAB, ... then QAAA, ...), one alert each."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out: list[str] = []
    width = 2
    while len(out) < count:
        for n in range(min(26**width, count - len(out))):
            out.append("Q" + "".join(letters[n // 26**k % 26] for k in reversed(range(width))))
        width += 1
    return out


def figures(label: str, samples: list[float], *, goal_pct: int, goal_ms: float, expected: int) -> bool:
    """Print p50/p95/p99 (ms) and the goal percentile's ratio to the goal; True when the goal is met."""
    if not samples:
        print(f"{label}: no samples (expected {expected})")
        return False
    p50, p95, p99 = (percentile(samples, q) for q in (50, 95, 99))
    measured = percentile(samples, goal_pct)
    ok = measured < goal_ms and len(samples) == expected
    print(f"{label}: {len(samples)}/{expected} measured, p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(samples):.1f} ms (goal p{goal_pct} < {goal_ms:.0f} ms: {measured / goal_ms:.2f}x of the goal) "
          f"-> {'OK' if ok else 'MISSED'}")
    return ok


async def alert_post_latency(rt: Runtime, channel: str, posts: Posts, *, fires: int,
                             interval_sec: float) -> list[float]:
    """Create `fires` alerts (one symbol each, channels ws + `channel`), cross each one's level with a tick on the
    AlertEngine's hook, one every `interval_sec`, and return the ms from the `alert` event's arrival at a bus
    subscriber to the card's POST at the fake (matched by the alert id the card carries)."""
    engine = rt.alert_engine
    assert engine is not None, "the runtime needs the engine role"
    ids: dict[str, str] = {}  # symbol -> alert id
    for symbol in _symbols(fires):
        created = await rt.alerts.create({"symbol": symbol, "condition": "price_above", "level": str(LEVEL),
                                          "channels": ["ws", channel]})
        ids[symbol] = created.id
    wanted = set(ids.values())
    published: dict[str, float] = {}
    sub = rt.bus.subscribe(["alert"], name="bench")

    names = {alert_id: alert_id for alert_id in wanted}  # a card names its alert, or its fire's trigger id

    async def watch() -> None:
        async for event in sub:
            meta = event.meta if isinstance(event, AlertEvent) else None
            if meta is not None and meta.alert_id in wanted:
                published.setdefault(meta.alert_id, time.monotonic())
                if meta.trigger_id:
                    names[meta.trigger_id] = meta.alert_id

    watcher = asyncio.create_task(watch())
    started, cpu = time.monotonic(), time.process_time()
    try:
        for symbol in ids:
            ts_ms = time.time_ns() // 1_000_000
            engine.on_tick(symbol, LEVEL - 1, LEVEL - 1, LEVEL - 1, ts_ms)  # re-arms if it had no last price
            engine.on_tick(symbol, LEVEL + 1, LEVEL + 1, LEVEL + 1, ts_ms + 1)
            await asyncio.sleep(interval_sec)
        deadline = time.monotonic() + 20
        posted: dict[str, float] = {}
        scanned = 0
        while len(posted) < fires and time.monotonic() < deadline:
            calls = posts()
            for at, body in calls[scanned:]:  # each body once: the scan must not load the loop it measures
                for named in {names[i] for i in _HEX_ID.findall(orjson.dumps(body).decode()) if i in names}:
                    posted.setdefault(named, at)
            scanned = len(calls)
            await asyncio.sleep(0.05)
    finally:
        await sub.close()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    cpu = time.process_time() - cpu
    print(f"{fires} alerts crossed, one every {interval_sec * 1000:.0f} ms, over {time.monotonic() - started:.1f} s: "
          f"{len(published)} alert events seen on the bus, {len(posted)} cards posted at the fake; process CPU "
          f"{cpu / fires * 1000:.1f} ms per alert (engine, delivery, notifier and the fake)")
    return [(at - published[alert_id]) * 1000 for alert_id, at in posted.items() if alert_id in published]

