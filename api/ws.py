"""`/ws` fan-out: one bus subscription, each event encoded once, written to every client without a task wake-up.

Events that arrive in the same loop iteration are broadcast together. A client that keeps up gets them written
at once, in one transport write (framed by `api.ws_wire` under uvicorn, else through ASGI `send`); a client whose
transport is backed up gets them in a bounded queue drained by its own pump task, and is dropped when the queue
is full: it never slows the others. `price` events are coalesced: the latest per symbol is kept and flushed at
most PRICE_EVENT_HZ times a second, written at once or merged into the client's own latest-per-symbol map (so 500
symbols never overflow the event queue; a client that stops taking them for PRICE_STALL_SEC is dropped). Every
frame gets the connection's own increasing `seq` spliced into the pre-encoded bytes, so encoding stays once per
event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import msgspec
import structlog
from starlette.types import Receive, Scope, Send

from api.auth import API_ACTOR, key_matches
from api.ws_wire import DirectWire, direct_wire, text_frame
from core.domain.access import Action, is_allowed
from core.domain.events import WS_EVENT_TYPES, Event, PriceEvent, RiskEvent, StatusEvent, event_time, event_type
from core.metrics import WS_CLIENTS, WS_DROPPED
from core.ports import EventBus

CLIENT_QUEUE = 64  # frames a client that is behind may have waiting; one more and it is dropped
PRICE_STALL_SEC = 10.0  # a client that has not taken a batch of coalesced prices for this long is dropped
log = structlog.get_logger("api.ws")
_encoder = msgspec.json.Encoder()


WS_ACTION = Action.ACCOUNT_READ  # the stream carries risk, order and alert events
WS_REFUSED = "api is not in TRADERS: /ws carries account events; add api to TRADERS"


def encode_frame(event: Event) -> bytes:
    """The event JSON with `ts` added and the closing brace left off, ready for a per-client `seq`."""
    body = _encoder.encode(event)
    return body[:-1] + b',"ts":"' + event_time(datetime.now(UTC)).encode() + b'"'


def _encoded(event: Event) -> bytes | None:
    """The event's frame; None, logged, for an event that cannot be encoded: it is dropped, the stream goes on."""
    try:
        return encode_frame(event)
    except TypeError as exc:
        log.error("ws.event_not_encodable", type=type(event).__name__, error=str(exc))
        return None


