"""KPI arithmetic on hand-made histograms and counters: the p95 of buckets, windows, goals, breach changes, and
windows of several processes added up."""

from __future__ import annotations

import math

from core.domain.events import pack_reading, unpack_reading
from core.domain.kpis import (
    ALERT_DELIVERY,
    WS_UPTIME,
    Kpi,
    Reading,
    breach_changes,
    breach_message,
    compute,
    judge,
    quantile,
    ratio_pct,
    window,
)

INF = math.inf
EMPTY = Reading.empty()


def test_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (INF, 100.0)]
    assert quantile(buckets, 0.95) == 0.75  # rank 95: 5 of the 10 between 0.5 and 1.0 -> 0.5 + 0.5 * 5/10
    assert quantile(buckets, 0.5) == 0.1  # rank 50: the top of the first bucket
    assert quantile(buckets, 0.25) == 0.05  # rank 25: half-way through the first bucket, from 0
    assert quantile([(0.1, 10.0), (INF, 100.0)], 0.95) == 0.1  # beyond the last bound: that bound
    assert quantile([(0.1, 0.0), (INF, 0.0)], 0.95) is None and quantile([], 0.95) is None


def test_window_is_the_difference_of_two_readings() -> None:
    before = [(0.1, 40.0), (0.5, 45.0), (1.0, 45.0), (INF, 46.0)]
    now = [(0.1, 50.0), (0.5, 85.0), (1.0, 95.0), (INF, 96.0)]
    assert window(now, before) == [(0.1, 10.0), (0.5, 40.0), (1.0, 50.0), (INF, 50.0)]
    assert window(now, None) == now
    assert quantile(window(now, before), 0.95) == 0.5 + 0.5 * (47.5 - 40) / 10


def test_goals_and_breach_changes() -> None:
    assert judge(WS_UPTIME, 99.0, "d").status == "ok" and judge(WS_UPTIME, 98.9, "d").status == "breach"
    assert judge(ALERT_DELIVERY, 3000.0, "d").status == "ok" and judge(ALERT_DELIVERY, 3000.5, "d").status == "breach"
    assert judge(ALERT_DELIVERY, None, "d").status == "no_data" and ratio_pct(1, 0) is None
    slow = judge(ALERT_DELIVERY, 4200.0, "d", channel="discord")
    fine = judge(ALERT_DELIVERY, 120.0, "d", channel="ws")
    assert breach_changes({}, [slow, fine]) == [slow]  # new and in breach; new and ok says nothing
    assert breach_changes({slow.key: True}, [slow]) == []  # still in breach: no second event
    [back] = breach_changes({slow.key: True}, [judge(ALERT_DELIVERY, 900.0, "d", channel="discord")])
    assert back.status == "ok"
    [gone] = breach_changes({slow.key: True}, [judge(ALERT_DELIVERY, None, "d", channel="discord")])
    assert gone.status == "ok"  # nothing measured any more: out of breach
    assert breach_message(slow) == "Alert delivery p95 (discord) is 4200 ms, above its goal of 3000 ms"
    assert breach_message(back) == "Alert delivery p95 (discord) is back within its goal of 3000 ms (900 ms)"
    assert breach_message(judge(WS_UPTIME, 97.5, "d")) == (
        "Market data stream uptime is 97.50 %, below its goal of 99 %")


def by_name(kpis: list[Kpi]) -> dict[str, Kpi]:
    return {kpi.key: kpi for kpi in kpis}


