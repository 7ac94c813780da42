"""The event bus: typed events fanned out to a bounded queue per subscriber, in-process or over Redis Streams.

``price`` events are drop-oldest: a subscriber that falls behind loses its oldest queued prices (counted in
``dropped``; a price never evicts another event type). Every other event type is never dropped: ``publish``
waits for queue space instead (backpressure). A closed subscriber never blocks a publisher.

``InProcessBus`` (``memory://``) is the default. ``RedisBus`` (``redis://host:port/db``) XADDs each event to one
stream per type and runs a single reader task per process that XREADs the subscribed streams into a composed
``InProcessBus``, so every process (the publisher included) receives what any of them published. Order is kept
per event type; across types it follows the Redis entry ids (millisecond resolution).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core.domain.events import EVENT_TYPES, Event, EventType, PriceEvent, decode_event, encode_event, event_type
from core.errors import ExternalTransient, Invalid
from core.ports import EventBus

log = structlog.get_logger(__name__)

DEFAULT_PREFIX: Final = "tradeassist:events:"
DEFAULT_MAXLEN: Final[Mapping[EventType, int]] = {
    "price": 1_000, "risk": 10_000, "alert": 10_000, "positions": 10_000, "orders": 10_000, "status": 10_000,
    "news": 10_000,
    "picks": 10_000,
    "health": 1_000,
    "metrics": 100,  # a process reads only each peer's latest window
}
SUPPORTED_SCHEMES: Final = ("memory://", "redis://", "rediss://")


def _wake(waiters: deque[asyncio.Future[None]]) -> None:
    """Resolve the first still-pending future (cancelled waiters are skipped)."""
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return


class QueueSubscription:
    """One subscriber's bounded queue; async-iterate it to receive events until it is closed."""

    __slots__ = ("_bus", "_closed", "_dropped", "_getters", "_items", "_maxsize", "_putters", "name", "types")

    def __init__(self, bus: InProcessBus, name: str, types: frozenset[EventType], maxsize: int) -> None:
        self._bus = bus
        self.name = name
        self.types = types
        self._maxsize = maxsize
        self._items: deque[Event] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        # Publishers waiting for space, each with its event. Invariant: non-empty only while the queue is full.
        self._putters: deque[tuple[asyncio.Future[None], Event]] = deque()
        self._dropped = 0
        self._closed = False

    @property
    def depth(self) -> int:
        return len(self._items)

    @property
    def dropped(self) -> int:
        return self._dropped

    def __aiter__(self) -> QueueSubscription:
        return self

    async def __anext__(self) -> Event:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if self._items:
                    _wake(self._getters)
                raise
        event = self._items.popleft()
        while self._putters:  # hand the freed slot straight to the longest-waiting publisher
            putter, pending = self._putters.popleft()
            if not putter.done():
                self._items.append(pending)
                putter.set_result(None)
                break
        return event

    async def close(self) -> None:
        self.close_nowait()

    def close_nowait(self) -> None:
        """Stop receiving: drop what is queued, release waiting publishers and end the iteration."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        self._bus._detach(self)
        for waiter in (*self._getters, *(putter for putter, _ in self._putters)):
            if not waiter.done():
                waiter.set_result(None)
        self._getters.clear()
        self._putters.clear()

    def offer(self, event: Event) -> None:
        """Enqueue without waiting; when full, evict the oldest queued price (or drop this one if none)."""
        if self._closed:
            return
        items = self._items
        if len(items) >= self._maxsize:
            self._dropped += 1
            if items and isinstance(items[0], PriceEvent):
                items.popleft()
            else:
                index = next((i for i, queued in enumerate(items) if isinstance(queued, PriceEvent)), None)
                if index is None:
                    return
                del items[index]
        items.append(event)
        _wake(self._getters)

    async def put(self, event: Event) -> None:
        """Enqueue, waiting for space while the queue is full (returns at once if the subscription closes)."""
        if self._closed:
            return
        if len(self._items) < self._maxsize:
            self._items.append(event)
            _wake(self._getters)
            return
        putter = asyncio.get_running_loop().create_future()
        self._putters.append((putter, event))
        await putter


class InProcessBus:
    """Fan-out to bounded per-subscriber queues inside one process (``memory://``)."""

    def __init__(self) -> None:
        self._subs: dict[QueueSubscription, None] = {}
        self._routes: dict[EventType, tuple[QueueSubscription, ...]] = {}
        self._ids = itertools.count(1)

    async def publish(self, event: Event) -> None:
        subs = self._routes.get(event_type(event))
        if not subs:
            return
        if isinstance(event, PriceEvent):
            for sub in subs:
                sub.offer(event)
            return
        for sub in subs:
            await sub.put(event)

    def subscribe(self, types: Sequence[EventType] | None = None, *, maxsize: int = 1024,
                  name: str | None = None) -> QueueSubscription:
        wanted = frozenset(EVENT_TYPES if types is None else types)
        if not wanted or not wanted <= set(EVENT_TYPES):
            raise Invalid(f"subscribe to one or more of {', '.join(EVENT_TYPES)} (or None for all)",
                          details={"types": sorted(wanted)})
        if maxsize < 1:
            raise Invalid("maxsize must be at least 1", details={"maxsize": maxsize})
        sub = QueueSubscription(self, name or f"sub-{next(self._ids)}", wanted, maxsize)
        self._subs[sub] = None
        self._reroute()
        return sub

    def subscribed_types(self) -> frozenset[EventType]:
        """The event types at least one open subscription wants."""
        return frozenset(self._routes)

    async def start(self) -> None:
        """Nothing to start: delivery happens inside ``publish``."""

    async def close(self) -> None:
        """Close every subscription (their iterations end; waiting publishers are released)."""
        for sub in list(self._subs):
            sub.close_nowait()

    def queue_depths(self) -> dict[str, int]:
        """Queued events per subscription name (subscriptions sharing a name are summed)."""
        depths: dict[str, int] = {}
        for sub in self._subs:
            depths[sub.name] = depths.get(sub.name, 0) + sub.depth
        return depths

    def _detach(self, sub: QueueSubscription) -> None:
        self._subs.pop(sub, None)
        self._reroute()

    def _reroute(self) -> None:
        routes: dict[EventType, list[QueueSubscription]] = {}
        for sub in self._subs:
            for kind in sub.types:
                routes.setdefault(kind, []).append(sub)
        self._routes = {kind: tuple(subs) for kind, subs in routes.items()}


class RedisBus:
    """Redis Streams transport (``redis://``): XADD per event type, one reader task feeding local fan-out.

    Streams are ``<prefix><type>``, trimmed approximately to ``maxlen[type]``. The reader starts at each
    stream's tail as of ``start()``; a type first subscribed later starts at the subscribe time. Connection
    errors are logged and retried with exponential backoff from the last id read, so nothing still in the
    stream is lost. Publishing relies on redis-py's retry of a dropped connection (at-least-once) and raises
    ``ExternalTransient`` when Redis stays unreachable.
    """

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, maxlen: Mapping[EventType, int] | None = None,
                 block_ms: int = 1_000, batch: int = 512, backoff: tuple[float, float] = (0.05, 5.0)) -> None:
        self._local = InProcessBus()
        self._keys: dict[EventType, str] = {kind: f"{prefix}{kind}" for kind in EVENT_TYPES}
        self._kinds: dict[bytes, EventType] = {key.encode(): kind for kind, key in self._keys.items()}
        self._maxlen: dict[EventType, int] = {**DEFAULT_MAXLEN, **(maxlen or {})}
        self._block_ms = block_ms
        self._batch = batch
        self._backoff = backoff
        self.client_name = f"tradeassist-bus-{uuid.uuid4().hex[:12]}"
        """Name of the reader's Redis connection (CLIENT LIST / CLIENT KILL)."""
        self._writer = Redis.from_url(url)
        self._reader = Redis.from_url(url, client_name=self.client_name, retry=Retry(NoBackoff(), 0),
                                      protocol=2, socket_timeout=block_ms / 1000 + 5)
        self._positions: dict[EventType, str] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, event: Event) -> None:
        kind = event_type(event)
        try:
            await self._writer.xadd(self._keys[kind], {b"e": encode_event(event)},
                                    maxlen=self._maxlen[kind], approximate=True)
        except RedisError as exc:
            raise ExternalTransient(f"event bus: publishing a {kind} event to Redis failed: {exc}") from exc

    def subscribe(self, types: Sequence[EventType] | None = None, *, maxsize: int = 1024,
                  name: str | None = None) -> QueueSubscription:
        sub = self._local.subscribe(types, maxsize=maxsize, name=name)
        if self._task is not None:
            since = f"{time.time_ns() // 1_000_000 - 1}-0"
            for kind in sub.types:
                self._positions.setdefault(kind, since)
        self._changed.set()
        return sub

    async def start(self) -> None:
        """Pin every stream's current tail (``$`` without the gap between reads), then start the reader."""
        if self._task is not None:
            return
        try:
            async with self._writer.pipeline(transaction=False) as pipe:
                for kind in EVENT_TYPES:
                    pipe.xrevrange(self._keys[kind], "+", "-", count=1)
                tails = await pipe.execute()
        except RedisError as exc:
            raise ExternalTransient(f"event bus: Redis is unreachable: {exc}") from exc
        self._positions = {kind: tail[0][0].decode() if tail else "0-0"
                           for kind, tail in zip(EVENT_TYPES, tails, strict=True)}
        self._task = asyncio.create_task(self._read_loop(), name=f"bus-reader:{self.client_name}")

    async def close(self) -> None:
        """Cancel the reader, close local subscriptions and both Redis connection pools."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._local.close()
        await self._reader.aclose()
        await self._writer.aclose()

    def queue_depths(self) -> dict[str, int]:
        return self._local.queue_depths()

    async def _read_loop(self) -> None:
        failures = 0
        while True:
            wanted = self._local.subscribed_types()
            for kind in self._positions.keys() - wanted:
                del self._positions[kind]
            if not wanted:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                reply = await self._reader.xread({self._keys[kind]: self._positions[kind] for kind in wanted},
                                                 count=self._batch, block=self._block_ms)
                assert isinstance(reply, list)  # RESP2 shape: [[key, [(id, fields), ...]], ...]
                if failures:
                    log.info("bus_reader_reconnected", client=self.client_name, failures=failures)
                    failures = 0
                await self._dispatch(reply)
            except (RedisError, OSError) as exc:
                failures += 1
                delay = min(self._backoff[0] * 2 ** (failures - 1), self._backoff[1])
                log.warning("bus_reader_disconnected", client=self.client_name, error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
            except Exception:
                failures += 1
                log.exception("bus_reader_failed", client=self.client_name)
                await asyncio.sleep(self._backoff[1])

    async def _dispatch(self, reply: list[list[Any]]) -> None:
        """Feed one XREAD reply to local subscribers, merged across streams by entry id."""
        entries: list[tuple[int, int, EventType, bytes, bytes]] = []
        for key, rows in reply:
            kind = self._kinds[key]
            for entry_id, fields in rows:
                ms, _, seq = entry_id.partition(b"-")
                entries.append((int(ms), int(seq), kind, entry_id, fields.get(b"e", b"")))
        if len(reply) > 1:
            entries.sort()
        for _, _, kind, entry_id, raw in entries:
            self._positions[kind] = entry_id.decode()
            try:
                event = decode_event(raw)
            except msgspec.DecodeError as exc:
                log.warning("bus_event_undecodable", stream=self._keys[kind], id=entry_id.decode(), error=str(exc))
                continue
            await self._local.publish(event)


def create_bus(url: str) -> EventBus:
    """The bus for EVENT_BUS_URL: ``memory://`` (one process) or ``redis://host:port/db`` (Redis Streams)."""
    scheme, sep, _ = url.partition("://")
    scheme = f"{scheme.lower()}://" if sep else "(none)"
    if scheme == "memory://":
        return InProcessBus()
    if scheme in ("redis://", "rediss://"):
        return RedisBus(url)
    raise Invalid(f"EVENT_BUS_URL scheme {scheme} is not supported; use memory:// (one process) or "
                  "redis://host:port/db (Redis Streams, several processes)",
                  details={"supported": list(SUPPORTED_SCHEMES)})