class Client:
    """One connection: frames are written directly when `wire` is set, else through the raw ASGI `send`."""

    __slots__ = ("dropped", "pending", "prices", "prices_behind", "send", "seq", "wake", "wire")

    def __init__(self, send: Send, wire: DirectWire | None) -> None:
        self.send = send
        self.wire = wire
        self.pending: deque[bytes] = deque()  # at most CLIENT_QUEUE frames, only while the client is behind
        self.prices: dict[str, bytes] = {}  # coalesced: the latest frame per symbol, bounded by the symbols
        self.prices_behind = 0
        self.wake = asyncio.Event()
        self.seq = 0
        self.dropped = False

    def offer(self, frames: Sequence[bytes]) -> bool:
        """Deliver now when the client keeps up, else queue; False when that would overflow its queue. A burst
        goes CLIENT_QUEUE frames at a time, so a client's transport never holds more than its high-water mark
        plus that many frames (and its queue as many again) before it is dropped."""
        if len(frames) > CLIENT_QUEUE:
            return all(self.offer(frames[at:at + CLIENT_QUEUE]) for at in range(0, len(frames), CLIENT_QUEUE))
        if self._write_now(frames):
            return True
        if len(self.pending) + len(frames) > CLIENT_QUEUE:
            return False
        self.pending.extend(frames)
        self.wake.set()
        return True

    def offer_prices(self, frames: dict[str, bytes], max_behind: int) -> bool:
        """Deliver a flush of prices (one per symbol, any number of symbols: they never fill the event queue).
        False when the client has not taken its previous prices for `max_behind` flushes in a row."""
        if self._write_now(list(frames.values())):
            self.prices_behind = 0
            return True
        self.prices_behind = self.prices_behind + 1 if self.prices else 0
        self.prices.update(frames)
        self.wake.set()
        return self.prices_behind < max_behind

    def _write_now(self, frames: Sequence[bytes]) -> bool:
        """The eager path: nothing waiting for this client and its transport takes more, so no task wake-up."""
        wire = self.wire
        if wire is None or self.pending or self.prices or not wire.writable():
            return False
        self._write(wire, frames)
        return True

    async def pump(self) -> None:
        """Drain what was queued while the client was behind; `pending` stays non-empty until written, so new
        frames queue up behind it and order is kept."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending or self.prices:
                if self.wire is not None:
                    await self.wire.wait_writable()
                frames = [*self.pending, *self.prices.values()]
                self.pending.clear()
                self.prices = {}
                if self.wire is not None:
                    self._write(self.wire, frames)
                    continue
                for frame in frames:
                    await self.send({"type": "websocket.send", "text": self._stamp(frame).decode()})

    def _write(self, wire: DirectWire, frames: Sequence[bytes]) -> None:
        """All the frames in one transport write."""
        wire.write(b"".join([text_frame(self._stamp(frame)) for frame in frames]))

    def _stamp(self, frame: bytes) -> bytes:
        self.seq += 1
        return b'%b,"seq":%d}' % (frame, self.seq)


class WebSocketHub:
    def __init__(self, bus: EventBus, *, price_hz: float) -> None:
        self.bus = bus
        self.price_interval = 1.0 / price_hz
        self.clients: set[Client] = set()
        self.dropped_total = 0
        self._latest_prices: dict[str, PriceEvent] = {}  # encoded at flush: most are superseded before then
        self._sticky: dict[str, bytes] = {}
        self._batch: list[bytes] = []  # frames dispatched during this loop iteration, broadcast together
        self._closing: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Pump bus events to clients; runs for the life of the API (spawned by the runtime)."""
        subscription = self.bus.subscribe(WS_EVENT_TYPES, name="ws-hub", maxsize=4096)
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
        frame = _encoded(event)
        if frame is None:
            return
        if isinstance(event, RiskEvent | StatusEvent):
            self._sticky[event_type(event)] = frame
        self._batch.append(frame)
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._broadcast_batch)

    def _broadcast_batch(self) -> None:
        frames, self._batch = self._batch, []
        self.broadcast(frames)

    def broadcast(self, frames: Sequence[bytes]) -> None:
        for client in list(self.clients):
            if not client.offer(frames):
                self._drop(client)

    async def _flush_prices(self) -> None:
        while True:
            await asyncio.sleep(self.price_interval)
            if self._latest_prices:
                latest, self._latest_prices = self._latest_prices, {}
                pending = {symbol: frame for symbol, event in latest.items()
                           if (frame := _encoded(event)) is not None}
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
        log.warning("ws.client_dropped", reason="not reading", queued=len(client.pending))
        closing = asyncio.get_running_loop().create_task(_close_quietly(client.send, 1013, "too slow; reconnect"))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def serve(self, receive: Receive, send: Send, greeting: list[Event]) -> None:
        """Run one accepted connection until it closes or is dropped."""
        client = Client(send, direct_wire(receive))
        client.offer([*self._sticky.values(), *(encode_frame(e) for e in greeting)])
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
        """`direct`: clients written to through `api.ws_wire` (the rest go through ASGI `send`); `behind`: clients
        with frames queued."""
        return {"clients": len(self.clients), "direct": sum(c.wire is not None for c in self.clients),
                "behind": sum(bool(c.pending or c.prices) for c in self.clients), "dropped_total": self.dropped_total}


async def _close_quietly(send: Send, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await send({"type": "websocket.close", "code": code, "reason": reason})


class WebSocketEndpoint:
    """The `/ws` ASGI endpoint: accept, check `?api_key=` (close 4401 if wrong) and that the key holder (`api`) is a
    trader, since the stream carries account events (risk, orders, alerts; close 4403 if not), then serve from the
    hub."""

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
        if not is_allowed(WS_ACTION, API_ACTOR, runtime.settings.traders):
            await send({"type": "websocket.close", "code": 4403, "reason": WS_REFUSED})
            return
        await self.state.hub.serve(receive, send, [StatusEvent(integrations=runtime.integrations())])
