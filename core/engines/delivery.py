"""Delivery workers: one per registered channel, draining the `alert_deliveries` outbox (alert triggers, and news
items on watched symbols for the channels the trader routed the `news` alert type to).

Each worker reads its due rows (``pending``, ``next_attempt_at <= now``), claims them in one atomic
``UPDATE ... SET status='sending' WHERE id IN (...) AND status='pending' RETURNING id`` (committed before anything
is sent, so no other worker or process sends them), then, row by row in order, sends each claimed row through the
channel's `Notifier` and marks it ``delivered`` with the latency from the trigger
(``alert_delivery_latency_seconds``) or puts it back to ``pending`` with an exponential backoff (the notifier's
``retry_after`` when it gave one, e.g. a Discord 429). A permanent error, or `MAX_ATTEMPTS` transient ones, marks
it ``failed`` (kept, with the error). Rows are never deleted.

A claim is a lease: ``next_attempt_at`` holds its end. At start, and every sweep, rows left ``sending`` past
their lease (the process died mid-send) go back to ``pending``. The edge: if the process died *after* the
notifier accepted the message but *before* ``delivered`` was committed, that row is sent again after the
restart, so delivery is at-least-once in exactly that window, never more than once otherwise.

Channels plug in with `DeliveryEngine.register(notifier)` (the ``ws`` bus publisher and the Discord webhook
here; the Discord bot and the Slack app in their own issues, at any time). Rows of a channel nobody registered
stay ``pending``, untouched, and are logged once per channel by the sweeper.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter, Histogram

from core.db.repositories.alerts import DeliveryRepository, DueDelivery
from core.db.session import Database
from core.domain.deliveries import Delivery
from core.errors import CoreError, ExternalTransient
from core.ports import EventBus, Notifier

log = structlog.get_logger("engine.delivery")

DELIVERY_LATENCY = Histogram("alert_delivery_latency_seconds", "Trigger written to channel delivered",
                             ["channel"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600))
DELIVERY_OUTCOMES = Counter("alert_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
BASE_BACKOFF_SEC = 1.0
MAX_BACKOFF_SEC = 300.0
IDLE_POLL_SEC = 1.0
SWEEP_SEC = 10.0

Spawn = Callable[[Coroutine[Any, Any, Any], str], Any]


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: the vendor's ``retry_after`` when given, else 1, 2, 4... (+ jitter)."""
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, MAX_BACKOFF_SEC)
    base = min(BASE_BACKOFF_SEC * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SEC)
    return float(base * random.uniform(1.0, 1.25))


def delivery_of(row: DueDelivery) -> Delivery:
    """What a notifier gets: the stored `alert` event and the trigger's identity; for a news item, `news_alert`'s
    (``meta.kind`` = ``news``) with ``news_id`` in place of the trigger's."""
    return Delivery.of(row.event, trigger_id=row.trigger_id, alert_id=row.alert_id, triggered_at=row.triggered_at,
                       attempt=row.attempts + 1, news_id=row.news_id)


class BusNotifier:
    """The ``ws`` channel: publishing the `alert` event on the bus is the delivery (the /ws hub fans it out).

    The alert engine publishes each fire itself, before its commit, and writes the ``ws`` row delivered; a row
    stays pending for this notifier only when that publish failed (it goes out again, marked ``redelivered``)."""

    channel = "ws"

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def deliver(self, delivery: Delivery) -> None:
        await self.bus.publish(delivery.redelivered())


