"""Journal/settings endpoints over loopback (uvicorn, SQLite): p95 at 50 concurrent requests; goal p95 < 10 ms.

Mix: list journal pages, add entries, read settings, read one entry. Each of 50 workers issues requests back to
back; latency is measured per request. Baseline: the 10 ms goal of issue 2.
"""

from __future__ import annotations

import asyncio
import os
import time

import httpx

from bench._server import BENCH_KEY, app_server, percentile

CONCURRENCY = 50
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "4000"))
GOAL_P95_MS = 10.0


async def _worker(http: httpx.AsyncClient, index: int, count: int, latencies: dict[str, list[float]],
                  entry_id: str) -> None:
    for n in range(count):
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
        assert response.status_code < 300, response.text


async def _run(base: str) -> bool:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": BENCH_KEY}, limits=limits) as http:
        entry_id = (await http.post("/api/v1/journal", json={"body": "seed"})).json()["id"]
        latencies: dict[str, list[float]] = {"list": [], "add": [], "settings": [], "get": []}
        started = time.perf_counter()
        await asyncio.gather(*(_worker(http, i, REQUESTS // CONCURRENCY, latencies, entry_id)
                               for i in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    every = [value for values in latencies.values() for value in values]
    print(f"{len(every)} requests, {CONCURRENCY} concurrent, {len(every) / elapsed:.0f} req/s")
    for kind, values in (*latencies.items(), ("all", every)):
        print(f"  {kind:<9} p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms  "
              f"p99 {percentile(values, 99):6.1f} ms")
    p95 = percentile(every, 95)
    print(f"p95 vs the {GOAL_P95_MS:.0f} ms goal: {p95 / GOAL_P95_MS:.2f}x of budget")
    return p95 < GOAL_P95_MS


def main() -> bool:
    with app_server() as base:
        return asyncio.run(_run(base))
