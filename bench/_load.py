"""HTTP load for the API benches: `wrk` (C, one thread) when installed, else an httpx fallback in this process.

A Python client needs about as much CPU per request as the server it measures, so on a small machine httpx
inflates the latencies it reports; wrk does not (`make bench` installs Debian's wrk when run as root). Both
drive 50 keep-alive connections cycling through the same request mix, either back to back (saturation) or each
connection pausing between requests (paced: an offered rate). Latency is per request, send to last byte.
The server's CPU time (all threads, from /proc) over the run, divided by the requests served, is the figure to
compare between runs on a busy machine: unlike latency it hardly depends on what else is running.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bench._server import BENCH_KEY, percentile


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    body: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    server_cpu_us: float | None  # server CPU per request (process_time of the child, every thread)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        cpu = "n/a" if self.server_cpu_us is None else f"{self.server_cpu_us:.0f} us"
        return (f"{self.requests} requests in {self.seconds:.1f} s ({self.rate:.0f} req/s, {self.tool}): "
                f"p50 {self.p50_ms:.2f} ms  p95 {self.p95_ms:.2f} ms  p99 {self.p99_ms:.2f} ms  "
                f"max {self.max_ms:.1f} ms; server CPU/request {cpu}; errors {self.errors}")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), or None where /proc is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_LUA = """
local calls
local n, paced = 0, %(pace_ms)d
-- built in init, once wrk knows the Host header (a request without one is refused by the API's host check)
init = function(args)
  calls = {%(calls)s}
end
request = function()
  n = n + 1
  return calls[(n %% #calls) + 1]
end
if paced > 0 then
  -- exponential think times (mean `paced`): with a constant pause all connections, started together, would stay
  -- in lockstep and arrive as one burst of 50 every period, which real clients never do
  math.randomseed(os.time())
  delay = function() return math.floor(-paced * math.log(1 - math.random())) end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _wrk_script(calls: list[Call], pace_ms: int) -> str:
    rendered = []
    for call in calls:
        headers = "{['X-API-Key']=" + _lua_string(BENCH_KEY)
        body = "nil"
        if call.body is not None:
            headers += ", ['Content-Type']='application/json'"
            body = _lua_string(orjson.dumps(call.body).decode())
        rendered.append(f"wrk.format({_lua_string(call.method)}, {_lua_string(call.path)}, {headers}}}, {body})")
    return _LUA % {"calls": ", ".join(rendered), "pace_ms": pace_ms}


def _wrk(base: str, calls: list[Call], connections: int, seconds: float, pace_ms: int) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(calls, pace_ms))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s",
             script.name, base], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    requests, duration_us, p50, p95, p99, top, errors = (int(v) for v in line.split()[1:])
    return LoadResult("wrk", requests, duration_us / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, top / 1000, errors,
                      None)


async def _httpx(base: str, calls: list[Call], connections: int, seconds: float, pace_ms: int) -> LoadResult:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": BENCH_KEY}, limits=limits,
                                 timeout=10) as http:
        started = time.perf_counter()
        stop = started + seconds

        async def client(index: int) -> None:
            nonlocal errors
            n = index
            if pace_ms:
                await asyncio.sleep(pace_ms / 1000 * index / connections)  # spread the phases
            while time.perf_counter() < stop:
                call = calls[n % len(calls)]
                n += 1
                sent = time.perf_counter()
                response = await http.request(call.method, call.path, json=call.body)
                latencies.append((time.perf_counter() - sent) * 1000)
                errors += response.status_code >= 400
                if pace_ms:
                    await asyncio.sleep(pace_ms / 1000)

        await asyncio.gather(*(client(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult("httpx", len(latencies), elapsed, percentile(latencies, 50), percentile(latencies, 95),
                      percentile(latencies, 99), max(latencies), errors, None)


def load(base: str, calls: list[Call], *, server_pid: int, connections: int = 50, seconds: float = 10.0,
         pace_ms: int = 0) -> LoadResult:
    """One run; `pace_ms` > 0 makes each connection wait that long on average after each response (random,
    exponentially distributed under wrk; an offered rate of about connections / pace requests per second)."""
    cpu_before = cpu_seconds(server_pid)
    if shutil.which("wrk"):
        result = _wrk(base, calls, connections, seconds, pace_ms)
    else:
        result = asyncio.run(_httpx(base, calls, connections, seconds, pace_ms))
    cpu_after = cpu_seconds(server_pid)
    if cpu_before is None or cpu_after is None or not result.requests:
        return result
    cpu_us = (cpu_after - cpu_before) / result.requests * 1e6
    return LoadResult(result.tool, result.requests, result.seconds, result.p50_ms, result.p95_ms, result.p99_ms,
                      result.max_ms, result.errors, cpu_us)


def tool_note() -> str:
    if shutil.which("wrk"):
        return "load generator: wrk (1 thread)"
    return ("load generator: httpx in this process (wrk not installed: `make bench` as root installs it); "
            "its own CPU use inflates the latencies")
