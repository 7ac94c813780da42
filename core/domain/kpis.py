"""The seed KPIs judged against their goals: percentiles from Prometheus histogram buckets, ratios from counters,
and which KPIs entered or left breach since the last look.

A histogram is a list of ``(upper bound, cumulative count)`` buckets ending at ``+Inf``, as Prometheus keeps it;
a window is the difference of two readings of the same histogram, so a KPI says how the last minutes went,
not the whole life of the process. Windows of several processes add up (the sum of their buckets), which is
how one process reports the KPIs another one measures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

Bucket = tuple[float, float]
Labels = tuple[tuple[str, str], ...]
Histograms = dict[Labels, list[Bucket]]
Counters = dict[Labels, float]
Unit = Literal["%", "ms", "s"]
Status = Literal["ok", "breach", "no_data"]
KpiName = Literal["ws_uptime", "quote_latency_p95", "alert_delivery_p95", "plan_compute_p95", "api_error_rate"]


@dataclass(frozen=True, slots=True)
class Goal:
    """A KPI's target: ``value >= goal`` when ``higher_is_better`` (uptime), else ``value <= goal``."""

    name: KpiName
    label: str
    unit: Unit
    goal: float
    higher_is_better: bool = False


WS_UPTIME = Goal("ws_uptime", "Market data stream uptime", "%", 99.0, higher_is_better=True)
QUOTE_LATENCY = Goal("quote_latency_p95", "Quote latency p95", "ms", 1500.0)
ALERT_DELIVERY = Goal("alert_delivery_p95", "Alert delivery p95", "ms", 3000.0)
PLAN_COMPUTE = Goal("plan_compute_p95", "Plan compute p95", "ms", 800.0)
API_ERROR_RATE = Goal("api_error_rate", "API error rate", "%", 1.0)


@dataclass(frozen=True, slots=True)
class Kpi:
    name: KpiName
    label: str
    value: float | None
    unit: Unit
    goal: float
    status: Status
    detail: str
    channel: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name}:{self.channel}" if self.channel else self.name


def quantile(buckets: Sequence[Bucket], q: float) -> float | None:
    """The ``q`` quantile (0-1) of a histogram, interpolated linearly inside its bucket like Prometheus'
    ``histogram_quantile``; past the last finite bound it is that bound. None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    below_bound, below_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank and count > below_count:
            if math.isinf(bound):
                return below_bound
            return below_bound + (bound - below_bound) * (rank - below_count) / (count - below_count)
        below_bound, below_count = bound, count
    return below_bound


def window(now: Sequence[Bucket], before: Sequence[Bucket] | None) -> list[Bucket]:
    """The observations between two readings of one histogram (all of ``now`` without an earlier reading)."""
    if before is None:
        return list(now)
    return [(bound, count - old) for (bound, count), (_, old) in zip(now, before, strict=True)]


def ratio_pct(part: float, whole: float) -> float | None:
    return None if whole <= 0 else 100.0 * part / whole


@dataclass(frozen=True, slots=True)
class Reading:
    """Every metric a KPI is computed from, per label set: one process's cumulative values, the window between
    two of its readings (``since``), or several processes' windows together (``plus``)."""

    feed_lag: Histograms
    price_lag: Histograms
    alert_ws: Histograms
    delivery: Histograms
    plan: Histograms
    requests: Histograms
    errors: Counters
    feed_seconds: Counters

    @classmethod
    def empty(cls) -> Reading:
        return cls({}, {}, {}, {}, {}, {}, {}, {})

    def since(self, before: Reading) -> Reading:
        """What this process observed after ``before``, an earlier reading of it."""
        return self._combine(before, _histograms_since, _counters_since)

    def plus(self, other: Reading) -> Reading:
        """Two processes' windows as one (a label set either measured is kept; one both measured is summed)."""
        return self._combine(other, _histograms_plus, _counters_plus)

    def _combine(self, other: Reading, histograms: Callable[[Histograms, Histograms], Histograms],
                 counters: Callable[[Counters, Counters], Counters]) -> Reading:
        h, c = histograms, counters
        return Reading(h(self.feed_lag, other.feed_lag), h(self.price_lag, other.price_lag),
                       h(self.alert_ws, other.alert_ws), h(self.delivery, other.delivery),
                       h(self.plan, other.plan), h(self.requests, other.requests),
                       c(self.errors, other.errors), c(self.feed_seconds, other.feed_seconds))


def _histograms_since(now: Histograms, before: Histograms) -> Histograms:
    return {labels: window(buckets, before.get(labels)) for labels, buckets in now.items()}


def _counters_since(now: Counters, before: Counters) -> Counters:
    return {labels: value - before.get(labels, 0.0) for labels, value in now.items()}


