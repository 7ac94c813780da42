"""Fault 15 of the reliability test plan: /ws fan-out with a client that stalls. Over a real uvicorn, on both
delivery paths (`direct`: the hub writes its frames to uvicorn's transports; `asgi`: permessage-deflate
negotiated, frames through ASGI `send`)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from core.domain.events import AlertEvent
from core.settings import Settings
from tests.conftest import API_KEY
from tests.integration.test_ws import _live, _next


@pytest.fixture(params=["direct", "asgi"])
async def live(request: pytest.FixtureRequest,
               make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[str, object]]:
    async with _live(make_settings, request.param) as served:
        yield served


async def test_fault_15_a_stalled_ws_client_is_dropped_and_a_healthy_one_gets_every_event_in_order(
        live: tuple[str, object]) -> None:
    """Fault 15: one /ws client stops reading (its socket buffers fill) while 2,500 large events go out. The
    trader on a healthy dashboard gets every event, in order; the stalled client is dropped (and told so by a
    closed connection), never slowing the others. (1,000 clients with 5% stalled and the healthy clients' p95
    are measured by `make bench`: bench_ws_fanout.)"""
    url, app = live
    bus = app.state.runtime.bus  # type: ignore[attr-defined]
    hub = app.state.hub  # type: ignore[attr-defined]
    stalled = await websockets.connect(f"{url}?api_key={API_KEY}", max_queue=1, max_size=2**20)
    stalled.transport.pause_reading()  # the socket buffers fill and the server-side queue backs up
    async with websockets.connect(f"{url}?api_key={API_KEY}") as healthy:
        await _next(healthy, "status")
        paddings = [secrets.token_urlsafe(12000) for _ in range(16)]  # incompressible: permessage-deflate is on
        total = 2500

        async def read_all() -> list[int]:
            received: list[int] = []
            while len(received) < total:
                event = orjson.loads(await healthy.recv())
                if event["type"] == "alert":
                    received.append(int(event["msg"].split()[0]))
            return received

        reader = asyncio.create_task(read_all())
        for index in range(total):
            await bus.publish(AlertEvent(level="info", msg=f"{index} {paddings[index % 16]}"))
            if index % 10 == 0:  # bursts smaller than a client's queue, as a live tape would send
                await asyncio.sleep(0.005)
        received = await asyncio.wait_for(reader, timeout=20)
        assert received == list(range(total)), "the healthy client gets every event, in order"
        assert hub.dropped_total >= 1
    stalled.transport.resume_reading()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(5):
            while True:
                await stalled.recv()
