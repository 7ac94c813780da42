"""Alert index: per-tick evaluation of 100,000 alerts over 1,000 symbols vs the poller-style scan of every alert.

Both run in the same process on the same alerts and the same ticks (a random walk around each symbol's price,
so some ticks fire, disarm and re-arm alerts). Goals: index p99 < 10 us; >= 1000x the scan.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from decimal import Decimal

from core.domain.alerts import Alert, AlertSpec, Condition, Repeat, create
from core.engines.alert_index import AlertIndex, scan_all

N_SYMBOLS = 1_000
PER_SYMBOL = 100
N_TICKS = 200_000
N_SCANS = 40
T0_MS = 1_741_000_000_000
SIGMA = 0.0001  # ~1 cent per trade on a $100 stock


def _alerts(rng: random.Random, base: dict[str, float]) -> list[Alert]:
    alerts = []
    for symbol, price in base.items():
        for n in range(PER_SYMBOL):
            condition = rng.choice(list(Condition))
            offset = rng.uniform(0.002, 0.1) * (1 if condition is Condition.PRICE_ABOVE else -1)
            spec = AlertSpec(symbol, condition, Decimal(f"{price * (1 + offset):.2f}"), repeat=Repeat.EVERY,
                             threshold_pct=rng.choice([None, Decimal("0.5")]))
            alerts.append(create(f"{symbol}-{n}", spec, last_price=Decimal(f"{price:.2f}")).alert)
    return alerts


def _ticks(rng: random.Random, base: dict[str, float], count: int) -> list[tuple[str, float, int]]:
    last = dict(base)
    symbols = list(base)
    ticks = []
    for n in range(count):
        symbol = rng.choice(symbols)
        last[symbol] = round(last[symbol] * (1 + rng.gauss(0, SIGMA)), 2)
        ticks.append((symbol, last[symbol], T0_MS + n))
    return ticks


def _percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples_ns, n=100)
    return cuts[49] / 1000, cuts[98] / 1000, statistics.fmean(samples_ns) / 1000


def main() -> bool:
    rng = random.Random(4)
    base = {f"S{n:04d}": round(rng.uniform(5, 500), 2) for n in range(N_SYMBOLS)}
    alerts = _alerts(rng, base)
    index = AlertIndex()
    for alert in alerts:
        index.upsert(alert)
    ticks = _ticks(rng, base, N_TICKS)
    gc.collect()
    gc.freeze()
    clock = time.perf_counter_ns
    on_tick = index.on_tick
    samples, firing = [], []
    for symbol, price, ts in ticks:
        started = clock()
        result = on_tick(symbol, price, price, price, ts)
        elapsed = clock() - started
        samples.append(elapsed)
        if result:
            firing.append(elapsed)
    p50, p99, mean = _percentiles(samples)
    f50, f99, _ = _percentiles(firing)
    print(f"index: {len(alerts):,} alerts, {N_SYMBOLS:,} symbols, {N_TICKS:,} ticks "
          f"(random walk, sigma {SIGMA:.2%} per tick), {len(firing):,} ticks fired ({len(firing) / N_TICKS:.2%})")
    print(f"index per tick: p50 {p50:.2f} us, p99 {p99:.2f} us, mean {mean:.2f} us")
    print(f"  of which ticks that fired: p50 {f50:.2f} us, p99 {f99:.2f} us (Decimal evaluation + re-placing)")

    brute = {alert.id: alert for alert in alerts}
    scan_samples = []
    for symbol, price, ts in ticks[:N_SCANS]:
        started = clock()
        scan_all(brute, symbol, price, price, price, ts_ms=ts)
        scan_samples.append(clock() - started)
    s50, s99, smean = _percentiles(scan_samples)
    print(f"full scan per tick ({N_SCANS} passes): p50 {s50 / 1000:.2f} ms, p99 {s99 / 1000:.2f} ms, "
          f"mean {smean / 1000:.2f} ms")
    ratio = s50 / p50
    print(f"speed-up (p50 scan / p50 index): {ratio:,.0f}x; mean/mean {smean / mean:,.0f}x "
          f"(goals: p99 < 10 us, >= 1000x)")
    gc.unfreeze()
    return p99 < 10 and ratio >= 1000
