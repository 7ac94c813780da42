"""The KPI monitor: reads the seed KPIs from this process's Prometheus metrics (what `/metrics` exports) and from
the other processes' windows, over a sliding window, and publishes a `health` event when one enters or leaves
breach of its goal.

Every `interval` (the heartbeat's, RISK_EVAL_SEC) it also counts the market data stream's up/down seconds in
market hours (``tradeassist_market_feed_seconds_total``, the uptime KPI) and refreshes the per-symbol staleness
gauge. In a deployment of several processes (a shared event bus) each one publishes its window as a `metrics`
event every interval and adds up the latest window of every process it heard from recently, so the API reports
the feed and delivery KPIs the engine measures; only one process announces breaches (``announce``: the engine's).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter
from prometheus_client.metrics import MetricWrapperBase

from core.domain.events import HealthEvent, MetricsEvent, pack_reading, unpack_reading
from core.domain.kpis import Counters, Histograms, Kpi, Reading, breach_changes, breach_message, compute
from core.domain.market_views import FeedStatus, Freshness
from core.engines.alerts import ENGINE_LATENCY
from core.engines.delivery import DELIVERY_LATENCY
from core.engines.stream import ENGINE_LAG, FEED_LAG
from core.metrics import REQUEST_ERRORS, REQUEST_LATENCY
from core.ports import EventBus
from core.services.market import MarketService
from core.services.plans import PLAN_COMPUTE as PLAN_SECONDS
from core.settings import IntegrationStatus

log = structlog.get_logger("engine.kpis")

FEED_SECONDS = Counter("tradeassist_market_feed_seconds", "Market-hours seconds of the market data stream",
                       ["state"])
WINDOW_SEC = 900.0
PEER_SILENT_AFTER = 3  # intervals without a `metrics` event after which a process's window no longer counts


def read_histogram(metric: MetricWrapperBase) -> Histograms:
    """Buckets per label set, ``le`` ascending (``+Inf`` last)."""
    found: Histograms = {}
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                found.setdefault(labels, []).append((float(sample.labels["le"]), sample.value))
    return {labels: sorted(buckets) for labels, buckets in found.items()}


def read_counter(metric: MetricWrapperBase) -> Counters:
    return {tuple(sorted(sample.labels.items())): sample.value
            for family in metric.collect() for sample in family.samples if sample.name.endswith("_total")}


def read_metrics() -> Reading:
    """This process's metrics now, cumulative since it started."""
    return Reading(read_histogram(FEED_LAG), read_histogram(ENGINE_LAG), read_histogram(ENGINE_LATENCY),
                   read_histogram(DELIVERY_LATENCY), read_histogram(PLAN_SECONDS), read_histogram(REQUEST_LATENCY),
                   read_counter(REQUEST_ERRORS), read_counter(FEED_SECONDS))


@dataclass(frozen=True, slots=True)
class KpiReport:
    kpis: list[Kpi]
    freshness: list[Freshness]
    integrations: list[IntegrationStatus]


@dataclass(frozen=True, slots=True)
class Peer:
    """The latest `metrics` event of another process, and when it arrived."""

    heard_at: float
    window: Reading
    freshness: list[Freshness] | None


