"""`/ws` fan-out: one bus subscription, each event encoded once, a bounded queue and a sender task per client.

A client that stops reading fills its queue and is dropped; it never slows the others. `price` events are
coalesced: the latest per symbol is kept and flushed at most PRICE_EVENT_HZ times a second. Every frame gets the
connection's own increasing `seq` spliced into the pre-encoded bytes, so encoding stays once per event.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from core.domain.events import Event, PriceEvent, RiskEvent, StatusEvent, event_type
from core.metrics import WS_CLIENTS, WS_DROPPED
from core.ports import EventBus

CLIENT_QUEUE = 64
log = structlog.get_logger("api.ws")
_encoder = msgspec.json.Encoder()


def encode_frame(event: Event) -> bytes:
    """The event JSON with `ts` added and the closing brace left off, ready for a per-client `seq`."""
    body = _encoder.encode(event)
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return body[:-1] + b',"ts":"' + stamp.encode() + b'"'


class Client:
    __slots__ = ("dropped", "queue", "seq", "websocket")

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(CLIENT_QUEUE)
        self.seq = 0
        self.dropped = False

    def offer(self, frame: bytes) -> bool:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True

    async def pump(self) -> None:
        while True:
            frame = await self.queue.get()
            self.seq += 1
            await self.websocket.send_text((frame + b',"seq":' + str(self.seq).encode() + b"}").decode())


class WebSocketHub:
    def __init__(self, bus: EventBus, *, price_hz: float) -> None:
        self.bus = bus
        self.price_interval = 1.0 / price_hz
        self.clients: set[Client] = set()
        self.dropped_total = 0
        self._latest_prices: dict[str, bytes] = {}
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
        frame = encode_frame(event)
        if isinstance(event, PriceEvent):
            self._latest_prices[event.symbol] = frame
            return
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
                pending, self._latest_prices = self._latest_prices, {}
                for frame in pending.values():
                    self.broadcast(frame)

    def _drop(self, client: Client) -> None:
        if client.dropped:
            return
        client.dropped = True
        self.clients.discard(client)
        self.dropped_total += 1
        WS_DROPPED.inc()
        WS_CLIENTS.set(len(self.clients))
        log.warning("ws.client_dropped", reason="not reading", queued=client.queue.qsize())
        asyncio.get_running_loop().create_task(_close_quietly(client.websocket, 1013, "too slow; reconnect"))

    async def serve(self, websocket: WebSocket, greeting: list[Event]) -> None:
        """Run one accepted connection until it closes or is dropped."""
        client = Client(websocket)
        for frame in (*self._sticky.values(), *(encode_frame(e) for e in greeting)):
            client.offer(frame)
        self.clients.add(client)
        WS_CLIENTS.set(len(self.clients))
        sender = asyncio.create_task(client.pump(), name="ws-client-pump")
        try:
            while not sender.done():
                receiver = asyncio.ensure_future(websocket.receive())
                done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
                if receiver not in done:
                    receiver.cancel()
                    break
                if receiver.result().get("type") == "websocket.disconnect":
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            self.clients.discard(client)
            WS_CLIENTS.set(len(self.clients))

    def stats(self) -> dict[str, Any]:
        return {"clients": len(self.clients), "dropped_total": self.dropped_total}


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)
