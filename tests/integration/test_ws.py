"""/ws over a real uvicorn: auth, the envelope, heartbeat and status, fan-out (a client that never reads:
tests/faults/test_ws_fanout.py).

Every test runs on both delivery paths: `direct` (permessage-deflate off, as `tradeassist run` serves: the hub writes
its own frames to uvicorn's transports) and `asgi` (deflate negotiated: frames go through ASGI `send`)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import orjson
import pytest
import structlog
import websockets
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from core.domain.events import AlertEvent, AlertMeta, PriceEvent
from core.settings import Settings
from tests.conftest import API_KEY
from tests.serve import serve

SPY_CROSSED = AlertEvent(level="warning", msg="SPY crossed 512", meta=AlertMeta(kind="crossed", symbol="SPY"))


@asynccontextmanager
async def _live(make_settings: Callable[..., Settings], path: str) -> AsyncIterator[tuple[str, object]]:
    app = create_app(make_settings(risk_eval_sec=0.2, price_event_hz=20), roles=frozenset({"api", "engine"}))
    async with serve(app, ws_per_message_deflate=path == "asgi") as base:
        yield base.replace("http", "ws") + "/ws", app


@pytest.fixture(params=["direct", "asgi"])
async def live(request: pytest.FixtureRequest,
               make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[str, object]]:
    async with _live(make_settings, request.param) as served:
        yield served


@pytest.fixture
async def live_direct(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[str, object]]:
    async with _live(make_settings, "direct") as served:
        yield served


async def _next(ws: websockets.ClientConnection, kind: str, timeout: float = 3.0) -> dict[str, object]:
    async with asyncio.timeout(timeout):
        while True:
            event = orjson.loads(await ws.recv())
            if event["type"] == kind:
                return event  # type: ignore[no-any-return]


async def test_wrong_key_is_refused_before_any_event(live: tuple[str, object]) -> None:
    url, _ = live
    for query in ("?api_key=wrong", "", "?api_key="):
        async with websockets.connect(f"{url}{query}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_a_key_holder_not_in_traders_is_refused_before_any_event(
        make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(traders=[]), roles=frozenset({"api"}))
    async with serve(app) as base, websockets.connect(f"{base.replace('http', 'ws')}/ws?api_key={API_KEY}") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert "add api to TRADERS" in closed.value.rcvd.reason


async def test_status_first_then_risk_heartbeat_with_envelope(live: tuple[str, object]) -> None:
    url, _ = live
    async with websockets.connect(f"{url}?api_key={API_KEY}") as ws:
        first = orjson.loads(await ws.recv())
        assert first["type"] == "status"
        assert first["integrations"]["broker"]["enabled"] is False
        assert "TRADIER_ACCESS_TOKEN" in first["integrations"]["broker"]["how_to_enable"]
        risk = await _next(ws, "risk")
        assert risk["state"]["state"] == "unknown"
        assert "broker not configured" in risk["state"]["reasons"][0]
        assert risk["ts"].endswith("Z")
        seqs = [first["seq"], risk["seq"]]
        for _ in range(3):
            seqs.append(orjson.loads(await ws.recv())["seq"])
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)


async def test_bus_events_reach_every_client_and_prices_are_coalesced(live: tuple[str, object]) -> None:
    url, app = live
    bus = app.state.runtime.bus  # type: ignore[attr-defined]
    async with websockets.connect(f"{url}?api_key={API_KEY}") as a, \
            websockets.connect(f"{url}?api_key={API_KEY}") as b:
        await _next(a, "status")
        await _next(b, "status")
        await bus.publish(SPY_CROSSED)
        for ws in (a, b):
            alert = await _next(ws, "alert")
            assert alert["msg"] == "SPY crossed 512"
            assert alert["meta"] == {"symbol": "SPY", "kind": "crossed"}
        for price in range(100, 150):
            await bus.publish(PriceEvent(symbol="SPY", last=str(price)))
        prices = []
        async with asyncio.timeout(2):
            while not prices or prices[-1]["last"] != "149":
                event = orjson.loads(await a.recv())
                if event["type"] == "price":
                    prices.append(event)
        assert len(prices) < 10, "a burst of 50 prices must be coalesced to the latest per flush"


async def test_an_event_that_cannot_be_encoded_is_dropped_and_the_stream_goes_on(
        live_direct: tuple[str, object]) -> None:
    url, app = live_direct
    bus = app.state.runtime.bus  # type: ignore[attr-defined]
    async with websockets.connect(f"{url}?api_key={API_KEY}") as ws:
        await _next(ws, "status")
        with structlog.testing.capture_logs() as logs:
            unencodable = AlertMeta(kind="crossed", symbol=object())  # type: ignore[arg-type]
            await bus.publish(AlertEvent(level="warning", msg="unencodable", meta=unencodable))
            await bus.publish(PriceEvent(symbol="QQQ", last=object()))  # type: ignore[arg-type]
            await bus.publish(SPY_CROSSED)
            assert (await _next(ws, "alert"))["msg"] == "SPY crossed 512"
            await bus.publish(PriceEvent(symbol="SPY", last="512.25"))
            assert (await _next(ws, "price"))["symbol"] == "SPY"
        dropped = [log for log in logs if log["event"] == "ws.event_not_encodable"]
        assert [log["type"] for log in dropped] == ["AlertEvent", "PriceEvent"]


async def test_connections_use_the_direct_path_unless_an_extension_is_negotiated(
        live: tuple[str, object], request: pytest.FixtureRequest) -> None:
    url, app = live
    hub = app.state.hub  # type: ignore[attr-defined]
    async with websockets.connect(f"{url}?api_key={API_KEY}") as a, \
            websockets.connect(f"{url}?api_key={API_KEY}", compression=None) as b:
        await _next(a, "status")
        await _next(b, "status")
        stats = hub.stats()
        assert stats["clients"] == 2
        # a client without compression is written to directly either way; `a` offered deflate
        assert stats["direct"] == (2 if request.node.callspec.params["live"] == "direct" else 1)


async def test_client_that_falls_behind_is_queued_then_gets_everything_in_order(live: tuple[str, object]) -> None:
    url, app = live
    bus = app.state.runtime.bus  # type: ignore[attr-defined]
    hub = app.state.hub  # type: ignore[attr-defined]
    padding = secrets.token_urlsafe(12000)
    async with websockets.connect(f"{url}?api_key={API_KEY}", max_size=2**20) as ws:
        await _next(ws, "status")
        ws.transport.pause_reading()
        sent = 0
        while not hub.stats()["behind"]:  # until the kernel and transport buffers are full and frames queue up
            assert sent < 2000, "the server never queued frames for a client that stopped reading"
            await bus.publish(AlertEvent(level="info", msg=f"{sent} {padding}"))
            sent += 1
            await asyncio.sleep(0.002)
        for _ in range(10):  # well under the queue bound: kept for the client, in order
            await bus.publish(AlertEvent(level="info", msg=f"{sent} {padding}"))
            sent += 1
        await asyncio.sleep(0.1)
        assert hub.stats()["clients"] == 1  # behind, not dropped
        ws.transport.resume_reading()
        received: list[int] = []
        seqs: list[int] = []
        async with asyncio.timeout(10):
            while len(received) < sent:
                event = orjson.loads(await ws.recv())
                seqs.append(event["seq"])
                if event["type"] == "alert":
                    received.append(int(event["msg"].split()[0]))
        assert received == list(range(sent))
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq must have no gaps for a client kept"
        assert hub.dropped_total == 0


async def test_a_burst_longer_than_the_queue_reaches_a_reading_client_whole(live_direct: tuple[str, object]) -> None:
    url, app = live_direct
    bus = app.state.runtime.bus  # type: ignore[attr-defined]
    hub = app.state.hub  # type: ignore[attr-defined]
    async with websockets.connect(f"{url}?api_key={API_KEY}") as ws:
        await _next(ws, "status")
        total = 300  # published without yielding: the hub broadcasts them as one batch
        for index in range(total):
            await bus.publish(AlertEvent(level="info", msg=str(index)))
        received: list[int] = []
        async with asyncio.timeout(5):
            while len(received) < total:
                event = orjson.loads(await ws.recv())
                if event["type"] == "alert":
                    received.append(int(event["msg"]))
        assert received == list(range(total))
        assert hub.dropped_total == 0