@dataclass(slots=True, eq=False)
class KpiMonitor:
    """``shared``: other processes use the same event bus (publish this window, add up theirs); ``announce``:
    this process publishes the `health` events (one process of a deployment does)."""

    bus: EventBus
    market: MarketService
    integrations: Callable[[], dict[str, IntegrationStatus]]
    interval: float = 5.0
    window_sec: float = WINDOW_SEC
    clock: Callable[[], float] = time.monotonic
    process: str = "this"
    roles: Collection[str] = ()
    shared: bool = False
    announce: bool = True
    _readings: deque[tuple[float, Reading]] = field(default_factory=deque)
    _breached: dict[str, bool] = field(default_factory=dict)
    _peers: dict[str, Peer] = field(default_factory=dict)
    _last_step: float = 0.0

    def __post_init__(self) -> None:
        self._last_step = self.clock()
        self._readings.append((self._last_step, read_metrics()))  # the window starts with the monitor

    def window(self, now: Reading | None = None) -> Reading:
        """What this process observed over the window (since the monitor started, until it has run a whole one),
        up to ``now`` (a reading just taken) or to this moment."""
        return (now or read_metrics()).since(self._readings[0][1])

    def report(self, now: Reading | None = None) -> KpiReport:
        """The KPIs over the window of every process heard from, each watched symbol's freshness and the
        integrations (credentials only, never a secret)."""
        observed = self.window(now)
        for peer in self._live_peers():
            observed = observed.plus(peer.window)
        kpis = compute(observed, round(self.window_sec / 60))
        return KpiReport(kpis, self.freshness(), list(self.integrations().values()))

    def freshness(self) -> list[Freshness]:
        """From the process that runs the market data stream: this one, or one heard from."""
        if not self._runs_feed():
            for peer in self._live_peers():
                if peer.freshness is not None:
                    return peer.freshness
        return self.market.freshness()

    def hear(self, event: MetricsEvent) -> None:
        """Keep another process's latest window (a process also receives its own events on a shared bus)."""
        if event.process != self.process:
            self._peers[event.process] = Peer(self.clock(), unpack_reading(event.reading), event.freshness)

    def metrics_event(self) -> MetricsEvent:
        return MetricsEvent(self.process, sorted(self.roles), pack_reading(self.window()),
                            self.market.freshness() if self._runs_feed() else None)

    def step(self) -> list[HealthEvent]:
        """Count the feed's up/down time, keep this reading, and the `health` events of what changed."""
        now = self.clock()
        self._count_feed(now)
        reading = read_metrics()
        kpis = self.report(reading).kpis
        self._readings.append((now, reading))
        while len(self._readings) > 1 and self._readings[1][0] <= now - self.window_sec:
            self._readings.popleft()
        self._peers = {process: peer for process, peer in self._peers.items() if self._is_live(peer)}
        if not self.announce:
            return []
        events = []
        for kpi in breach_changes(self._breached, kpis):
            self._breached[kpi.key] = kpi.status == "breach"
            events.append(HealthEvent(kpi=kpi.name, status="breach" if kpi.status == "breach" else "ok",
                                      value=kpi.value, goal=kpi.goal, msg=breach_message(kpi), channel=kpi.channel))
        return events

    def _is_live(self, peer: Peer) -> bool:
        return self.clock() - peer.heard_at <= PEER_SILENT_AFTER * self.interval

    def _live_peers(self) -> list[Peer]:
        return [peer for peer in self._peers.values() if self._is_live(peer)]

    def _runs_feed(self) -> bool:
        return _stream_status(self.market) is not None

    def _count_feed(self, now: float) -> None:
        elapsed, self._last_step = now - self._last_step, now
        feed = _stream_status(self.market)
        if elapsed > 0 and feed is not None and self.market.market_open():
            FEED_SECONDS.labels(state="up" if feed.state == "streaming" else "down").inc(elapsed)

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen(), name="kpis-listen") if self.shared else None
        try:
            while True:
                try:
                    if self.shared:
                        await self.bus.publish(self.metrics_event())
                    for event in self.step():
                        log.warning("kpi.changed", kpi=event.kpi, status=event.status, msg=event.msg)
                        await self.bus.publish(event)
                except Exception as exc:  # a metric read or a publish failed: the next round tries again
                    log.error("kpis.step_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self.interval)
        finally:
            if listener is not None:
                listener.cancel()

    async def _listen(self) -> None:
        subscription = self.bus.subscribe(["metrics"], name="kpis")
        try:
            async for event in subscription:
                if isinstance(event, MetricsEvent):
                    self.hear(event)
        finally:
            await subscription.close()


def _stream_status(market: MarketService) -> FeedStatus | None:
    """The market data stream's state, None when this process runs none (disabled, or REST only)."""
    feed = market.status().feed
    return feed if isinstance(feed, FeedStatus) and feed.state != "rest_only" else None
