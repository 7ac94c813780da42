"""Prometheus metrics shared across the product; each engine registers its own KPIs next to its code."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "tradeassist_http_request_seconds", "HTTP request latency by route", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REQUEST_ERRORS = Counter("tradeassist_http_errors_total",
                         "HTTP responses with status >= 400 (code: the core error's code, empty for others)",
                         ["route", "status", "code"])
WS_CLIENTS = Gauge("tradeassist_ws_clients", "Connected /ws clients")
WS_DROPPED = Counter("tradeassist_ws_dropped_clients_total", "/ws clients dropped for not reading")
BUS_QUEUE_DEPTH = Gauge("tradeassist_bus_queue_depth", "Events waiting in a bus subscriber's queue", ["subscriber"])


def track_bus_depths(depths: Callable[[], dict[str, int]]) -> None:
    """Refresh the per-subscriber depth gauges (called on each /metrics scrape)."""
    BUS_QUEUE_DEPTH.clear()
    for name, depth in depths().items():
        BUS_QUEUE_DEPTH.labels(subscriber=name).set(depth)