def _histograms_plus(one: Histograms, other: Histograms) -> Histograms:
    summed = dict(one)
    for labels, buckets in other.items():
        mine = summed.get(labels)
        summed[labels] = buckets if mine is None else [
            (bound, count + more) for (bound, count), (_, more) in zip(mine, buckets, strict=True)]
    return summed


def _counters_plus(one: Counters, other: Counters) -> Counters:
    summed = dict(one)
    for labels, value in other.items():
        summed[labels] = summed.get(labels, 0.0) + value
    return summed


def _p95_ms(histograms: Histograms, labels: Labels = ()) -> float | None:
    buckets = histograms.get(labels)
    value = None if buckets is None else quantile(buckets, 0.95)
    return None if value is None else value * 1000


def _observations(histograms: Histograms) -> float:
    """Observations over every label set (the ``+Inf`` bucket is the count)."""
    return sum(buckets[-1][1] for buckets in histograms.values())


def _total(counters: Counters, keep: Callable[[Labels], bool]) -> float:
    return sum(value for labels, value in counters.items() if keep(labels))


def _server_error(labels: Labels) -> bool:
    """A 5xx that is not a disabled integration saying how to enable itself (that answer is by design)."""
    found = dict(labels)
    return found.get("status", "")[:1] == "5" and found.get("code") != "integration_disabled"


def compute(observed: Reading, minutes: int) -> list[Kpi]:
    """The seed KPIs over ``observed``, a window of the last ``minutes``."""
    span = f"last {minutes} min"
    up = _total(observed.feed_seconds, lambda labels: ("state", "up") in labels)
    down = _total(observed.feed_seconds, lambda labels: ("state", "down") in labels)
    feed = _p95_ms(observed.feed_lag)
    engine = _p95_ms(observed.price_lag)
    quote = None if feed is None else feed + (engine or 0.0)
    kpis = [
        judge(WS_UPTIME, ratio_pct(up, up + down), f"streaming {up:.0f} s of {up + down:.0f} market-hours s, {span}"),
        judge(QUOTE_LATENCY, quote, f"exchange time to price event: feed lag p95 + engine p95, {span}"),
        judge(ALERT_DELIVERY, _p95_ms(observed.alert_ws), f"tick received to `alert` published on /ws, {span}",
              channel="ws"),
    ]
    for labels in sorted(observed.delivery):
        channel = dict(labels).get("channel", "")
        if channel != "ws":  # /ws is published by the engine itself (above); its outbox retries are rare
            kpis.append(judge(ALERT_DELIVERY, _p95_ms(observed.delivery, labels),
                              f"trigger written to delivered, {span}", channel=channel))
    kpis.append(judge(PLAN_COMPUTE, _p95_ms(observed.plan), f"a plan validated, request to result, {span}"))
    requests = _observations(observed.requests)
    failed = _total(observed.errors, _server_error)
    kpis.append(judge(API_ERROR_RATE, ratio_pct(failed, requests),
                      f"{failed:.0f} server errors (5xx) in {requests:.0f} API requests, {span}"))
    return kpis


def judge(goal: Goal, value: float | None, detail: str, channel: str | None = None) -> Kpi:
    if value is None:
        status: Status = "no_data"
    elif goal.higher_is_better:
        status = "ok" if value >= goal.goal else "breach"
    else:
        status = "ok" if value <= goal.goal else "breach"
    shown = None if value is None else round(value, 3)
    return Kpi(goal.name, goal.label, shown, goal.unit, goal.goal, status, detail, channel)


def breach_changes(breached: Mapping[str, bool], kpis: Sequence[Kpi]) -> list[Kpi]:
    """The KPIs that entered breach, or left it (back within the goal, or no data any more), since ``breached``
    (key -> in breach); a KPI seen for the first time counts as having been ok."""
    changed = []
    for kpi in kpis:
        if (kpi.status == "breach") != breached.get(kpi.key, False):
            changed.append(kpi if kpi.status != "no_data" else replace(kpi, status="ok"))
    return changed


def breach_message(kpi: Kpi) -> str:
    where = f" ({kpi.channel})" if kpi.channel else ""
    value = "no data" if kpi.value is None else f"{_num(kpi.value)} {kpi.unit}"
    goal = f"{_num(kpi.goal)} {kpi.unit}"
    if kpi.status == "breach":
        side = "below" if kpi.name == "ws_uptime" else "above"
        return f"{kpi.label}{where} is {value}, {side} its goal of {goal}"
    return f"{kpi.label}{where} is back within its goal of {goal} ({value})"


def _num(value: float) -> str:
    return f"{value:.0f}" if value >= 100 or value == int(value) else f"{value:.2f}"