class DeliveryEngine:
    def __init__(self, db: Database, *, idle_poll_sec: float = IDLE_POLL_SEC, sweep_sec: float = SWEEP_SEC) -> None:
        self.db = db
        self.idle_poll_sec, self.sweep_sec = idle_poll_sec, sweep_sec
        self.notifiers: dict[str, Notifier] = {}
        self._wakes: dict[str, asyncio.Event] = {}
        self._spawn: Spawn | None = None
        self._unregistered_logged: set[str] = set()
        self.delivered = 0

    def register(self, notifier: Notifier) -> None:
        """Deliver ``notifier.channel`` rows through ``notifier``; starts its worker now if the engine runs."""
        channel = notifier.channel
        if channel in self.notifiers:
            raise ValueError(f"a notifier for channel {channel!r} is registered already")
        self.notifiers[channel] = notifier
        self._wakes[channel] = asyncio.Event()
        self._unregistered_logged.discard(channel)
        if self._spawn is not None:
            self._spawn(self._worker(channel), f"delivery-{channel}")

    def wake(self) -> None:
        """New rows were committed (in this process): look now instead of at the next idle poll."""
        for event in self._wakes.values():
            event.set()

    async def start(self, spawn: Spawn) -> None:
        """Hand expired leases back, then start a worker per registered channel and the sweeper via ``spawn``.
        Idempotent: a process running both bots without the engine role may ask twice."""
        if self._spawn is not None:
            return
        await self.release_expired_leases()
        self._spawn = spawn
        for channel in list(self.notifiers):
            spawn(self._worker(channel), f"delivery-{channel}")
        spawn(self._sweeper(), "delivery-sweeper")

    async def release_expired_leases(self) -> int:
        async with self.db.uow() as session:
            released = await DeliveryRepository(session).release_expired_leases(datetime.now(UTC))
        if released:
            log.warning("delivery.leases_released", rows=released)
        return released

    async def _sweeper(self) -> None:
        while True:
            try:
                await self.release_expired_leases()
                async with self.db.read() as session:
                    channels = await DeliveryRepository(session).pending_channels(datetime.now(UTC))
                for channel in sorted(set(channels) - self.notifiers.keys() - self._unregistered_logged):
                    self._unregistered_logged.add(channel)
                    log.warning("delivery.channel_unregistered", channel=channel,
                                note="rows stay pending until a notifier for this channel is registered")
            except Exception as exc:
                log.error("delivery.sweep_failed", error=str(exc))
            await asyncio.sleep(self.sweep_sec)

    async def _worker(self, channel: str) -> None:
        wake = self._wakes[channel]
        while True:
            try:
                sent = await self.run_once(channel)
            except Exception as exc:  # DB away: nothing is lost, rows stay pending or leased
                log.error("delivery.round_failed", channel=channel, error=str(exc))
                sent = 0
            if sent:
                continue
            wake.clear()
            timeout = self.idle_poll_sec
            async with self.db.read() as session:
                due = await DeliveryRepository(session).next_due(channel)
            if due is not None:
                timeout = min(timeout, max((due - datetime.now(UTC)).total_seconds(), 0.0))
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout)

    async def run_once(self, channel: str) -> int:
        """Deliver every due row of ``channel`` once; returns how many were attempted."""
        notifier = self.notifiers[channel]
        async with self.db.read() as session:
            rows = await DeliveryRepository(session).due(channel, datetime.now(UTC))
        if not rows:
            return 0
        async with self.db.uow() as session:
            claimed = await DeliveryRepository(session).claim([row.id for row in rows], datetime.now(UTC) + LEASE)
        for row in rows:
            if row.id in claimed:
                await self._send(notifier, row)
        return len(rows)

    async def _send(self, notifier: Notifier, row: DueDelivery) -> None:
        attempts = row.attempts + 1
        try:
            await notifier.deliver(delivery_of(row))
        except ExternalTransient as exc:
            await self._retry_or_fail(row, attempts, exc.message, exc.retry_after)
            return
        except CoreError as exc:
            await self._fail(row, exc.message)
            return
        except Exception as exc:  # a notifier bug must not lose the row: retry with backoff
            await self._retry_or_fail(row, attempts, f"{type(exc).__name__}: {exc}", None)
            return
        at = datetime.now(UTC)
        latency = (at - row.triggered_at).total_seconds()
        async with self.db.uow() as session:
            await DeliveryRepository(session).delivered([row.id], at, latency * 1000)
        DELIVERY_LATENCY.labels(row.channel).observe(latency)
        DELIVERY_OUTCOMES.labels(row.channel, "delivered").inc()
        self.delivered += 1

    async def _retry_or_fail(self, row: DueDelivery, attempts: int, error: str, retry_after: float | None) -> None:
        if attempts >= MAX_ATTEMPTS:
            await self._fail(row, f"gave up after {attempts} attempts: {error}")
            return
        delay = backoff(attempts, retry_after)
        async with self.db.uow() as session:
            await DeliveryRepository(session).retry(row.id, datetime.now(UTC) + timedelta(seconds=delay), error)
        DELIVERY_OUTCOMES.labels(row.channel, "retry").inc()
        log.warning("delivery.retry", channel=row.channel, delivery_id=row.id, attempts=attempts,
                    retry_in_s=round(delay, 3), error=error)

    async def _fail(self, row: DueDelivery, error: str) -> None:
        async with self.db.uow() as session:
            await DeliveryRepository(session).failed(row.id, error)
        DELIVERY_OUTCOMES.labels(row.channel, "failed").inc()
        log.error("delivery.failed", channel=row.channel, delivery_id=row.id, error=error)
