"""The alert engine: the in-memory `AlertIndex` fed by the price stream and the poller, the publisher of `alert`
events and the group-commit writer of triggers.

Hot path (`on_tick`, a `StreamEngine` tick hook): ``index.on_tick`` and, on a fire, ``put_nowait`` of the fire
and its receive time on a queue. Nothing else, never an await.

Publisher task: takes each fire off that queue, decides its trigger id in memory, builds the `alert` event
(its meta with the action chips) and publishes it at once: the publish never waits for a database
write. That publish *is* the ``ws`` delivery. The fire then waits for the writer.

Writer task (group commit): every fire published since its last round, together with the alerts' changed states
(``index.drain_changes()``: fires, re-arms, snooze wake-ups, expiries), goes into ONE transaction: an
`alert_triggers` row per fire (unique dedupe key: a key already there means the fire was written before, and
it is skipped), one `alert_deliveries` outbox row per channel of the alert that wants that kind
(Tunables.alert_types, DISCORD_WEBHOOK_ALERT_TYPES), the ``ws`` row written ``delivered`` when the publish went
out (``pending`` when it failed, so the delivery engine publishes it again), and the states. While a commit runs
the next fires queue up, so one transaction carries every fire of the last few milliseconds. After the commit it
wakes the delivery workers, which only ever see committed outbox rows, and reports each expiry once (an
``info`` `alert` event). A failed commit keeps everything and is retried with backoff; on shutdown the queued
fires are published and committed before the engine stops.

Consistency and what a crash can do. An alert's state is written only in the transaction of its own fires, or
later: the state of an alert with a fire not yet handed to this round is held back (and written with that fire).
So the database never holds a "fired, disarmed" state without its trigger and outbox rows, and after a restart
a fire that was committed with its state never fires again (a replayed fire is also stopped by the dedupe key).
The window is a crash after the publish and before the group commit (one commit, a few ms; an alert that fires
twice within such a window keeps its earlier state until the second fire is committed, so this applies to its
first fire too):

- the fire was shown on /ws but nothing of it is in the database: the alert is still armed there, so it fires
  again on the first tick after the restart that still satisfies it (a new trigger, delivered to every channel
  exactly once; /ws clients see that alert twice, with two trigger ids);
- if the price has moved back by then, it fires on the next crossing instead, and the durable channels
  (Discord, Slack, the webhook) never hear of the fire that only /ws saw.

A fire is therefore never delivered twice to a channel from the outbox, and never lost once committed; the
price of publishing before the commit is that window. Clients may briefly see a ``trigger_id`` whose row is not
committed yet (``GET /alerts/{id}/triggers`` lists it a few ms later).

Poller task: `core.engines.alert_poller` (bars for minute/day alerts and for symbols without fresh stream
data), its fires queued like the stream's.

With the coach's LLM configured, each published fire is also handed to `AlertRationale` (an update event with
a short rationale, afterwards; see core/engines/alert_rationale.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter as MetricCounter
from prometheus_client import Histogram
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.db.repositories.alerts import LIVE, PENDING, AlertRepository, DeliveryRepository, row_to_alert
from core.db.session import Database
from core.domain.alerts import Alert, AlertStatus, Channel, Fired, Timeframe
from core.domain.events import AlertEvent, AlertMeta
from core.domain.market import epoch_ms
from core.engines.alert_events import NoTrading, Published, TradingContext, alert_event
from core.engines.alert_index import AlertIndex
from core.engines.alert_poller import AlertPoller
from core.engines.alert_rationale import AlertRationale
from core.ports import LLM, EventBus
from core.services.market import MarketService
from core.services.settings import SettingsService, Tunables, wanted

log = structlog.get_logger("engine.alerts")

ENGINE_LATENCY = Histogram("alert_engine_latency_seconds", "Tick received to `alert` published",
                           buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1))
COMMIT_LAG = Histogram("alert_commit_lag_seconds", "`alert` published to its trigger committed",
                       buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5))
FIRES = MetricCounter("alert_fires_total", "Alert fires written as triggers", ["kind"])
DUPLICATE_FIRES = MetricCounter("alert_fires_duplicate_total", "Fires skipped because their trigger already existed")

FLUSH_SEC = 0.25
DRAIN_SEC = 1.0  # within the runtime's shutdown grace (SHUTDOWN_GRACE_SEC)
RECENT_KEYS = 10_000


class AlertEngine:
    def __init__(self, db: Database, bus: EventBus, market: MarketService, settings: SettingsService, *,
                 poll_sec: float, webhook_types: Sequence[str] = (), context: TradingContext | None = None,
                 on_committed: Callable[[], None] | None = None, llm: LLM | None = None) -> None:
        self.db, self.bus, self.market, self.settings = db, bus, market, settings
        self.poll_sec = poll_sec
        self.webhook_types = tuple(webhook_types)
        self.context: TradingContext = context or NoTrading()
        self.on_committed = on_committed
        self.rationale = AlertRationale(llm, bus, db) if llm is not None else None
        self.index = AlertIndex()
        self.poller = AlertPoller(self.index, market, self._enqueue, poll_sec=poll_sec)
        self.write_lock = asyncio.Lock()
        self.tunables = Tunables()
        self.late_after = timedelta(seconds=max(60.0, 2 * poll_sec))
        self._fires: asyncio.Queue[tuple[Fired, int]] = asyncio.Queue()
        self._inflight: Counter[str] = Counter()  # fires per alert, queued or published, not committed yet
        self._ready: list[Published] = []  # published, waiting for the writer
        self._wake = asyncio.Event()
        self._recent: dict[str, None] = {}  # dedupe keys published lately (insertion-ordered, bounded)
        self._unsaved: dict[str, Alert] = {}
        self._watched: frozenset[str] | None = None
        self._started = False
        self._own_writes: dict[str, datetime] = {}
        self._reconciled_at: datetime | None = None
        self.published = 0
        self.latency_ns: deque[int] = deque(maxlen=100_000)  # hook -> published, per published fire

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load live alerts into the index, hook into the price stream, subscribe what they need."""
        self.tunables = await self.settings.get()
        self._reconciled_at = datetime.now(UTC)
        async with self.db.read() as session:
            rows = await AlertRepository(session).live()
        for row in rows:
            self.index.upsert(row_to_alert(row))
        if not self._started:
            self.market.engine.add_tick_hook(self.on_tick)
            self.settings.on_change(self._settings_changed)
        self._started = True
        await self.sync_watch()
        log.info("alerts.loaded", live=len(self.index))

    async def run(self, *, reconcile_sec: float | None = None) -> None:
        """Publisher, writer and poller (the rationale workers with an LLM; the reconciler when the API runs in
        another process). On the way out, queued fires are still published and committed (`drain`)."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._publish_loop())
                group.create_task(self._write_loop())
                group.create_task(self.poller.run())
                if self.rationale is not None:
                    group.create_task(self.rationale.run())
                if reconcile_sec is not None:
                    group.create_task(self._reconcile_loop(reconcile_sec))
        finally:
            if self._started:
                self.market.engine.remove_tick_hook(self.on_tick)
                self._started = False
            try:
                await asyncio.wait_for(self.drain(), DRAIN_SEC)
            except Exception as exc:  # what is lost here is the crash window the module docstring describes
                log.error("alerts.drain_failed", queued=self._fires.qsize(), unwritten=len(self._ready),
                          error=f"{type(exc).__name__}: {exc}")

    async def drain(self) -> list[Published]:
        """Publish every queued fire, then commit everything published; returns the fires written."""
        while not self._fires.empty():
            await self.publish(*self._fires.get_nowait())
        return await self.commit()

    async def _settings_changed(self, tunables: Tunables, changed: set[str]) -> None:
        self.tunables = tunables
        if "watchlist" in changed:
            await self.sync_watch(force=True)

    # -- the service's hooks (same process) --------------------------------------------------------------------

    def symbols(self) -> set[str]:
        return set().union(*(self.index.symbols(tf) for tf in Timeframe))

    async def sync_watch(self, *, force: bool = False) -> None:
        """Subscribe the watchlist and every live alert's symbol (only when that set changed)."""
        wanted_symbols = frozenset(self.tunables.watchlist) | self.symbols()
        if force or wanted_symbols != self._watched:
            self._watched = wanted_symbols
            await self.market.watch(wanted_symbols)

    def current(self, alert_id: str) -> Alert | None:
        """The engine's live view of an alert (fresher than the DB between flushes)."""
        return self.index.get(alert_id) or self._unsaved.get(alert_id)

    def apply(self, alert: Alert) -> None:
        """A created/edited/snoozed alert (already committed by the service)."""
        self._unsaved.pop(alert.id, None)
        self.index.upsert(alert)

    def forget(self, alert_id: str) -> None:
        """A deleted or dismissed alert (already committed by the service)."""
        self._unsaved.pop(alert_id, None)
        self.index.remove(alert_id)

    # -- hot path ----------------------------------------------------------------------------------------------

    def on_tick(self, symbol: str, price: float, high: float, low: float, ts_ms: int,  # noqa: PLR0917 (a TickHook)
                late: bool = False) -> None:
        fired = self.index.on_tick(symbol, price, high, low, ts_ms, late)
        if fired:
            self._enqueue(fired)

    def _enqueue(self, fired: Sequence[Fired]) -> None:
        now = time.perf_counter_ns()
        for fire in fired:
            self._inflight[fire.alert.id] += 1
            self._fires.put_nowait((fire, now))

    # -- publisher ---------------------------------------------------------------------------------------------

    async def _publish_loop(self) -> None:
        while True:
            fire, recv_ns = await self._fires.get()
            try:
                await self.publish(fire, recv_ns)
            except Exception as exc:  # building the event failed (a bug): drop the fire, let its state be written
                self._settle(fire.alert.id, 1)
                log.exception("alerts.publish_bug", alert_id=fire.alert.id, error=str(exc))

    async def publish(self, fire: Fired, recv_ns: int) -> Published | None:
        """Publish ``fire``'s `alert` event now and hand it to the writer; None when this process published
        the same fire (dedupe key) already."""
        key = fire.dedupe_key
        if key in self._recent:
            DUPLICATE_FIRES.inc()
            self._settle(fire.alert.id, 1)
            return None
        self._recent[key] = None
        if len(self._recent) > RECENT_KEYS:
            del self._recent[next(iter(self._recent))]
        now, tunables, kind = datetime.now(UTC), self.tunables, fire.kind.value
        trigger_id = new_id()
        event = alert_event(fire, trigger_id, now, tunables=tunables, context=self.context,
                            late_after=self.late_after)
        channels = tuple(c.value for c in fire.alert.spec.channels if wanted(c, kind, tunables, self.webhook_types))
        ws_at = None
        if Channel.WS.value in channels:
            try:
                await self.bus.publish(event)
            except Exception as exc:  # its outbox row stays pending: the delivery engine publishes it
                log.error("alerts.publish_failed", trigger_id=trigger_id, error=f"{type(exc).__name__}: {exc}")
            else:
                ws_at = datetime.now(UTC)
                elapsed = time.perf_counter_ns() - recv_ns
                ENGINE_LATENCY.observe(elapsed / 1e9)
                self.latency_ns.append(elapsed)
                self.published += 1
        item = Published(fire, trigger_id, event, now, channels, ws_at)
        self._ready.append(item)
        self._wake.set()
        if self.rationale is not None and ws_at is not None:
            self.rationale.request(event, item.wait_committed)
        return item

    def _settle(self, alert_id: str, fires: int) -> None:
        left = self._inflight[alert_id] - fires
        if left > 0:
            self._inflight[alert_id] = left
        else:
            self._inflight.pop(alert_id, None)

    # -- writer (group commit) ---------------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        delay = 0.1
        while True:
            if not self._ready:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), FLUSH_SEC)
            self._wake.clear()
            try:
                await self.commit()
                delay = 0.1
            except Exception as exc:  # the DB is away: everything is kept, retried
                log.error("alerts.write_failed", fires=len(self._ready), states=len(self._unsaved), error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def commit(self) -> list[Published]:
        """One group commit: every published fire and every state that may be written (see the module docstring)
        in one transaction; then wake the delivery workers and report expiries. Returns the fires written."""
        async with self.write_lock:
            self.index.expire_due(epoch_ms(datetime.now(UTC)))
            batch, self._ready = self._ready, []
            self._drain()
            in_batch = Counter(item.fire.alert.id for item in batch)
            states = [alert for alert in self._unsaved.values()
                      if self._inflight.get(alert.id, 0) <= in_batch.get(alert.id, 0)]
            if not batch and not states:
                return []
            now = datetime.now(UTC)
            try:
                try:
                    async with self.db.uow() as session:
                        written, outbox = await self._write(session, batch, states, now, check=False)
                except IntegrityError:  # a dedupe key written before: again, skipping those
                    async with self.db.uow() as session:
                        written, outbox = await self._write(session, batch, states, now, check=True)
            except BaseException:
                self._ready[:0] = batch
                raise
            self._saved(states, now)
        committed_at = datetime.now(UTC)
        for alert_id, fires in in_batch.items():
            self._settle(alert_id, fires)
        for item in batch:
            item.committed.set()
            COMMIT_LAG.observe((committed_at - item.triggered_at).total_seconds())
        for item in written:
            FIRES.labels(item.fire.kind.value).inc()
        if self.on_committed is not None and any(row["status"] == PENDING for row in outbox):
            self.on_committed()
        await self._report_expired([a for a in states if a.status is AlertStatus.EXPIRED])
        return written

    async def _write(self, session: AsyncSession, batch: list[Published], states: list[Alert], now: datetime, *,
                     check: bool) -> tuple[list[Published], list[dict[str, Any]]]:
        """The rows of one group commit. Fires published by this process are unique already (``_recent``), so
        the dedupe keys are only looked up (``check``) after the unique constraint refused a batch."""
        alerts, deliveries = AlertRepository(session), DeliveryRepository(session)
        seen = await alerts.existing_dedupe_keys([item.fire.dedupe_key for item in batch]) if check else set()
        written, triggers, outbox = [], [], []
        for item in batch:
            if item.fire.dedupe_key in seen:  # written before (a replay after a restart, a retried commit)
                DUPLICATE_FIRES.inc()
                continue
            seen.add(item.fire.dedupe_key)
            trigger, rows = item.rows()
            written.append(item)
            triggers.append(trigger)
            outbox += rows
        await alerts.add_triggers(triggers)
        await deliveries.add(outbox)
        await alerts.save_states(states, now)
        return written, outbox

    # -- states -----------------------------------------------------------------------------------------------

    def _drain(self) -> None:
        for alert in self.index.drain_changes():
            self._unsaved[alert.id] = alert

    async def _report_expired(self, expired: list[Alert]) -> None:
        """Each expiry once, after the commit that wrote it (an ``info`` `alert` event)."""
        for alert in expired:
            await self.bus.publish(AlertEvent(level="info", msg=f"{alert.spec.symbol} alert at {alert.spec.level} "
                                              "expired", meta=AlertMeta(kind="expired", alert_id=alert.id,
                                                                        symbol=alert.spec.symbol, actions=())))
        if expired:
            await self.sync_watch()

    def _saved(self, states: list[Alert], at: datetime) -> None:
        """Forget the persisted states (a newer one drained meanwhile stays for the next write)."""
        for alert in states:
            self._own_writes[alert.id] = at
            if self._unsaved.get(alert.id) is alert:
                del self._unsaved[alert.id]

    async def reconcile(self) -> int:
        """Apply alert writes made by another process (a separate API role): rows changed since the last call
        that this engine did not write itself. Returns how many alerts were applied."""
        now = datetime.now(UTC)
        since = (self._reconciled_at or now) - timedelta(seconds=2)  # overlap: commit order is not time order
        self._reconciled_at = now
        async with self.db.read() as session:
            rows = await AlertRepository(session).changed_since(since)
        applied = 0
        async with self.write_lock:
            for row in rows:
                if self._own_writes.get(row.id) == row.updated_at:
                    continue
                if row.status in LIVE:
                    alert = row_to_alert(row)
                    if self.index.get(row.id) != alert:
                        self.apply(alert)
                        applied += 1
                elif self.index.get(row.id) is not None:
                    self.forget(row.id)
                    applied += 1
        horizon = now - timedelta(minutes=5)
        self._own_writes = {k: v for k, v in self._own_writes.items() if v >= horizon}
        if applied:
            await self.sync_watch()
        return applied

    async def _reconcile_loop(self, every: float) -> None:
        await self.reconcile()
        while True:
            await asyncio.sleep(every)
            try:
                await self.reconcile()
            except Exception as exc:
                log.error("alerts.reconcile_failed", error=str(exc))
