"""Plan validation + sizing in-process (target p99 < 100 us) and a 50-position risk evaluation (< 5 ms).

One operation is what `POST /plan/validate` + `POST /sizing/suggest` together ask of the domain (the goal is
judged on the pair; each alone, what one request asks, is printed for information; the three and a fixed loop
are timed in turns, 20 rounds of 1,000 calls each, so a slow stretch of the host weighs on all alike):
`validate_plan` with a live market context and `suggest_size` with a confidence, summaries included, fed the raw
JSON strings the REST bodies carry (`instrument` arrives as the string "stock"). Baseline: p99 131 us on a quiet
machine before the issue-5 speed-up (the spec's original requirement was 800 ms). Figures are printed by wall
clock and by this thread's CPU time; the goal is judged on the wall clock, so run it on a quiet machine.

Two diagnostics say where a tail comes from. The garbage collections that ran inside timed calls are counted
(`gc.callbacks`). And a fixed pure-Python loop of about the same length is timed the same way: its p99/p50 is the
machine's own tail (timer ticks, a busy sibling vCPU, the hypervisor), which no change to the code can remove.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.domain.orders import Balances, Position
from core.domain.plans import MarketContext, validate_plan
from core.domain.risk import AccountSnapshot, RiskLimits, evaluate_risk
from core.domain.sizing import suggest_size

PLAN_TARGET_US = 100.0
PLAN_BASELINE_P99_US = 131.0  # quiet machine, before the issue-5 speed-up
QUIET_LOOP_P50_US = 45.0  # the fixed loop's p50 on this machine when its host is quiet (2026-11-25)
ORIGINAL_PLAN_BUDGET_US = 800_000.0  # the spec's original requirement: 800 ms
RISK_TARGET_US = 5_000.0
LIMITS = RiskLimits()
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MARKET = MarketContext(last=Decimal("190.42"), bid=Decimal("190.41"), ask=Decimal("190.43"), quote_age_sec=2.5,
                       market_open=True)
TARGETS = ["192.00", "193.40"]  # the parsed JSON list, built once per request like the other fields


def _plan() -> None:
    """What one `POST /plan/validate` asks of the domain."""
    plan = validate_plan(side="long", entry="190.50", stop="189.80", targets=TARGETS, symbol="AAPL",
                         instrument="stock", default_rr=LIMITS.default_rr, market=MARKET)
    assert plan.ok and plan.summary


def _size() -> None:
    """What one `POST /sizing/suggest` asks of the domain."""
    sizing = suggest_size(entry="190.50", stop="189.80", limits=LIMITS, equity="100000",
                          buying_power="200000", confidence=0.72, symbol="AAPL", instrument="stock")
    assert sizing.ok and sizing.summary


def _plan_and_size() -> None:
    _plan()
    _size()


def _fixed_loop() -> int:
    """Pure-Python work of constant length (~the operation's), allocating nothing the GC tracks."""
    total = 0
    for i in range(1_000):
        total += i * i
    return total


def _account(positions: int) -> AccountSnapshot:
    held = tuple(Position(f"SYM{i}", Decimal(10 + i), Decimal(1000 + 100 * i)) for i in range(positions))
    prices = {p.symbol: Decimal(100) + Decimal(i) / 7 for i, p in enumerate(held)}
    balances = Balances(Decimal(250_000), Decimal(400_000), Decimal(50_000), realized_pnl_today=Decimal(-120))
    return AccountSnapshot(balances, held, prices, trades_today=4, consecutive_losses=1,
                           last_loss_at=NOW - timedelta(minutes=5))


class _Collections:
    """Counts the garbage collections that start while `timing` is set (a `gc.callbacks` hook)."""

    def __init__(self) -> None:
        self.timing = False
        self.count = 0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if self.timing and phase == "start":
            self.count += 1


class _Samples:
    """Wall-clock and CPU-time samples (ns) of one operation, preallocated: appending would allocate while timing."""

    def __init__(self, runs: int) -> None:
        self.wall = [0] * runs
        self.cpu = [0] * runs
        self.collections = 0

    def figures(self) -> dict[str, tuple[float, float]]:
        return {"wall": _percentiles(self.wall), "cpu": _percentiles(self.cpu)}


def _time_into(samples: _Samples, call: Callable[[], object], first: int, count: int,
               collections: _Collections) -> None:
    before = collections.count
    for i in range(first, first + count):
        collections.timing = True
        # The wall-clock window sits inside the CPU-time one: reading the thread's CPU time is a system call
        # (~0.8 us here), reading the wall clock is not (vDSO, ~60 ns).
        started_cpu = time.thread_time_ns()
        started = time.perf_counter_ns()
        call()
        samples.wall[i] = time.perf_counter_ns() - started
        samples.cpu[i] = time.thread_time_ns() - started_cpu
        collections.timing = False
    samples.collections += collections.count - before


def _timed(calls: dict[str, Callable[[], object]], runs: int, warmup: int, rounds: int = 20) -> dict[str, _Samples]:
    """`runs` timed calls of each operation after `warmup` untimed ones, by wall clock and by this thread's CPU
    time, with the garbage collections that ran inside them. The operations take turns in `rounds` chunks, so a
    stretch of slow host (other tenants of a shared vCPU, lasting seconds) weighs on each alike and their figures
    stay comparable."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples = {name: _Samples(runs) for name in calls}
    chunk = runs // rounds
    collections = _Collections()
    gc.callbacks.append(collections)
    try:
        for start in range(0, runs, chunk):
            for name, call in calls.items():
                _time_into(samples[name], call, start, min(chunk, runs - start), collections)
    finally:
        gc.callbacks.remove(collections)
    return samples


def _percentiles(samples: list[int]) -> tuple[float, float]:
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def _report(what: str, figures: dict[str, tuple[float, float]], target_us: float) -> bool:
    """Print both clocks; True when the wall-clock p99 meets the target."""
    for clock, (p50, p99) in figures.items():
        verdict = "met" if p99 < target_us else "MISSED"
        print(f"{what} [{clock}]: p50 {p50:.1f} us, p99 {p99:.1f} us = {p99 / target_us:.3f}x of the "
              f"{target_us:,.0f} us target ({verdict})")
    return figures["wall"][1] < target_us


def main() -> bool:
    """Plan validation + sizing in-process (p99 < 100 us) and a 50-position risk evaluation (< 5 ms)."""
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    timed = _timed({"pair": _plan_and_size, "plan": _plan, "size": _size, "loop": _fixed_loop},
                   runs=20_000, warmup=2_000)
    plan = timed["pair"].figures()
    plan_met = _report("plan validation + sizing", plan, PLAN_TARGET_US)
    wall_p50, wall_p99, cpu_p99 = plan["wall"][0], plan["wall"][1], plan["cpu"][1]
    print(f"baseline: p99 {PLAN_BASELINE_P99_US:.0f} us before the speed-up; this run's p99 is "
          f"{wall_p99 / PLAN_BASELINE_P99_US:.3f}x of it by wall clock, {cpu_p99 / PLAN_BASELINE_P99_US:.3f}x by "
          f"CPU time; the original 800 ms budget is {ORIGINAL_PLAN_BUDGET_US / wall_p99:,.0f}x the wall-clock p99")
    for name, what in (("plan", "plan validation alone (one /plan/validate)"),
                       ("size", "sizing alone (one /sizing/suggest)")):
        p50, p99 = timed[name].figures()["wall"]
        print(f"{what}: p50 {p50:.1f} us, p99 {p99:.1f} us (information)")
    loop_p50, loop_p99 = timed["loop"].figures()["wall"]
    print(f"tail: {timed['pair'].collections} garbage collections ran inside the 20,000 timed calls; p99/p50 is "
          f"{wall_p99 / wall_p50:.2f} for the operation and {loop_p99 / loop_p50:.2f} for a fixed pure-Python loop "
          f"(p50 {loop_p50:.1f} us, p99 {loop_p99:.1f} us), timed in turns with it: the machine's own tail")
    print(f"host speed: the fixed loop's p50 is {loop_p50 / QUIET_LOOP_P50_US:.2f}x its {QUIET_LOOP_P50_US:.0f} us "
          "on a quiet host (a shared vCPU: above ~1.1x, other tenants slow this run down and the figures above "
          "with it; information, the goal is judged on the raw figures)")
    account = _account(50)
    risk = _timed({"risk": lambda: evaluate_risk(LIMITS, account, NOW)}, runs=5_000, warmup=500)["risk"]
    risk_met = _report("risk evaluation, 50 positions", risk.figures(), RISK_TARGET_US)
    return plan_met and risk_met


if __name__ == "__main__":
    main()
