"""Polygon (Massive) WebSocket feed: connect -> auth -> subscribe (diffed) -> events, and it owns its reconnects.

Two tasks per feed: the reader only reads a frame, stamps its receive time and puts it in a bounded queue
(counting drops, so Polygon never sees a slow consumer); the decoder decodes (wire.py) and dispatches plain
ticks to a `FeedSink`. Reconnects use full-jitter exponential backoff (base 0.25 s, cap 30 s, reset after 60 s
healthy); `auth_failed` and `max_connections` are logged as errors and wait >= 60 s. Liveness is a transport
ping plus a data watchdog during market hours. A plan without WebSocket access falls back to REST snapshot polling.

After a reconnect the outage is back-filled through REST, marked late: a gap of up to a few minutes with second
aggregates from shortly before the drop to the moment the live stream resumes (so a level crossed during a
few seconds' outage is still seen), a longer one with minute aggregates. Where back-fill and live stream overlap
in time the sink keeps one bar per start and evaluates only that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import structlog
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.polygon.wire import FrameDecoder, Message, MinuteAgg, Quote, SecondAgg, Status, Trade, encode_action
from core.domain.market import FeedSink, epoch_ms, us_equity_hours
from core.domain.market_views import FeedStatus, UnverifiedGap
from core.errors import CoreError

log = structlog.get_logger("polygon.stream")

_SECOND_MS = 1_000
_MINUTE_MS = 60_000
UNVERIFIED_GAPS_KEPT = 50  # the most recent, in the feed's status
_FATAL = frozenset({"auth_failed", "max_connections"})
_NO_ACCESS_HINTS = ("websocket access", "plan doesn't include", "not authorized", "not entitled")


class _Fatal(Exception):
    """A status that must not be retried quickly: auth_failed, max_connections, or no_access (plan)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class _Silent(Exception):
    """The data watchdog saw no message for too long during market hours."""


def _clock_market_hours() -> bool:
    return us_equity_hours(datetime.now(UTC))


