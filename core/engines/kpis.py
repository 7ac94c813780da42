"""The KPI monitor: reads the seed KPIs from this process's Prometheus metrics (what `/metrics` exports), over a
sliding window, and publishes a `health` event when one enters or leaves breach of its goal.

Every `interval` (the heartbeat's, RISK_EVAL_SEC) it also counts the market data stream's up/down seconds in
market hours (``tradeassist_market_feed_seconds_total``, the uptime KPI) and refreshes the per-symbol staleness
gauge. The metrics are per process: in a split deployment the API process measures requests and plans, the
engine process the feed and alert delivery; a KPI a process does not measure reads ``no_data`` there.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter
from prometheus_client.metrics import MetricWrapperBase

from core.domain.events import HealthEvent
from core.domain.kpis import (
    ALERT_DELIVERY,
    API_ERROR_RATE,
    PLAN_COMPUTE,
    QUOTE_LATENCY,
    WS_UPTIME,
    Bucket,
    Kpi,
    breach_changes,
    breach_message,
    judge,
    quantile,
    ratio_pct,
    window,
)
from core.domain.market_views import FeedStatus
from core.engines.alerts import ENGINE_LATENCY
from core.engines.delivery import DELIVERY_LATENCY
from core.engines.stream import ENGINE_LAG, FEED_LAG
from core.metrics import REQUEST_ERRORS, REQUEST_LATENCY
from core.ports import EventBus
from core.services.market import Freshness, MarketService
from core.services.plans import PLAN_COMPUTE as PLAN_SECONDS
from core.settings import IntegrationStatus

log = structlog.get_logger("engine.kpis")

FEED_SECONDS = Counter("tradeassist_market_feed_seconds", "Market-hours seconds of the market data stream",
                       ["state"])
WINDOW_SEC = 900.0
P95 = 0.95
Labels = tuple[tuple[str, str], ...]
Histograms = dict[Labels, list[Bucket]]


def read_histogram(metric: MetricWrapperBase) -> Histograms:
    """Buckets per label set, ``le`` ascending (``+Inf`` last)."""
    found: Histograms = {}
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                found.setdefault(labels, []).append((float(sample.labels["le"]), sample.value))
    return {labels: sorted(buckets) for labels, buckets in found.items()}


def read_counter(metric: MetricWrapperBase) -> dict[Labels, float]:
    return {tuple(sorted(sample.labels.items())): sample.value
            for family in metric.collect() for sample in family.samples if sample.name.endswith("_total")}


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at every metric a KPI is computed from."""

    feed_lag: Histograms
    price_lag: Histograms
    alert_ws: Histograms
    delivery: Histograms
    plan: Histograms
    requests: Histograms
    errors: dict[Labels, float]
    feed_seconds: dict[Labels, float]

    @classmethod
    def now(cls) -> Reading:
        return cls(read_histogram(FEED_LAG), read_histogram(ENGINE_LAG), read_histogram(ENGINE_LATENCY),
                   read_histogram(DELIVERY_LATENCY), read_histogram(PLAN_SECONDS), read_histogram(REQUEST_LATENCY),
                   read_counter(REQUEST_ERRORS), read_counter(FEED_SECONDS))


@dataclass(frozen=True, slots=True)
class KpiReport:
    kpis: list[Kpi]
    freshness: list[Freshness]
    integrations: list[IntegrationStatus]


def _p95_ms(now: Histograms, before: Histograms, labels: Labels = ()) -> float | None:
    buckets = now.get(labels)
    if buckets is None:
        return None
    value = quantile(window(buckets, before.get(labels)), P95)
    return None if value is None else value * 1000


def _count(now: Histograms, before: Histograms) -> float:
    """Observations in the window over every label set (the ``+Inf`` bucket is the count)."""
    return sum(window(b, before.get(labels))[-1][1] for labels, b in now.items())


def _server_error(labels: Labels) -> bool:
    """A 5xx that is not a disabled integration saying how to enable itself (that answer is by design)."""
    found = dict(labels)
    return found.get("status", "")[:1] == "5" and found.get("code") != "integration_disabled"


def _sum(now: dict[Labels, float], before: dict[Labels, float], keep: Callable[[Labels], bool]) -> float:
    return sum(value - before.get(labels, 0.0) for labels, value in now.items() if keep(labels))


