"""WS fan-out: 1,000 /ws clients (5% never read), heartbeat + 20 broadcast events/s; goal p95 < 50 ms.

The app runs in a child process with the Redis event bus; this process publishes through its own RedisBus (the
multi-process path) and stamps each event with its send time; healthy clients record receive - send. Clients that
never read are dropped by the server (queue overflow or the WS keepalive), never slowing the others.
The clients are lean (a minimal RFC 6455 client on raw uvloop transports): 950 `websockets.connect` clients in
one process spend more CPU than the server under test, and the bench would then time its own backlog.
Also printed: the server's CPU time per event per connected client (process_cpu_seconds_total from its /metrics,
minus its idle rate measured just before), the figure to compare on a busy machine.
Baseline: the 50 ms fan-out goal (a bare websockets.broadcast measures about 26 ms p95 for the same load).
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from typing import cast

import httpx
import orjson
import uvloop
from websockets.uri import parse_uri

from bench._server import BENCH_KEY, app_server, percentile
from core.bus import RedisBus
from core.domain.events import AlertEvent

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "1000"))
STALLED_PCT = 5
RATE = 20
SECONDS = float(os.environ.get("BENCH_WS_SECONDS", "20"))
IDLE_SECONDS = 5.0  # the server's CPU rate with clients connected and only the heartbeat flowing
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GOAL_P95_MS = 50.0


class _Client(asyncio.Protocol):
    """One /ws connection with just enough WebSocket for this server (RFC 6455: unfragmented, unmasked frames
    from the server; masked pongs back). A healthy one records each alert's delivery latency and answers pings;
    a stalled one stops reading right after the handshake: no frames, no pongs."""

    def __init__(self, host: str, target: str, latencies: list[float] | None) -> None:
        self.request = (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self.latencies = latencies
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[bool] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TCPTransport does not subclass it
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        received = time.time()
        self.buffer += data
        if not self.opened.done():
            head, sep, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            if not sep:
                return
            self.opened.set_result(head.startswith(b"HTTP/1.1 101 "))
            self.buffer[:] = rest
            if self.latencies is None and self.transport is not None:
                self.transport.pause_reading()
                return
        self._frames(received)

    def _frames(self, received: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            size, start = buffer[1] & 0x7F, 2
            if size >= 126:
                start = 4 if size == 126 else 10
                if len(buffer) < start:
                    return
                size = int.from_bytes(buffer[2:start], "big")
            if len(buffer) < start + size:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[start:start + size])
            del buffer[:start + size]
            if opcode == 0x1 and self.latencies is not None:
                message = orjson.loads(payload)
                if message["type"] == "alert":
                    sent_at = float(message["msg"].split(" ", 1)[0])  # the publisher's clock, first in the text
                    self.latencies.append((received - sent_at) * 1000)
            elif opcode == 0x9 and self.transport is not None:  # ping: pong with the same (small) payload
                self.transport.write(bytes((0x8A, 0x80 | size)) + b"\0\0\0\0" + payload)  # zero mask key
            elif opcode == 0x8 and self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)
        self.closed.set_result(None)


async def _connect(url: str, latencies: list[float] | None) -> _Client:
    uri = parse_uri(url)
    target = f"{uri.path}?{uri.query}" if uri.query else uri.path
    _, client = await asyncio.get_running_loop().create_connection(
        lambda: _Client(f"{uri.host}:{uri.port}", target, latencies), uri.host, uri.port)
    if not await asyncio.wait_for(client.opened, timeout=60):
        raise RuntimeError("/ws handshake failed: no 101 Switching Protocols")
    return client


async def _metric(base: str, name: str) -> float:
    async with httpx.AsyncClient(headers={"X-API-Key": BENCH_KEY}) as http:
        metrics = (await http.get(f"{base}/metrics")).text
    line = next(x for x in metrics.splitlines() if x.startswith(f"{name} "))
    return float(line.split()[1])


async def _run(base: str) -> bool:
    url = base.replace("http", "ws") + f"/ws?api_key={BENCH_KEY}"
    latencies: list[float] = []
    never_read = CLIENTS * STALLED_PCT // 100
    healthy = CLIENTS - never_read
    clients: list[_Client] = []
    for index in range(CLIENTS):
        stall = index % (100 // STALLED_PCT) == 0 and index // (100 // STALLED_PCT) < never_read
        clients.append(await _connect(url, None if stall else latencies))
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # connect in waves, as a real crowd would
    await asyncio.sleep(2)
    bus = RedisBus(REDIS)
    await bus.start()
    try:
        idle_cpu = await _metric(base, "process_cpu_seconds_total")
        idle_started = time.monotonic()
        await asyncio.sleep(IDLE_SECONDS)
        busy_cpu = await _metric(base, "process_cpu_seconds_total")
        idle_rate = (busy_cpu - idle_cpu) / (time.monotonic() - idle_started)
        started = time.monotonic()
        own_cpu = time.process_time()
        sent = 0
        while time.monotonic() - started < SECONDS:
            await bus.publish(AlertEvent(level="info", msg=f"{time.time()!r} bench {sent}"))
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / RATE - time.monotonic()))
        await asyncio.sleep(1.0)
        own_cpu = time.process_time() - own_cpu
        event_cpu = await _metric(base, "process_cpu_seconds_total") - busy_cpu
        event_cpu -= idle_rate * (time.monotonic() - started)
        still_connected = int(await _metric(base, "tradeassist_ws_clients"))
    finally:
        await bus.close()
        healthy_closed = sum(c.closed.done() for c in clients if c.latencies is not None)
        for client in clients:
            if client.transport is not None:
                client.transport.abort()
    expected = healthy * sent
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(f"clients {CLIENTS} ({never_read} never read), {sent} events at {RATE}/s")
    print(f"delivered {len(latencies)}/{expected} to healthy clients; healthy clients closed: {healthy_closed}")
    print(f"delivery latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}")
    print(f"clients the server dropped: {CLIENTS - still_connected} (of {never_read} that never read)")
    print(f"server CPU per event per healthy client: {event_cpu / (sent * healthy) * 1e6:.1f} µs "
          f"(idle: {idle_rate * 100:.0f}% of a core); these clients' CPU per message: "
          f"{own_cpu / max(1, len(latencies)) * 1e6:.1f} µs")
    print(f"p95 vs the {GOAL_P95_MS:.0f} ms goal: {p95 / GOAL_P95_MS:.2f}x of budget")
    return p95 < GOAL_P95_MS and not healthy_closed and len(latencies) >= expected * 0.99


def main() -> bool:
    with app_server(ping_sec=2.0, EVENT_BUS_URL=REDIS, RISK_EVAL_SEC="1") as base:
        return uvloop.run(_run(base))
