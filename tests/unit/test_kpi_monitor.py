"""The KPI monitor over real prometheus metrics: stream uptime counted in market hours, per-symbol freshness and
its staleness gauge, one `health` event when a KPI enters breach and one when it leaves, and the windows and
freshness other processes publish."""

from __future__ import annotations

from prometheus_client import REGISTRY

from core.domain.events import HealthEvent, MetricsEvent, pack_reading, unpack_reading
from core.domain.kpis import Reading
from core.domain.market_views import Freshness
from core.engines.delivery import DELIVERY_LATENCY
from core.engines.kpis import KpiMonitor
from core.engines.stream import StreamEngine
from core.services.market import MarketService
from core.settings import IntegrationStatus
from tests.unit.test_market_service import FakeBus, FakeData, FakeFeed, now_ms, trade


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def integrations() -> dict[str, IntegrationStatus]:
    return {"broker": IntegrationStatus("broker", False, "TRADIER_ACCESS_TOKEN not set", "set TRADIER_...")}


def build(feed: FakeFeed | None = None, *, market_open: bool = True,
          announce: bool = True) -> tuple[KpiMonitor, StreamEngine, Clock]:
    bus = FakeBus()
    engine = StreamEngine(bus)
    engine.market_open = market_open
    market = MarketService(bus, engine, data=FakeData(), feed=feed)  # type: ignore[arg-type]
    clock = Clock()
    monitor = KpiMonitor(bus, market, integrations, interval=5, window_sec=60, clock=clock, process="api-1",
                         roles={"api"}, shared=True, announce=announce)
    return monitor, engine, clock


def kpi(monitor: KpiMonitor, key: str) -> tuple[float | None, str]:
    found = {k.key: k for k in monitor.report().kpis}[key]
    return found.value, found.status


def test_stream_uptime_counts_market_hours_seconds_up_and_down() -> None:
    feed = FakeFeed()
    monitor, _, clock = build(feed)
    assert kpi(monitor, "ws_uptime") == (None, "no_data")
    clock.now += 990
    monitor.step()  # streaming throughout
    feed.state = "backoff"
    clock.now += 10
    monitor.step()
    assert kpi(monitor, "ws_uptime") == (99.0, "ok")  # 990 of 1000 s
    clock.now += 10
    events = monitor.step()
    assert kpi(monitor, "ws_uptime") == (round(100 * 990 / 1010, 3), "breach")
    assert [(e.kpi, e.status) for e in events] == [("ws_uptime", "breach")]

    closed, _, clock = build(FakeFeed(), market_open=False)  # outside market hours nothing is counted
    clock.now += 500
    closed.step()
    assert kpi(closed, "ws_uptime") == (None, "no_data")
    rest_only, _, clock = build(None)  # no stream at all: nothing to measure
    clock.now += 500
    rest_only.step()
    assert kpi(rest_only, "ws_uptime") == (None, "no_data")


def test_freshness_per_watched_symbol_and_the_staleness_gauge() -> None:
    monitor, engine, _ = build(FakeFeed())
    engine.watch({"AAPL", "MSFT", "SPY"})
    engine.on_trade(trade("AAPL", 10.0), now_ms())
    engine.on_trade(trade("MSFT", 20.0, ts=now_ms() - 60_000), now_ms())
    report = monitor.report()
    rows = {row.symbol: row for row in report.freshness}
    assert rows["AAPL"].status == "fresh" and rows["AAPL"].age_sec is not None and rows["AAPL"].age_sec < 2
    assert rows["MSFT"].status == "stale" and rows["MSFT"].age_sec is not None and rows["MSFT"].age_sec >= 60
    assert (rows["SPY"].status, rows["SPY"].age_sec) == ("no_data", None)
    gauge = REGISTRY.get_sample_value("tradeassist_quote_staleness_seconds", {"symbol": "MSFT"})
    assert gauge is not None and gauge >= 60
    assert REGISTRY.get_sample_value("tradeassist_quote_staleness_seconds", {"symbol": "SPY"}) is None
    assert [i.name for i in report.integrations] == ["broker"]


def test_a_breach_is_announced_once_and_its_end_once() -> None:
    monitor, _, clock = build()
    DELIVERY_LATENCY.labels("kpi_test_channel").observe(30)  # 30 s against the 3 s goal
    clock.now += 5
    [breach] = monitor.step()
    assert isinstance(breach, HealthEvent)
    assert (breach.kpi, breach.status, breach.channel, breach.goal) == (
        "alert_delivery_p95", "breach", "kpi_test_channel", 3000.0)
    assert breach.value == 57500.0  # one observation in the (10 s, 60 s] bucket: 10 + 50 * 0.95
    assert breach.msg == "Alert delivery p95 (kpi_test_channel) is 57500 ms, above its goal of 3000 ms"
    clock.now += 5
    assert monitor.step() == []  # still in breach: said once
    clock.now += 60  # the slow delivery leaves the 60 s window
    monitor.step()
    clock.now += 5
    [back] = monitor.step()
    assert (back.kpi, back.status, back.channel) == ("alert_delivery_p95", "ok", "kpi_test_channel")


def engine_event(process: str = "engine-1", *, seconds: float = 30.0) -> MetricsEvent:
    """What an engine process publishes: one slow delivery on a channel only it serves, SPY fresh."""
    delivered = {(("channel", "peer_only_channel"),): [(1.0, 0.0), (10.0, 0.0), (60.0, 1.0), (float("inf"), 1.0)]}
    window = Reading({}, {}, {}, delivered, {}, {}, {}, {})
    return MetricsEvent(process, ["engine"], pack_reading(window), [Freshness("SPY", seconds, "fresh")])


def test_another_process_window_and_freshness_count_while_it_is_heard_from() -> None:
    monitor, _, clock = build()  # an API process: no stream of its own
    assert "alert_delivery_p95:peer_only_channel" not in {k.key for k in monitor.report().kpis}
    assert monitor.report().freshness == []
    monitor.hear(engine_event())
    assert kpi(monitor, "alert_delivery_p95:peer_only_channel") == (57500.0, "breach")
    assert monitor.report().freshness == [Freshness("SPY", 30.0, "fresh")]
    [breach] = [e for e in monitor.step() if e.channel == "peer_only_channel"]
    assert breach.status == "breach"
    clock.now += 16  # more than three intervals without a word: that process no longer counts
    monitor.step()
    assert "alert_delivery_p95:peer_only_channel" not in {k.key for k in monitor.report().kpis}
    assert monitor.report().freshness == []


def test_own_events_are_ignored_and_only_the_announcer_publishes_health() -> None:
    monitor, _, _ = build(announce=False)
    monitor.hear(engine_event(process="api-1"))  # its own `metrics` event, back from the shared bus
    assert "alert_delivery_p95:peer_only_channel" not in {k.key for k in monitor.report().kpis}
    monitor.hear(engine_event())
    assert kpi(monitor, "alert_delivery_p95:peer_only_channel")[1] == "breach"
    assert monitor.step() == []  # measured and reported here, announced by the engine
    event = monitor.metrics_event()
    assert (event.process, event.roles, event.freshness) == ("api-1", ["api"], None)  # no stream: no freshness
    assert unpack_reading(event.reading) == monitor.window()
