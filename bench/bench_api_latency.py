"""Journal/settings endpoints over loopback (uvicorn, SQLite): p95 at 50 concurrent clients; goal p95 < 10 ms.

Mix: list journal pages, add entries, read settings, read one entry. Two runs: (1) the goal run, 50 concurrent
clients each pacing its requests so that together they offer BENCH_API_RATE req/s (an open-loop load, what a
latency goal is about); (2) a saturation run, 50 clients back to back, which measures throughput — there the
latency is queueing (Little's law: 50 in flight / throughput), printed for information.
Baseline: the 10 ms goal of issue 2.
"""

from __future__ import annotations

import asyncio
import os
import time

import httpx

from bench._server import BENCH_KEY, app_server, percentile

CONCURRENCY = 50
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "4000"))
RATE = float(os.environ.get("BENCH_API_RATE", "250"))
GOAL_P95_MS = 10.0


async def _worker(http: httpx.AsyncClient, index: int, count: int, latencies: dict[str, list[float]],
                  entry_id: str, interval: float) -> None:
    await asyncio.sleep(interval * index / CONCURRENCY)  # spread the clients' phases
    due = time.perf_counter()
    for n in range(count):
        if interval:
            due += interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        kind = ("list", "add", "settings", "get")[(index + n) % 4]
        started = time.perf_counter()
        if kind == "list":
            response = await http.get("/api/v1/journal", params={"limit": "20"})
        elif kind == "add":
            response = await http.post("/api/v1/journal", json={"body": f"bench {index}-{n}", "symbol": "SPY"})
        elif kind == "settings":
            response = await http.get("/api/v1/settings")
        else:
            response = await http.get(f"/api/v1/journal/{entry_id}")
        latencies[kind].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 300:
            raise RuntimeError(f"{kind}: HTTP {response.status_code} {response.text[:200]}")


async def _load(base: str, interval: float, label: str) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": BENCH_KEY}, limits=limits) as http:
        entry_id = (await http.post("/api/v1/journal", json={"body": "seed"})).json()["id"]
        latencies: dict[str, list[float]] = {"list": [], "add": [], "settings": [], "get": []}
        started = time.perf_counter()
        await asyncio.gather(*(_worker(http, i, REQUESTS // CONCURRENCY, latencies, entry_id, interval)
                               for i in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    every = [value for values in latencies.values() for value in values]
    print(f"{label}: {len(every)} requests, {CONCURRENCY} concurrent clients, {len(every) / elapsed:.0f} req/s")
    for kind, values in (*latencies.items(), ("all", every)):
        print(f"  {kind:<9} p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms  "
              f"p99 {percentile(values, 99):6.1f} ms")
    return percentile(every, 95)


async def _run(base: str) -> bool:
    p95 = await _load(base, CONCURRENCY / RATE, f"paced at {RATE:.0f} req/s")
    print(f"p95 vs the {GOAL_P95_MS:.0f} ms goal: {p95 / GOAL_P95_MS:.2f}x of budget")
    await _load(base, 0.0, "saturation (back to back, information only)")
    return p95 < GOAL_P95_MS


def main() -> bool:
    with app_server() as base:
        return asyncio.run(_run(base))