def compute(now: Reading, before: Reading, minutes: int) -> list[Kpi]:
    """The seed KPIs over the observations between the ``before`` and ``now`` readings."""
    span = f"last {minutes} min"
    up = _sum(now.feed_seconds, before.feed_seconds, lambda labels: ("state", "up") in labels)
    down = _sum(now.feed_seconds, before.feed_seconds, lambda labels: ("state", "down") in labels)
    feed = _p95_ms(now.feed_lag, before.feed_lag)
    engine = _p95_ms(now.price_lag, before.price_lag)
    quote = None if feed is None else feed + (engine or 0.0)
    kpis = [
        judge(WS_UPTIME, ratio_pct(up, up + down), f"streaming {up:.0f} s of {up + down:.0f} market-hours s, {span}"),
        judge(QUOTE_LATENCY, quote, f"exchange time to price event: feed lag p95 + engine p95, {span}"),
        judge(ALERT_DELIVERY, _p95_ms(now.alert_ws, before.alert_ws),
              f"tick received to `alert` published on /ws, {span}", channel="ws"),
    ]
    for labels in sorted(now.delivery):
        channel = dict(labels).get("channel", "")
        if channel != "ws":  # /ws is published by the engine itself (above); its outbox retries are rare
            kpis.append(judge(ALERT_DELIVERY, _p95_ms(now.delivery, before.delivery, labels),
                              f"trigger written to delivered, {span}", channel=channel))
    kpis.append(judge(PLAN_COMPUTE, _p95_ms(now.plan, before.plan),
                      f"a plan validated, request to result, {span}"))
    requests = _count(now.requests, before.requests)
    failed = _sum(now.errors, before.errors, _server_error)
    kpis.append(judge(API_ERROR_RATE, ratio_pct(failed, requests),
                      f"{failed:.0f} server errors (5xx) in {requests:.0f} API requests, {span}"))
    return kpis


@dataclass(slots=True, eq=False)
class KpiMonitor:
    bus: EventBus
    market: MarketService
    integrations: Callable[[], dict[str, IntegrationStatus]]
    interval: float = 5.0
    window_sec: float = WINDOW_SEC
    clock: Callable[[], float] = time.monotonic
    _readings: deque[tuple[float, Reading]] = field(default_factory=deque)
    _breached: dict[str, bool] = field(default_factory=dict)
    _last_step: float = 0.0

    def __post_init__(self) -> None:
        self._last_step = self.clock()
        self._readings.append((self._last_step, Reading.now()))  # the window starts with the monitor

    def report(self) -> KpiReport:
        """The KPIs over the window (since the monitor started, until it has run a whole window), each watched
        symbol's freshness and the integrations (credentials only, never a secret)."""
        kpis = compute(Reading.now(), self._readings[0][1], round(self.window_sec / 60))
        return KpiReport(kpis, self.market.freshness(), list(self.integrations().values()))

    def step(self) -> list[HealthEvent]:
        """Count the feed's up/down time, keep this reading, and the `health` events of what changed."""
        now = self.clock()
        self._count_feed(now)
        kpis = self.report().kpis
        self._readings.append((now, Reading.now()))
        while len(self._readings) > 1 and self._readings[1][0] <= now - self.window_sec:
            self._readings.popleft()
        events = []
        for kpi in breach_changes(self._breached, kpis):
            self._breached[kpi.key] = kpi.status == "breach"
            events.append(HealthEvent(kpi=kpi.name, status="breach" if kpi.status == "breach" else "ok",
                                      value=kpi.value, goal=kpi.goal, msg=breach_message(kpi), channel=kpi.channel))
        return events

    def _count_feed(self, now: float) -> None:
        elapsed, self._last_step = now - self._last_step, now
        feed = self.market.status().feed
        if elapsed > 0 and isinstance(feed, FeedStatus) and feed.state != "rest_only" and self.market.market_open():
            FEED_SECONDS.labels(state="up" if feed.state == "streaming" else "down").inc(elapsed)

    async def run(self) -> None:
        while True:
            try:
                for event in self.step():
                    log.warning("kpi.changed", kpi=event.kpi, status=event.status, msg=event.msg)
                    await self.bus.publish(event)
            except Exception as exc:  # a metric read or a publish failed: the next round tries again
                log.error("kpis.step_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.interval)
