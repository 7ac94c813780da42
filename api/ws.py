"""`/ws` fan-out: one bus subscription, each event encoded once, a bounded queue and a sender task per client.

A client that stops reading fills its queue and is dropped; it never slows the others. `price` events are
coalesced: the latest per symbol is kept and flushed at most PRICE_EVENT_HZ times a second into each client's own
latest-per-symbol map (so 500 symbols never overflow the event queue; a client that stops taking them for
PRICE_STALL_SEC is dropped). Every frame gets the
connection's own increasing `seq` spliced into the pre-encoded bytes, so encoding stays once per event.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import msgspec
import structlog
from starlette.types import Receive, Scope, Send

from api.auth import key_matches
from core.domain.events import Event, PriceEvent, RiskEvent, StatusEvent, event_type
from core.metrics import WS_CLIENTS, WS_DROPPED
from core.ports import EventBus

CLIENT_QUEUE = 64
PRICE_STALL_SEC = 10.0  # a client that has not taken a batch of coalesced prices for this long is dropped
log = structlog.get_logger("api.ws")
_encoder = msgspec.json.Encoder()


def encode_frame(event: Event) -> bytes:
    """The event JSON with `ts` added and the closing brace left off, ready for a per-client `seq`."""
    body = _encoder.encode(event)
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return body[:-1] + b',"ts":"' + stamp.encode() + b'"'


class Client:
    """One connection, driven through the raw ASGI `send` (the hot path skips Starlette's wrappers)."""

    __slots__ = ("dropped", "prices", "prices_behind", "queue", "send", "seq", "wake")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(CLIENT_QUEUE)
        self.prices: dict[str, bytes] = {}  # coalesced: the latest frame per symbol, bounded by the symbols
        self.prices_behind = 0
        self.wake = asyncio.Event()
        self.seq = 0
        self.dropped = False

    def offer(self, frame: bytes) -> bool:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        self.wake.set()
        return True

    def offer_prices(self, frames: dict[str, bytes], max_behind: int) -> bool:
        """Merge a flush of prices (one per symbol, any number of symbols: they never fill the event queue).
        False when the client has not taken its previous prices for `max_behind` flushes in a row."""
        self.prices_behind = self.prices_behind + 1 if self.prices else 0
        self.prices.update(frames)
        self.wake.set()
        return self.prices_behind < max_behind

    async def pump(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while not self.queue.empty():
                await self._send(self.queue.get_nowait())
            prices, self.prices = self.prices, {}
            for frame in prices.values():
                await self._send(frame)

    async def _send(self, frame: bytes) -> None:
        self.seq += 1
        await self.send({"type": "websocket.send",
                         "text": (frame + b',"seq":' + str(self.seq).encode() + b"}").decode()})


class WebSocketHub:
    def __init__(self, bus: EventBus, *, price_hz: float) -> None:
        self.bus = bus
        self.price_interval = 1.0 / price_hz
        self.clients: set[Client] = set()
        self.dropped_total = 0
        self._latest_prices: dict[str, PriceEvent] = {}  # encoded at flush: most are superseded before then
        self._sticky: dict[str, bytes] = {}

    async def run(self) -> None:
        """Pump bus events to clients; runs for the life of the API (spawned by the runtime)."""
        subscription = self.bus.subscribe(name="ws-hub", maxsize=4096)
        flusher = asyncio.create_task(self._flush_prices(), name="ws-price-flush")
        try:
            async for event in subscription:
                self.dispatch(event)
        finally:
            flusher.cancel()
            await subscription.close()

    def dispatch(self, event: Event) -> None:
        if isinstance(event, PriceEvent):
            self._latest_prices[event.symbol] = event
            return
        frame = encode_frame(event)
        if isinstance(event, RiskEvent | StatusEvent):
            self._sticky[event_type(event)] = frame
        self.broadcast(frame)

    def broadcast(self, frame: bytes) -> None:
        for client in list(self.clients):
            if not client.offer(frame):
                self._drop(client)

    async def _flush_prices(self) -> None:
        while True:
            await asyncio.sleep(self.price_interval)
            if self._latest_prices:
                latest, self._latest_prices = self._latest_prices, {}
                pending = {symbol: encode_frame(event) for symbol, event in latest.items()}
                max_behind = max(2, round(PRICE_STALL_SEC / self.price_interval))
                for client in list(self.clients):
                    if not client.offer_prices(pending, max_behind):
                        self._drop(client)

    def _drop(self, client: Client) -> None:
        if client.dropped:
            return
        client.dropped = True
        self.clients.discard(client)
        self.dropped_total += 1
        WS_DROPPED.inc()
        WS_CLIENTS.set(len(self.clients))
        log.warning("ws.client_dropped", reason="not reading", queued=client.queue.qsize())
        asyncio.get_running_loop().create_task(_close_quietly(client.send, 1013, "too slow; reconnect"))

    async def serve(self, receive: Receive, send: Send, greeting: list[Event]) -> None:
        """Run one accepted connection until it closes or is dropped."""
        client = Client(send)
        for frame in (*self._sticky.values(), *(encode_frame(e) for e in greeting)):
            client.offer(frame)
        self.clients.add(client)
        WS_CLIENTS.set(len(self.clients))
        sender = asyncio.create_task(client.pump(), name="ws-client-pump")
        try:
            while not sender.done():
                receiver = asyncio.ensure_future(receive())
                done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
                if receiver not in done:
                    receiver.cancel()
                    break
                if receiver.result().get("type") == "websocket.disconnect":
                    break
        except OSError:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            self.clients.discard(client)
            WS_CLIENTS.set(len(self.clients))

    def stats(self) -> dict[str, Any]:
        return {"clients": len(self.clients), "dropped_total": self.dropped_total}


async def _close_quietly(send: Send, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await send({"type": "websocket.close", "code": code, "reason": reason})


class WebSocketEndpoint:
    """The `/ws` ASGI endpoint: accept, check `?api_key=` (close 4401 if wrong), then serve from the hub."""

    def __init__(self, app_state: Any) -> None:
        self.state = app_state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})  # accept first so a browser sees the 4401 code
        query = parse_qs(scope.get("query_string", b"").decode())
        if not key_matches(query.get("api_key", [None])[0], self.state.api_key):
            await send({"type": "websocket.close", "code": 4401, "reason": "missing or wrong api_key"})
            return
        runtime = self.state.runtime
        await self.state.hub.serve(receive, send, [StatusEvent(integrations=runtime.integrations())])
