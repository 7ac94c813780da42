"""The alert engine: the in-memory `AlertIndex` fed by the price stream and the poller, and the trigger writer.

Hot path (`on_tick`, a `StreamEngine` tick hook): ``index.on_tick`` and, on a fire, ``put_nowait`` of the fire
and its receive time on a queue. Nothing else, never an await.

Writer task: takes every queued fire in one batch and, in ONE transaction, inserts each `alert_triggers` row
(unique dedupe key: a key already there means the fire was handled before, e.g. replayed after a restart, and
is skipped), persists the alerts' latest states (``index.drain_changes()``) and writes one `alert_deliveries`
outbox row per channel of the alert that wants that kind (Tunables.alert_types, DISCORD_WEBHOOK_ALERT_TYPES).
After the commit it publishes the `alert` event (this *is* the ``ws`` delivery: its outbox row is written
already claimed by the writer and marked delivered right after the publish; if the process dies in between, the
lease runs out and the delivery engine publishes it after the restart) and wakes the delivery workers.

Flusher task: persists state changes without a fire (re-arms, snooze wake-ups, expiries) in batches, off the
hot path, and reports each expiry once (an ``info`` `alert` event).

Poller task (every ALERT_POLL_SEC): ``minute``/``day`` alerts from completed Polygon aggregates (``on_bar`` on
the close), ``tick`` alerts of symbols the stream has no fresh data for (``on_tick`` with each new minute bar's
high/low, so a spike between polls still fires), and expiry (``expire_due``). Only bars that closed after the
symbol was first polled count: an old close never fires a new alert.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

import structlog
from prometheus_client import Counter, Histogram

from core.db.base import new_id
from core.db.repositories.alerts import LIVE, PENDING, SENDING, AlertRepository, DeliveryRepository, row_to_alert
from core.db.session import Database
from core.domain.actions import ActionContext, Sizer, actions_json, next_actions
from core.domain.alerts import Alert, AlertStatus, Channel, Fired, FireKind, Timeframe, describe
from core.domain.events import AlertEvent
from core.domain.market import Bar, epoch_ms
from core.domain.orders import Position
from core.domain.risk import RiskLimits, TradingStatus
from core.domain.sizing import suggest_size
from core.engines.alert_index import AlertIndex
from core.errors import CoreError
from core.ports import EventBus
from core.services.market import MarketService
from core.services.settings import ALERT_TYPES, SettingsService, Tunables

log = structlog.get_logger("engine.alerts")

ENGINE_LATENCY = Histogram("alert_engine_latency_seconds", "Tick received to `alert` published",
                           buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1))
FIRES = Counter("alert_fires_total", "Alert fires written as triggers", ["kind"])
DUPLICATE_FIRES = Counter("alert_fires_duplicate_total", "Fires skipped because their trigger already existed")

WS_LEASE = timedelta(seconds=30)
FLUSH_SEC = 0.25
BATCH = 256
DAY_CLOSE_AFTER = timedelta(hours=16)  # Polygon day bars start at 00:00 New York; the session closes at 16:00
Level = Literal["info", "warning", "critical"]
LEVELS: dict[FireKind, Level] = {FireKind.CROSSED: "warning", FireKind.APPROACHING: "info"}


class TradingContext(Protocol):
    """What next-best-action chips depend on, read synchronously from caches (never a broker call per alert)."""

    @property
    def broker_configured(self) -> bool: ...

    def position(self, symbol: str) -> Position | None: ...

    def equity(self) -> tuple[Decimal, Decimal | None] | None:
        """(equity, buying power) when known."""
        ...

    def risk_status(self) -> TradingStatus: ...


@dataclass(frozen=True, slots=True)
class NoTrading:
    """No broker data: no position, equity unknown (chips carry plans), risk ACTIVE."""

    broker_configured: bool = False

    def position(self, symbol: str) -> Position | None:
        return None

    def equity(self) -> tuple[Decimal, Decimal | None] | None:
        return None

    def risk_status(self) -> TradingStatus:
        return TradingStatus.ACTIVE


class RiskCacheContext:
    """A `TradingContext` over the risk service's latest account snapshot and state (cached, no I/O)."""

    def __init__(self, risk: Any) -> None:
        self.risk = risk

    @property
    def broker_configured(self) -> bool:
        return bool(getattr(self.risk, "enabled", False))

    def position(self, symbol: str) -> Position | None:
        account = getattr(self.risk, "account", None)
        for position in getattr(account, "positions", ()):
            if position.symbol == symbol and position.quantity:
                return position  # type: ignore[no-any-return]
        return None

    def equity(self) -> tuple[Decimal, Decimal | None] | None:
        balances = getattr(getattr(self.risk, "account", None), "balances", None)
        if balances is None:
            return None
        return balances.equity, balances.buying_power

    def risk_status(self) -> TradingStatus:
        latest = getattr(self.risk, "latest", None)
        return latest.status if latest is not None else TradingStatus.ACTIVE


