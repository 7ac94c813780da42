"""Alert to a /ws client over loopback: p95 < 50 ms from the crossing trade sent to the `alert` frame received.

The real app (api + engine roles) runs under uvicorn in a child process, its Polygon URLs pointed at the local
Polygon double in this process, with one SPY alert (price_above 500, repeat every, no cooldown) created over
REST. The double streams a background tape (BACKGROUND_RATE trades/s on QQQ, which the /ws hub also fans out as
`price` events) and, FIRE_RATE times a second, a frame with a SPY trade at 499 (re-arms the alert) and one at
500.5 (fires it). Each trade's exchange time `t` is its send time (epoch ms), and an `alert` event carries it as
``meta.fired_at``, so receive time - fired_at is the whole path: double -> Polygon socket -> feed reader/decoder
-> StreamEngine -> AlertEngine (index, publish before the group commit) -> bus -> /ws hub -> each of CLIENTS
clients. Goal: p95 < 50 ms, and every fire reaches every client.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import suppress
from datetime import datetime

import httpx
import orjson
import websockets

from bench._server import BENCH_KEY, app_process_async, percentile
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble

SECONDS = float(os.environ.get("BENCH_ALERT_WS_SEC", "10"))
FIRE_RATE = 20
BACKGROUND_RATE = 2_000
FRAME_EVENTS = 25
CLIENTS = 5
GOAL_P95_MS = 50.0


def _trade(symbol: str, price: float, seq: int, now_ms: int) -> dict[str, object]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": str(seq), "z": 3, "p": price, "s": 100, "c": [0], "t": now_ms,
            "q": seq}


async def _background(pg: PolygonDouble, stop: asyncio.Event) -> None:
    """QQQ trades at BACKGROUND_RATE: one frame of FRAME_EVENTS every FRAME_EVENTS / BACKGROUND_RATE seconds."""
    loop = asyncio.get_running_loop()
    period, next_at, seq = FRAME_EVENTS / BACKGROUND_RATE, loop.time(), 0
    while not stop.is_set():
        now_ms = time.time_ns() // 1_000_000
        frame = [_trade("QQQ", 400 + (seq + i) % 100 / 100, seq + i, now_ms) for i in range(FRAME_EVENTS)]
        seq += FRAME_EVENTS
        await pg.push(orjson.dumps(frame).decode())
        next_at += period
        await asyncio.sleep(max(next_at - loop.time(), 0))


async def _fires(pg: PolygonDouble) -> int:
    loop = asyncio.get_running_loop()
    total = int(SECONDS * FIRE_RATE)
    start = loop.time()
    for n in range(total):
        await asyncio.sleep(max(start + n / FIRE_RATE - loop.time(), 0))
        now_ms = time.time_ns() // 1_000_000
        await pg.push(orjson.dumps([_trade("SPY", 499.0, 2 * n, now_ms),
                                    _trade("SPY", 500.5, 2 * n + 1, now_ms)]).decode())
    return total


async def _client(url: str, latencies: list[float], connected: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=2**22, compression=None) as ws:
        connected.set()
        async for raw in ws:
            received = time.time()
            event = orjson.loads(raw)
            meta = event.get("meta") or {}
            if event["type"] == "alert" and meta.get("kind") == "crossed" and "update" not in meta:
                latencies.append((received - datetime.fromisoformat(meta["fired_at"]).timestamp()) * 1000)


async def _run() -> bool:
    async with PolygonDouble() as pg:
        pg.market = "closed"  # no data watchdog in the child: the tape decides what arrives
        async with app_process_async(POLYGON_API_KEY=POLYGON_KEY, POLYGON_REST_URL=pg.rest_url,
                                     POLYGON_WS_URL=pg.ws_url, WATCHLIST="SPY,QQQ", EVENT_BUS_URL="memory://") as app:
            base = app.base
            async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": BENCH_KEY}, timeout=10) as http:
                created = await http.post("/api/v1/alerts", json={"symbol": "SPY", "condition": "price_above",
                                                                  "level": "500", "repeat": "every"})
                created.raise_for_status()
            await pg.wait_until(lambda: {"T.SPY", "T.QQQ"} <= pg.subscriptions, within=15)
            latencies: list[float] = []
            ws_url = base.replace("http://", "ws://") + f"/ws?api_key={BENCH_KEY}"
            ready = [asyncio.Event() for _ in range(CLIENTS)]
            clients = [asyncio.create_task(_client(ws_url, latencies, event)) for event in ready]
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), 10)
            stop = asyncio.Event()
            background = asyncio.create_task(_background(pg, stop))
            await asyncio.sleep(1.0)  # the tape runs before the first crossing
            fires = await _fires(pg)
            await asyncio.sleep(1.0)
            stop.set()
            for task in (background, *clients):
                task.cancel()
                with suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                    await task
    expected = fires * CLIENTS
    if not latencies:
        print(f"no `alert` frame reached the {CLIENTS} clients ({fires} crossings sent)")
        return False
    p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
    print(f"{fires} crossings at {FIRE_RATE}/s over a {BACKGROUND_RATE:,} trades/s tape, {CLIENTS} /ws clients: "
          f"{len(latencies)}/{expected} `alert` frames received")
    print(f"crossing trade sent -> `alert` frame received: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms "
          f"(goal p95 < {GOAL_P95_MS:.0f} ms: {p95 / GOAL_P95_MS:.2f}x of the goal)")
    return len(latencies) == expected and p95 < GOAL_P95_MS


def main() -> bool:
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
