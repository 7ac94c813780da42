"""Price to a /ws client over loopback: p95 < 300 ms including coalescing (500 symbols), and RSS stays flat.

The real app runs under uvicorn in a child process (its own event loop and core), with its Polygon URLs pointed
at the local Polygon double in this process. The double pushes trades at a steady rate (BENCH_PRICE_RATE events/s,
default 2,000, spread over 500 watched symbols, in frames of 25 events). Each trade's exchange timestamp `t` is
its send time (epoch ms), and a `price` event's `as_of` is the timestamp of the latest trade it carries, so
receive time - as_of is the full path: double -> Polygon socket -> feed reader/decoder -> StreamEngine -> bus ->
/ws hub coalescing (PRICE_EVENT_HZ, default 4/s per symbol) -> client.

The run lasts BENCH_SOAK_SEC (default 60; the issue's soak is 600). The app's RSS (/proc/<pid>/status VmRSS) is
sampled every 2 s; growth is the least-squares slope after a warm-up, in MB/minute.
Goals: p95 < 300 ms; RSS flat, taken as < 0.5 MB/minute (5 MB over the 10-minute soak).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import websockets

from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble

SYMBOLS = int(os.environ.get("BENCH_PRICE_SYMBOLS", "500"))
RATE = int(os.environ.get("BENCH_PRICE_RATE", "2000"))
SOAK_SEC = float(os.environ.get("BENCH_SOAK_SEC", "60"))
FRAME_EVENTS = 25
WARMUP_SEC = min(10.0, SOAK_SEC / 4)
GOAL_P95_MS = 300.0
GOAL_RSS_MB_PER_MIN = 0.5
API_KEY = "bench-api-key-0123456789-abcdefghijklmnop"
ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import asyncio, os, sys, uvicorn
from api.app import create_app
from core.logs import configure_logging
from core.settings import Settings

configure_logging("WARNING")  # JSON lines on stderr: stdout carries only the `ready` line the bench waits for

async def main() -> None:
    app = create_app(Settings(), roles=frozenset({"api", "engine"}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None,
                                           access_log=False, lifespan="on", ws_per_message_deflate=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    # More symbols than the watchlist setting allows (200): the watched set also holds every live alert's symbol,
    # so each gets an alert far above its price (the picks universe refresh re-derives the watched set from these).
    runtime = app.state.runtime
    for symbol in os.environ["BENCH_SYMBOLS"].split(","):
        await runtime.alerts.create({"symbol": symbol, "condition": "price_above", "level": "100000"})
    await runtime.alert_engine.sync_watch(force=True)
    print("ready", flush=True)
    await task

asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_child(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(port)], env=env, stdout=subprocess.PIPE, cwd=ROOT)


def _symbols(count: int) -> list[str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [f"S{letters[i // 676 % 26]}{letters[i // 26 % 26]}{letters[i % 26]}" for i in range(count)]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _slope_per_min(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return float("nan")
    xs = [t for t, _ in samples]
    ys = [v for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 60 if var else float("nan")


async def _pump(pg: PolygonDouble, symbols: list[str], stop: asyncio.Event, sent: list[int]) -> None:
    """Trades at a steady RATE: one frame of FRAME_EVENTS every FRAME_EVENTS / RATE seconds, round-robin symbols."""
    period = FRAME_EVENTS / RATE
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    cursor = 0
    while not stop.is_set():
        now_ms = time.time_ns() // 1_000_000
        events = []
        for _ in range(FRAME_EVENTS):
            symbol = symbols[cursor % len(symbols)]
            events.append({"ev": "T", "sym": symbol, "x": 4, "i": str(cursor), "z": 3,
                           "p": 100 + (cursor % 1000) / 100, "s": 100, "c": [0], "t": now_ms, "q": cursor})
            cursor += 1
        await pg.push(orjson.dumps(events).decode())
        sent[0] += FRAME_EVENTS
        next_at += period
        delay = next_at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -1:  # fell a second behind: don't burst to catch up
            next_at = loop.time()


async def _client(url: str, latencies: list[float], seen: set[str], measuring: list[bool]) -> None:
    async with websockets.connect(url, max_size=2**22, compression=None) as ws:
        async for raw in ws:
            received = time.time()
            event = orjson.loads(raw)
            if event["type"] != "price" or not event.get("as_of"):
                continue
            seen.add(event["symbol"])
            if measuring[0]:
                latencies.append((received - datetime.fromisoformat(event["as_of"]).timestamp()) * 1000)


async def _run() -> bool:
    symbols = _symbols(SYMBOLS)
    port = _free_port()
    async with PolygonDouble() as pg:
        pg.market = "closed"
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "VAR_DIR": tmp,
                   "API_KEY": API_KEY, "TRADERS": "api", "LOG_LEVEL": "WARNING", "POLYGON_API_KEY": POLYGON_KEY,
                   "POLYGON_REST_URL": pg.rest_url, "POLYGON_WS_URL": pg.ws_url, "BENCH_SYMBOLS": ",".join(symbols),
                   "WATCHLIST": "SPY", "EVENT_BUS_URL": "memory://"}
            child = _start_child(port, env)
            try:
                return await _measure(pg, child, port, symbols)
            finally:
                child.terminate()
                child.wait(timeout=15)


async def _measure(pg: PolygonDouble, child: subprocess.Popen[bytes], port: int, symbols: list[str]) -> bool:
    assert child.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
    if line.strip() != b"ready":
        print(f"the app did not start (exit code {child.poll()})")
        return False
    wanted = {f"T.{s}" for s in symbols}
    await pg.wait_until(lambda: wanted <= pg.subscriptions, within=30)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": API_KEY}) as http:
        hz = (await http.get("/api/v1/diag/config")).json().get("settings", {}).get("price_event_hz")

    latencies: list[float] = []
    seen: set[str] = set()
    measuring = [False]
    sent = [0]
    stop = asyncio.Event()
    client = asyncio.create_task(_client(f"ws://127.0.0.1:{port}/ws?api_key={API_KEY}", latencies, seen, measuring))
    pump = asyncio.create_task(_pump(pg, symbols, stop, sent))
    rss: list[tuple[float, float]] = []
    started = time.monotonic()
    print(f"{len(symbols)} symbols, {RATE:,} trades/s in frames of {FRAME_EVENTS}, PRICE_EVENT_HZ={hz}, "
          f"soak {SOAK_SEC:.0f}s (warm-up {WARMUP_SEC:.0f}s)", flush=True)
    try:
        while (elapsed := time.monotonic() - started) < SOAK_SEC:
            if elapsed >= WARMUP_SEC:
                measuring[0] = True
                rss.append((elapsed, _rss_mb(child.pid)))
            if client.done() or pump.done():
                break
            await asyncio.sleep(2.0)
        rss.append((time.monotonic() - started, _rss_mb(child.pid)))
    finally:
        stop.set()
        await asyncio.wait_for(pump, 5)
        client.cancel()
    elapsed = time.monotonic() - started
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": API_KEY}) as http:
        status = (await http.get("/api/v1/stream/prices", timeout=30)).json()["market_data"]
    feed = status.get("feed") or {}
    print(f"app side: feed queue depth {feed.get('queue_depth')}, counters {feed.get('counters')}, "
          f"feed lag ms {status.get('feed_lag_ms')}, engine lag ms {status.get('engine_lag_ms')}, "
          f"published {status.get('published')}")
    if client.done() and not client.cancelled() and client.exception() is not None:
        print(f"the /ws client failed: {client.exception()!r}")
        return False
    if len(latencies) < 20:
        print(f"too few price events measured ({len(latencies)})")
        return False

    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p95, p99 = cuts[49], cuts[94], cuts[98]
    slope = _slope_per_min(rss)
    growth = rss[-1][1] - rss[0][1]
    print(f"trades sent {sent[0]:,} ({sent[0] / elapsed:,.0f}/s); price events measured {len(latencies):,} "
          f"({len(latencies) / max(1e-9, elapsed - WARMUP_SEC):,.0f}/s); symbols seen {len(seen)}/{len(symbols)}")
    print(f"price -> /ws client latency   p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  "
          f"max {max(latencies):7.1f} ms")
    print(f"  goal p95 < {GOAL_P95_MS:.0f} ms: p95 is {p95 / GOAL_P95_MS:.2f}x the goal -> "
          f"{'OK' if p95 < GOAL_P95_MS else 'MISSED'}")
    print(f"app RSS {rss[0][1]:.1f} MB -> {rss[-1][1]:.1f} MB over {rss[-1][0] - rss[0][0]:.0f}s "
          f"({growth:+.1f} MB); slope {slope:+.3f} MB/minute")
    print(f"  goal < {GOAL_RSS_MB_PER_MIN} MB/minute: {slope / GOAL_RSS_MB_PER_MIN:+.2f}x the goal -> "
          f"{'OK' if slope < GOAL_RSS_MB_PER_MIN else 'MISSED'}")
    return p95 < GOAL_P95_MS and slope < GOAL_RSS_MB_PER_MIN and len(seen) == len(symbols)


def main() -> bool:
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
