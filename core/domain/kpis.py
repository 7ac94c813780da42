"""The seed KPIs judged against their goals: percentiles from Prometheus histogram buckets, ratios from counters,
and which KPIs entered or left breach since the last look.

A histogram is a list of ``(upper bound, cumulative count)`` buckets ending at ``+Inf``, as Prometheus keeps it;
a window is the difference of two readings of the same histogram, so a KPI says how the last minutes went,
not the whole life of the process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

Bucket = tuple[float, float]
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