def test_compute_reads_each_kpi_from_its_metric_over_the_window() -> None:
    up, down = (("state", "up"),), (("state", "down"),)
    before = Reading({}, {}, {}, {}, {}, {(("method", "GET"), ("route", "/x")): [(0.1, 100.0), (INF, 100.0)]},
                     {(("route", "/x"), ("status", "500")): 3.0}, {up: 100.0, down: 0.0})
    now = Reading(
        feed_lag={(): [(0.5, 90.0), (1.0, 95.0), (2.0, 100.0), (INF, 100.0)]},  # p95 = 1.0 s
        price_lag={(): [(0.001, 100.0), (INF, 100.0)]},  # p95 = 0.00095 s
        alert_ws={(): [(0.001, 19.0), (0.002, 20.0), (INF, 20.0)]},  # rank 19: 1 ms
        delivery={(("channel", "discord"),): [(1.0, 10.0), (10.0, 20.0), (INF, 20.0)],  # rank 19: 9.1 s
                  (("channel", "ws"),): [(1.0, 1.0), (INF, 1.0)]},
        plan={(): [(0.05, 20.0), (INF, 20.0)]},  # rank 19: 47.5 ms
        requests={(("method", "GET"), ("route", "/x")): [(0.1, 300.0), (INF, 300.0)]},  # 200 in the window
        errors={(("route", "/x"), ("status", "500")): 4.0, (("route", "/x"), ("status", "422")): 50.0,
                (("route", "/x"), ("status", "503"), ("code", "integration_disabled")): 30.0},
        feed_seconds={up: 1090.0, down: 10.0})  # 990 up of 1000 in the window
    kpis = by_name(compute(now.since(before), 15))
    assert kpis["ws_uptime"].value == 99.0 and kpis["ws_uptime"].status == "ok"
    assert kpis["quote_latency_p95"].value == 1000.95 and kpis["quote_latency_p95"].status == "ok"
    assert kpis["alert_delivery_p95:ws"].value == 1.0
    assert kpis["alert_delivery_p95:discord"].value == 9100.0 and kpis["alert_delivery_p95:discord"].status == "breach"
    assert kpis["plan_compute_p95"].value == 47.5
    # 1 new 5xx in 200 requests: the 422s are the caller's mistakes, a disabled integration's 503 is by design
    assert kpis["api_error_rate"].value == 0.5
    assert kpis["api_error_rate"].detail == "1 server errors (5xx) in 200 API requests, last 15 min"
    assert list(kpis) == ["ws_uptime", "quote_latency_p95", "alert_delivery_p95:ws", "alert_delivery_p95:discord",
                          "plan_compute_p95", "api_error_rate"]


def test_nothing_measured_is_no_data_never_a_made_up_number() -> None:
    kpis = compute(EMPTY.since(EMPTY), 15)
    assert {kpi.status for kpi in kpis} == {"no_data"} and {kpi.value for kpi in kpis} == {None}


def test_windows_of_two_processes_add_up_to_one() -> None:
    api = Reading.empty()
    api_now = Reading({}, {}, {}, {}, plan={(): [(0.05, 19.0), (INF, 20.0)]},
                      requests={(("route", "/x"),): [(0.1, 200.0), (INF, 200.0)]},
                      errors={(("route", "/x"), ("status", "500")): 2.0}, feed_seconds={})
    engine_before = Reading({}, {}, {}, {(("channel", "discord"),): [(1.0, 5.0), (INF, 5.0)]}, {}, {}, {},
                            {(("state", "up"),): 500.0})
    engine_now = Reading({}, {}, {}, {(("channel", "discord"),): [(1.0, 15.0), (INF, 25.0)]},
                         plan={(): [(0.05, 0.0), (INF, 20.0)]}, requests={}, errors={},
                         feed_seconds={(("state", "up"),): 800.0})
    together = api_now.since(api).plus(engine_now.since(engine_before))
    assert together.delivery == {(("channel", "discord"),): [(1.0, 10.0), (INF, 20.0)]}  # the engine's window
    assert together.plan == {(): [(0.05, 19.0), (INF, 40.0)]}  # both measured plans: bucket by bucket
    assert together.feed_seconds == {(("state", "up"),): 300.0}
    kpis = by_name(compute(together, 15))
    assert kpis["ws_uptime"].value == 100.0 and kpis["api_error_rate"].value == 1.0
    assert kpis["alert_delivery_p95:discord"].value == 1000.0  # half took over 1 s, the last finite bound
    assert unpack_reading(pack_reading(together)) == together  # as a `metrics` event carries it (+Inf included)