def wanted(channel: Channel, kind: str, tunables: Tunables, webhook_types: Sequence[str]) -> bool:
    """Whether ``channel`` takes fires of ``kind`` (per-channel routing; the webhook's env filter on top)."""
    if kind not in tunables.alert_types.get(channel.value, list(ALERT_TYPES)):
        return False
    return not (channel is Channel.DISCORD_WEBHOOK and webhook_types and kind not in webhook_types)


class AlertEngine:
    def __init__(self, db: Database, bus: EventBus, market: MarketService, settings: SettingsService, *,
                 poll_sec: float, webhook_types: Sequence[str] = (), context: TradingContext | None = None,
                 on_committed: Callable[[], None] | None = None) -> None:
        self.db, self.bus, self.market, self.settings = db, bus, market, settings
        self.poll_sec = poll_sec
        self.webhook_types = tuple(webhook_types)
        self.context: TradingContext = context or NoTrading()
        self.on_committed = on_committed
        self.index = AlertIndex()
        self.write_lock = asyncio.Lock()
        self.tunables = Tunables()
        self.late_after = timedelta(seconds=max(60.0, 2 * poll_sec))
        self._queue: asyncio.Queue[tuple[Fired, int]] = asyncio.Queue()
        self._unsaved: dict[str, Alert] = {}
        self._watermarks: dict[tuple[Timeframe, str], int] = {}
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
        """Writer, flusher and poller (and, when the API runs in another process, the reconciler)."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._write_loop())
                group.create_task(self._flush_loop())
                group.create_task(self._poll_loop())
                if reconcile_sec is not None:
                    group.create_task(self._reconcile_loop(reconcile_sec))
        finally:
            if self._started:
                self.market.engine.remove_tick_hook(self.on_tick)
                self._started = False

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

    def on_tick(self, symbol: str, price: float, high: float, low: float, ts_ms: int) -> None:
        fired = self.index.on_tick(symbol, price, high, low, ts_ms)
        if fired:
            now = time.perf_counter_ns()
            for fire in fired:
                self._queue.put_nowait((fire, now))

    def _enqueue(self, fired: Sequence[Fired]) -> None:
        now = time.perf_counter_ns()
        for fire in fired:
            self._queue.put_nowait((fire, now))

    # -- writer ------------------------------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        delay = 0.1
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            while True:
                try:
                    await self.handle(batch)
                    delay = 0.1
                    break
                except (OSError, CoreError, Exception) as exc:  # the DB is away: keep the fires, retry
                    log.error("alerts.write_failed", fires=len(batch), error=str(exc))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def handle(self, batch: Sequence[tuple[Fired, int]]) -> list[AlertEvent]:
        """Write the triggers of ``batch`` in one transaction, then publish; returns the published events."""
        now = datetime.now(UTC)
        tunables = self.tunables
        published: list[tuple[AlertEvent, int, str | None]] = []
        triggers: list[dict[str, Any]] = []
        outbox_rows: list[dict[str, Any]] = []
        async with self.write_lock, self.db.uow() as session:
            alerts, outbox = AlertRepository(session), DeliveryRepository(session)
            self._drain()
            seen = await alerts.existing_dedupe_keys([fire.dedupe_key for fire, _ in batch])
            for fire, recv_ns in batch:
                if fire.dedupe_key in seen:  # handled before (a replay, a retried batch)
                    DUPLICATE_FIRES.inc()
                    continue
                seen.add(fire.dedupe_key)
                trigger_id = new_id()
                event = self._event(fire, trigger_id, now, tunables)
                assert event.meta is not None
                triggers.append({"id": trigger_id, "alert_id": fire.alert.id, "dedupe_key": fire.dedupe_key,
                                 "kind": fire.kind.value, "price": fire.price, "late": event.meta["late"],
                                 "payload": {"level": event.level, "msg": event.msg, "meta": event.meta},
                                 "triggered_at": now})
                ws_row = None
                for channel in fire.alert.spec.channels:
                    if not wanted(channel, fire.kind.value, tunables, self.webhook_types):
                        continue
                    row: dict[str, Any] = {"id": new_id(), "trigger_id": trigger_id, "channel": channel.value,
                                           "status": PENDING, "attempts": 0, "next_attempt_at": now,
                                           "last_error": None, "delivered_at": None, "latency_ms": None,
                                           "created_at": now}
                    if channel is Channel.WS:  # claimed by this writer: published right after the commit
                        row.update(status=SENDING, attempts=1, next_attempt_at=now + WS_LEASE)
                        ws_row = row["id"]
                    outbox_rows.append(row)
                published.append((event, recv_ns, ws_row))
            await alerts.add_triggers(triggers)
            await outbox.add(outbox_rows)
            states = list(self._unsaved.values())
            await alerts.save_states(states, now)
        self._saved(states, now)
        for trigger in triggers:
            FIRES.labels(trigger["kind"]).inc()
        if self.on_committed is not None and outbox_rows:
            self.on_committed()
        delivered: list[str] = []
        for event, recv_ns, ws_row in published:
            if ws_row is None:
                continue
            await self.bus.publish(event)
            elapsed = time.perf_counter_ns() - recv_ns
            ENGINE_LATENCY.observe(elapsed / 1e9)
            self.latency_ns.append(elapsed)
            self.published += 1
            delivered.append(ws_row)
        if delivered:
            await self._mark_ws_delivered(delivered, now)
        return [event for event, _, _ in published]

    async def _mark_ws_delivered(self, ids: list[str], triggered_at: datetime) -> None:
        at = datetime.now(UTC)
        latency = (at - triggered_at).total_seconds() * 1000
        try:
            async with self.db.uow() as session:
                await DeliveryRepository(session).delivered(ids, at, latency)
        except Exception as exc:  # the lease runs out and the delivery engine publishes again: at-least-once
            log.error("alerts.ws_mark_failed", rows=len(ids), error=str(exc))

    def _event(self, fire: Fired, trigger_id: str, now: datetime, tunables: Tunables) -> AlertEvent:
        spec = fire.alert.spec
        actions = next_actions(fire, self._action_context(spec.symbol, tunables))
        meta = {"alert_id": fire.alert.id, "trigger_id": trigger_id, "symbol": spec.symbol,
                "price": str(fire.price), "level": str(spec.level), "condition": spec.condition.value,
                "kind": fire.kind.value, "timeframe": spec.timeframe.value, "late": now - fire.ts > self.late_after,
                "fired_at": fire.ts.isoformat(), "note": spec.note, "actions": actions_json(actions)}
        return AlertEvent(level=LEVELS[fire.kind], msg=describe(fire), meta=meta)

    def _action_context(self, symbol: str, tunables: Tunables) -> ActionContext:
        ctx = self.context
        money = ctx.equity()
        size: Sizer | None = None
        if money is not None:
            equity, buying_power = money
            limits = RiskLimits(**tunables.risk.model_dump(), default_rr=tunables.default_rr)

            def size(entry: Decimal, stop: Decimal) -> Decimal:
                result = suggest_size(entry=entry, stop=stop, limits=limits, equity=equity,
                                      buying_power=buying_power, symbol=symbol)
                return Decimal(result.sizing.quantity) if result.sizing is not None else Decimal(0)

        return ActionContext(position=ctx.position(symbol), risk_status=ctx.risk_status(),
                             broker_configured=ctx.broker_configured, size=size)

    # -- flusher -----------------------------------------------------------------------------------------------

    def _drain(self) -> list[Alert]:
        changed = self.index.drain_changes()
        for alert in changed:
            self._unsaved[alert.id] = alert
        return changed

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SEC)
            try:
                await self.flush()
            except Exception as exc:  # kept in _unsaved, retried next round
                log.error("alerts.flush_failed", pending=len(self._unsaved), error=str(exc))

    async def flush(self) -> None:
        """Persist state changes without a fire, and report each expiry once."""
        self.index.expire_due(epoch_ms(datetime.now(UTC)))
        expired = [alert for alert in self._drain() if alert.status is AlertStatus.EXPIRED]
        if not self._unsaved:
            return
        now = datetime.now(UTC)
        async with self.write_lock, self.db.uow() as session:
            states = list(self._unsaved.values())
            await AlertRepository(session).save_states(states, now)
        self._saved(states, now)
        for alert in expired:
            await self.bus.publish(AlertEvent(level="info", msg=f"{alert.spec.symbol} alert at {alert.spec.level} "
                                              "expired", meta={"alert_id": alert.id, "symbol": alert.spec.symbol,
                                                               "kind": "expired", "actions": []}))
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

    # -- poller ------------------------------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception as exc:
                log.error("alerts.poll_failed", error=str(exc))
            await asyncio.sleep(self.poll_sec)

    async def poll_once(self) -> int:
        """One poller round; returns the number of fires it queued."""
        now = datetime.now(UTC)
        now_ms = epoch_ms(now)
        self.index.expire_due(now_ms)
        if self.market.status().get("enabled") is False:
            return 0
        fires = 0
        engine = self.market.engine
        for symbol in sorted(self.index.symbols(Timeframe.TICK)):
            state = engine.state(symbol)
            if state is not None and not engine.is_stale(state, now_ms):
                continue
            for bar, end_ms in await self._new_bars(Timeframe.TICK, symbol, now_ms):
                fired = self.index.on_tick(symbol, float(bar.close), float(bar.high), float(bar.low), end_ms)
                self._enqueue(fired)
                fires += len(fired)
        for timeframe in (Timeframe.MINUTE, Timeframe.DAY):
            for symbol in sorted(self.index.symbols(timeframe)):
                for bar, end_ms in await self._new_bars(timeframe, symbol, now_ms):
                    fired = self.index.on_bar(symbol, timeframe, float(bar.close), end_ms)
                    self._enqueue(fired)
                    fires += len(fired)
        return fires

    async def _new_bars(self, timeframe: Timeframe, symbol: str, now_ms: int) -> Iterable[tuple[Bar, int]]:
        """Completed bars (with their close time) that closed after the last one seen for this symbol/timeframe."""
        key = (timeframe, symbol)
        watermark = self._watermarks.setdefault(key, now_ms - int(self.poll_sec * 1000))
        span = "day" if timeframe is Timeframe.DAY else "minute"
        try:
            bars = await self.market.bars(symbol, timespan=span, limit=3)
        except CoreError as exc:
            log.warning("alerts.poll_bars_failed", symbol=symbol, timespan=span, error=exc.message)
            return []
        length = DAY_CLOSE_AFTER if timeframe is Timeframe.DAY else timedelta(minutes=1)
        fresh = []
        for bar in bars:
            end_ms = epoch_ms(bar.start + length)
            if watermark < end_ms <= now_ms:
                fresh.append((bar, end_ms))
        if fresh:
            self._watermarks[key] = max(end for _, end in fresh)
        return fresh
