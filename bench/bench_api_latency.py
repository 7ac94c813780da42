"""Journal/settings endpoints over loopback (uvicorn, SQLite): p95 at 50 concurrent clients; goal p95 < 10 ms.

Mix: list journal pages (20 rows), add entries, read settings, read one entry, in turn on each of 50 keep-alive
connections. Runs: (1) the goal run: the 50 clients each pause BENCH_API_PACE_MS after every response, offering
about 50 / pace requests per second (250 req/s by default; a latency goal is about an offered load, not a
flood); (2) a saturation run, 50 requests in flight back to back, which measures throughput (there p95 is mostly
queueing: 50 in flight / throughput), printed for information; (3) each endpoint alone, for its server CPU time
per request, the figure to compare on a busy machine (information).
Baselines: the 10 ms goal, and the ORM journal path without the frozen start-up heap, measured on a quiet
machine: paced p95 21.5 ms,
p99 143 ms; server CPU per request alone: list 4.0 ms, add 2.3 ms, get 2.1 ms, settings 0.33 ms.
"""

from __future__ import annotations

import os

import httpx

from bench._load import Call, LoadResult, load, tool_note
from bench._server import BENCH_KEY, app_process

CONNECTIONS = 50
SECONDS = float(os.environ.get("BENCH_API_SECONDS", "10"))
PACE_MS = int(os.environ.get("BENCH_API_PACE_MS", "200"))
GOAL_P95_MS = 10.0
BEFORE_P95_MS = 21.5
BEFORE_CPU_US = {"list": 4000.0, "add": 2300.0, "settings": 330.0, "get": 2100.0}


def _calls(entry_id: str) -> dict[str, Call]:
    return {"list": Call("GET", "/api/v1/journal?limit=20"),
            "add": Call("POST", "/api/v1/journal", {"body": "bench entry", "symbol": "SPY"}),
            "settings": Call("GET", "/api/v1/settings"),
            "get": Call("GET", f"/api/v1/journal/{entry_id}")}


def _seed(base: str) -> str:
    with httpx.Client(base_url=base, headers={"X-API-Key": BENCH_KEY}) as http:
        for n in range(40):
            http.post("/api/v1/journal", json={"body": f"seed {n}", "symbol": "SPY"}).raise_for_status()
        entry_id: str = http.post("/api/v1/journal", json={"body": "seed"}).json()["id"]
        return entry_id


def _checked(result: LoadResult) -> LoadResult:
    if result.errors:
        raise RuntimeError(f"{result.errors} requests failed (HTTP >= 400 or socket errors)")
    return result


def main() -> bool:
    print(tool_note())
    with app_process() as app:
        calls = _calls(_seed(app.base))
        mix = list(calls.values())
        load(app.base, mix, server_pid=app.pid, connections=CONNECTIONS, seconds=2)  # warm-up
        paced = _checked(load(app.base, mix, server_pid=app.pid, connections=CONNECTIONS, seconds=SECONDS,
                              pace_ms=PACE_MS))
        flood = _checked(load(app.base, mix, server_pid=app.pid, connections=CONNECTIONS, seconds=SECONDS))
        alone = {name: _checked(load(app.base, [call], server_pid=app.pid, connections=CONNECTIONS,
                                     seconds=max(2.0, SECONDS / 3)))
                 for name, call in calls.items()}
    print(f"goal run: {CONNECTIONS} clients, each pausing {PACE_MS} ms between requests "
          f"(offering up to {CONNECTIONS / PACE_MS * 1000:.0f} req/s)")
    print(f"  {paced.line()}")
    print(f"  p95 {paced.p95_ms:.2f} ms is {paced.p95_ms / GOAL_P95_MS:.2f}x the {GOAL_P95_MS:.0f} ms goal: "
          f"{'ok' if paced.p95_ms < GOAL_P95_MS else 'MISSED'}; {paced.p95_ms / BEFORE_P95_MS:.2f}x the "
          f"{BEFORE_P95_MS} ms baseline (ORM path, quiet machine)")
    print(f"saturation, {CONNECTIONS} in flight back to back (information)")
    print(f"  {flood.line()}")
    print(f"  p95 {flood.p95_ms / GOAL_P95_MS:.2f}x the goal (p95 < 10 ms with 50 in flight needs > "
          f"{CONNECTIONS / GOAL_P95_MS * 1000:.0f} req/s)")
    print("each endpoint alone, saturation (information):")
    for name, result in alone.items():
        print(f"  {name:<9} {result.line()}")
        if result.server_cpu_us is not None:
            print(f"  {'':<9} server CPU/request {result.server_cpu_us / BEFORE_CPU_US[name]:.2f}x the "
                  f"{BEFORE_CPU_US[name]:.0f} us baseline")
    return paced.p95_ms < GOAL_P95_MS