class PolygonFeed:
    """The `MarketFeed` port over the Polygon WebSocket; `run()` until cancelled."""

    def __init__(self, url: str, api_key: SecretStr, sink: FeedSink, *, rest: PolygonMarketData | None = None,
                 channels: Iterable[str] = ("T", "Q", "A", "AM"),
                 market_hours: Callable[[], bool] = _clock_market_hours, queue_size: int = 10_000,
                 ping_interval: float = 10.0, silence_timeout: float = 5.0, backoff_base: float = 0.25,
                 backoff_cap: float = 30.0, healthy_after: float = 60.0, fatal_backoff: float = 60.0,
                 poll_interval: float = 5.0, no_access_recheck: float = 900.0, handshake_timeout: float = 10.0,
                 max_frame_bytes: int = 16 * 2**20, gap_fill_concurrency: int = 4,
                 second_fill_max: float = 300.0, gap_margin: float = 2.0,
                 rng: random.Random | None = None) -> None:
        self._url, self._key, self._sink, self._rest = url, api_key, sink, rest
        self._channels = tuple(channels)
        self._market_hours = market_hours
        self._queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue(maxsize=queue_size)
        self._ping, self._silence, self._handshake = ping_interval, silence_timeout, handshake_timeout
        self._base, self._cap, self._healthy_after = backoff_base, backoff_cap, healthy_after
        self._fatal_backoff, self._poll, self._recheck = fatal_backoff, poll_interval, no_access_recheck
        self._max_frame = max_frame_bytes
        self._gap_slots = asyncio.Semaphore(gap_fill_concurrency)
        self._second_fill_max_ms, self._gap_margin_ms = int(second_fill_max * 1000), int(gap_margin * 1000)
        self._rng = rng or random.Random()
        self._frames = FrameDecoder()
        self._desired: set[str] = set()
        self._subscribed: set[str] = set()
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._fatal: _Fatal | None = None
        self._last_msg = time.monotonic()
        self._last_bar_ms: dict[str, int] = {}
        self._disconnected_ms: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._counters = dict.fromkeys(("frames", "events", "dropped", "reconnects", "gap_filled", "polls",
                                        "gap_fill_failed"), 0)
        self._unverified: deque[UnverifiedGap] = deque(maxlen=UNVERIFIED_GAPS_KEPT)
        self._state, self._reason, self._since, self._retry_at = "idle", "", time.time(), 0.0

    # -- public ------------------------------------------------------------------------------------------------

    @property
    def status(self) -> FeedStatus:
        """State (idle/connecting/streaming/backoff/auth_failed/max_connections/polling), reason, counters, and the
        unverified gaps: outages whose back-fill failed, so a level crossed inside them may not have fired."""
        now = time.time()
        return FeedStatus(state=self._state, reason=self._reason,
                          since=datetime.fromtimestamp(self._since, UTC).isoformat(),
                          retry_in_s=round(max(0.0, self._retry_at - now), 3) if self._retry_at > now else None,
                          url=self._url, symbols=tuple(sorted(self._desired)), channels=len(self._subscribed),
                          queue_depth=self._queue.qsize(),
                          last_message_age_s=round(time.monotonic() - self._last_msg, 3),
                          unverified_gaps=tuple(self._unverified),
                          counters={**self._counters, "malformed": self._frames.malformed})

    async def set_symbols(self, symbols: set[str]) -> None:
        """Change the watched set; an open connection is (un)subscribed by difference, never reconnected."""
        self._desired = {s.upper() for s in symbols}
        try:
            await self._sync()
        except ConnectionClosed:
            log.info("polygon_subscribe_deferred", reason="connection closing; resubscribed on reconnect")

    async def run(self) -> None:
        decoder = asyncio.create_task(self._decode_loop())
        attempt = 0
        try:
            while True:
                self._set_state("connecting", self._url)
                delay, attempt = await self._connect_once(attempt)
                self._counters["reconnects"] += 1
                await asyncio.sleep(delay)
        finally:
            decoder.cancel()
            for task in list(self._tasks):
                task.cancel()
            self._set_state("stopped", "")

    # -- connection lifecycle ----------------------------------------------------------------------------------

    def _jitter(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self._cap, self._base * 2 ** min(attempt, 30)))

    async def _connect_once(self, attempt: int) -> tuple[float, int]:
        """One connection, start to end; returns (delay before the next one, next attempt number)."""
        healthy_since: list[float] = []
        try:
            await self._session(healthy_since)
            reason = "closed by server"
        except _Fatal as exc:
            if exc.kind == "no_access" and self._rest is not None:
                await self._poll_for(exc.message)
                return 0.0, 0
            delay = max(self._fatal_backoff, self._jitter(attempt))
            log.error("polygon_feed_refused", kind=exc.kind, message=exc.message, retry_in_s=round(delay, 1))
            self._set_state("auth_failed" if exc.kind == "no_access" else exc.kind, exc.message, delay)
            return delay, attempt + 1
        except (OSError, TimeoutError, WebSocketException, _Silent) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if healthy_since and time.monotonic() - healthy_since[0] >= self._healthy_after:
            attempt = 0
        delay = self._jitter(attempt)
        log.warning("polygon_reconnect", reason=reason, retry_in_s=round(delay, 3), attempt=attempt)
        self._set_state("backoff", reason, delay)
        return delay, attempt + 1

    async def _session(self, healthy_since: list[float]) -> None:
        async with connect(self._url, ping_interval=self._ping, ping_timeout=self._ping,
                           open_timeout=self._handshake, close_timeout=1, max_size=self._max_frame) as ws:
            await self._expect(ws, {"connected"})
            self._set_state("authenticating", "")
            await ws.send(encode_action("auth", self._key.get_secret_value()))
            status = await self._expect(ws, {"auth_success", "auth_timeout", *_FATAL})
            if status.status != "auth_success":
                no_access = any(hint in status.message.lower() for hint in _NO_ACCESS_HINTS)
                raise _Fatal("no_access" if no_access else status.status, status.message)
            self._ws, self._subscribed, self._fatal = ws, set(), None
            try:
                healthy_since.append(time.monotonic())
                self._last_msg = time.monotonic()
                self._set_state("streaming", "")
                if self._disconnected_ms is not None:
                    self._spawn_gap_fill(self._disconnected_ms)
                await self._pump(ws)
            finally:
                self._ws = None  # the live stream ended with the last frame read (a silent socket ended earlier)
                self._disconnected_ms = epoch_ms(datetime.now(UTC)) - int((time.monotonic() - self._last_msg) * 1000)
                current = asyncio.current_task()
                if current is None or not current.cancelling():  # on shutdown, don't wait for the decoder
                    with contextlib.suppress(TimeoutError):  # let a closing status (max_connections) be decoded
                        await asyncio.wait_for(self._queue.join(), 1.0)
                if self._fatal is not None:
                    raise self._fatal

    async def _expect(self, ws: ClientConnection, wanted: set[str]) -> Status:
        """Read handshake frames until one of the `wanted` statuses arrives."""
        while True:
            frame = await asyncio.wait_for(ws.recv(decode=False), self._handshake)
            for msg in self._frames.decode(frame):
                if isinstance(msg, Status) and msg.status in wanted:
                    return msg
                if isinstance(msg, Status) and msg.status in _FATAL:
                    raise _Fatal(msg.status, msg.message)

    async def _pump(self, ws: ClientConnection) -> None:
        tasks = [asyncio.create_task(self._read(ws)), asyncio.create_task(self._watchdog())]
        try:
            with contextlib.suppress(ConnectionClosed):  # the reader sees the close and what came before it
                await self._sync()
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()

    async def _read(self, ws: ClientConnection) -> None:
        """Only reads: stamp the receive time, hand over, count what a full queue forces us to drop."""
        put, counters = self._queue.put_nowait, self._counters
        while True:
            frame = await ws.recv(decode=False)
            recv_ns = time.time_ns()
            self._last_msg = time.monotonic()
            counters["frames"] += 1
            try:
                put((frame, recv_ns))
            except asyncio.QueueFull:
                counters["dropped"] += 1
                if counters["dropped"] in (1, 10, 100) or counters["dropped"] % 1000 == 0:
                    log.warning("polygon_feed_backpressure", dropped=counters["dropped"])

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self._silence / 2))
            silent = time.monotonic() - self._last_msg
            if silent > self._silence and self._market_hours():
                raise _Silent(f"no data for {silent:.1f}s during market hours")

    async def _sync(self) -> None:
        async with self._send_lock:
            ws = self._ws
            if ws is None:
                return
            want = {f"{ch}.{sym}" for sym in self._desired for ch in self._channels}
            removed, added = sorted(self._subscribed - want), sorted(want - self._subscribed)
            if removed:
                await ws.send(encode_action("unsubscribe", ",".join(removed)))
            if added:
                await ws.send(encode_action("subscribe", ",".join(added)))
            self._subscribed = want

    def _set_state(self, state: str, reason: str, retry_in: float = 0.0) -> None:
        if (state, reason) != (self._state, self._reason):
            self._state, self._reason, self._since = state, reason, time.time()
        self._retry_at = time.time() + retry_in if retry_in else 0.0

    # -- decoding and dispatch ---------------------------------------------------------------------------------

    async def _decode_loop(self) -> None:
        queue = self._queue
        while True:
            frame, recv_ns = await queue.get()
            try:
                self._dispatch(self._frames.decode(frame), recv_ns)
            except Exception:
                log.exception("polygon_dispatch_failed")
            finally:
                queue.task_done()
            await asyncio.sleep(0)  # let the engine publish between frames

    def _dispatch(self, messages: list[Message], recv_ns: int) -> None:
        sink, statuses = self._sink, 0
        for msg in messages:
            if isinstance(msg, Quote):
                sink.on_quote(msg, recv_ns)
            elif isinstance(msg, Trade):
                sink.on_trade(msg, recv_ns)
            elif isinstance(msg, MinuteAgg):
                self._last_bar_ms[msg.symbol] = msg.start_ms
                sink.on_bar(msg, 60, recv_ns)
            elif isinstance(msg, SecondAgg):
                sink.on_bar(msg, 1, recv_ns)
            elif isinstance(msg, Status):
                statuses += 1
                self._on_status(msg)
        self._counters["events"] += len(messages) - statuses

    def _on_status(self, msg: Status) -> None:
        if msg.status in _FATAL:
            log.error("polygon_feed_status", status=msg.status, message=msg.message)
            self._fatal = _Fatal(msg.status, msg.message)
        elif msg.status == "success":
            log.debug("polygon_status", message=msg.message)
        else:
            log.warning("polygon_status", status=msg.status, message=msg.message)

    # -- REST helpers: gap fill and polling --------------------------------------------------------------------

    def _spawn_gap_fill(self, dropped_ms: int) -> None:
        """Back-fill [drop - margin, now] per symbol: second bars for a short outage, minute bars for a long one.

        The margin re-reads the seconds whose trades were in flight when the socket went; bars the live stream
        delivered too are duplicates the sink drops by start time. The live stream resumes right after this (the
        subscribe follows), so the window ends now."""
        if self._rest is None:
            return
        resumed_ms = epoch_ms(datetime.now(UTC))
        short = resumed_ms - dropped_ms <= self._second_fill_max_ms
        for symbol in sorted(self._desired):
            if short:
                start, span = dropped_ms - self._gap_margin_ms, 1
            else:
                last = self._last_bar_ms.get(symbol)
                start, span = (last + _MINUTE_MS if last is not None else dropped_ms - dropped_ms % _MINUTE_MS), 60
            task = asyncio.create_task(self._gap_fill(self._rest, symbol, start - start % _SECOND_MS, resumed_ms,
                                                      span))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _gap_fill(self, rest: PolygonMarketData, symbol: str, start_ms: int, end_ms: int, span: int) -> None:
        """Fetch the `span`-second bars of [start_ms, end_ms] and hand them to the sink, late."""
        if end_ms - start_ms < span * _SECOND_MS:
            return
        timespan, agg = ("second", SecondAgg) if span == 1 else ("minute", MinuteAgg)
        async with self._gap_slots:
            try:
                bars = await rest.bars(symbol, multiplier=1, timespan=timespan, start=start_ms, end=end_ms,
                                       limit=50_000)
            except CoreError as exc:  # the client already retried with jitter: what the stream missed is unknown
                log.warning("polygon_gap_fill_failed", symbol=symbol, timespan=timespan, error=exc.message)
                self._counters["gap_fill_failed"] += 1
                self._unverified.append(UnverifiedGap(symbol=symbol, from_=_iso_ms(start_ms), to=_iso_ms(end_ms),
                                                      error=exc.message))
                return
        recv_ns, width = time.time_ns(), span * _SECOND_MS
        for bar in bars:
            start = epoch_ms(bar.start)
            self._sink.on_bar(agg(symbol=symbol, open=float(bar.open), high=float(bar.high), low=float(bar.low),
                                  close=float(bar.close), volume=float(bar.volume), start_ms=start,
                                  end_ms=start + width), span, recv_ns, late=True)
        self._counters["gap_filled"] += len(bars)
        log.info("polygon_gap_filled", symbol=symbol, timespan=timespan, bars=len(bars), start_ms=start_ms,
                 end_ms=end_ms)

    async def _poll_for(self, message: str) -> None:
        """No WebSocket on this plan: poll REST snapshots of the symbols for a while, then re-check the socket."""
        assert self._rest is not None
        log.error("polygon_feed_polling", message=message, interval_s=self._poll)
        self._set_state("polling", f"polling, not streaming: {message}")
        deadline = time.monotonic() + self._recheck
        while time.monotonic() < deadline:
            try:
                quotes = await self._rest.snapshots(sorted(self._desired))
            except CoreError as exc:
                log.warning("polygon_poll_failed", error=exc.message)
                quotes = []
            recv_ns = time.time_ns()
            for q in quotes:
                ts_ms = epoch_ms(q.ts) if q.ts else recv_ns // 1_000_000
                if q.last is not None:
                    self._sink.on_trade(Trade(symbol=q.symbol, price=float(q.last), size=0, ts_ms=ts_ms), recv_ns)
                if q.bid is not None and q.ask is not None:
                    self._sink.on_quote(Quote(symbol=q.symbol, bid=float(q.bid), bid_size=q.bid_size or 0,
                                              ask=float(q.ask), ask_size=q.ask_size or 0, ts_ms=ts_ms), recv_ns)
            self._counters["polls"] += 1
            self._last_msg = time.monotonic()
            await asyncio.sleep(self._poll)


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
