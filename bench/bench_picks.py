"""Picks scanner: full rescan of 500 symbols x 390 minute bars, and the per-symbol update on a closed bar.

Rescan: the numpy `batch_states` plus every setup on every symbol, against a naive Python recompute of each
symbol's state from all of its bars. Incremental: `Scanner.on_bar` (one O(1) fold, that symbol's setups, its
picks' lifecycle and confidence) for bars 200-389 of every symbol, against recomputing that symbol's state from
all its bars so far at every bar; then the same with the confidence of every changed pick settled, as a publish
does. Goals (issue 18): rescan < 50 ms; incremental < 50 us per symbol.
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import statistics
import time
from collections.abc import Sequence

from core.domain.picks import Context
from core.domain.picks_scanner import Scanner
from core.domain.setups.batch import SessionMatrix, batch_states
from core.domain.setups.rules import scan
from core.domain.setups.session import (
    OPENING_RANGES,
    History,
    MinuteBar,
    SessionState,
    carry_trs,
    session_open_ms,
)
from tests.unit.picks_series import DAY, minute_bars

N_SYMBOLS = 500
N_BARS = 390
WARM = 200
RUNS = 15
RESCAN_GOAL_MS = 50.0
UPDATE_GOAL_US = 50.0


def _session(rng: random.Random) -> list[MinuteBar]:
    price, rows = rng.uniform(5, 500), []
    for _ in range(N_BARS):
        o = price
        c = o * (1 + rng.gauss(0, 0.0015))
        h, lo = max(o, c) * (1 + rng.random() * 0.001), min(o, c) * (1 - rng.random() * 0.001)
        rows.append((o, h, lo, c, float(rng.randint(100, 20_000))))
        price = c
    return minute_bars(rows)


def _history(rng: random.Random, price: float) -> History:
    h = History()
    for _ in range(5):
        h.add_session(price * 1.01, price * 0.99, price * (1 + rng.gauss(0, 0.02)),
                      [float(rng.randint(100, 20_000)) for _ in range(390)], price * 3_000_000)
    return h


def naive_state(symbol: str, bars: Sequence[MinuteBar], history: History) -> SessionState:
    """The baseline: every value recomputed from all of the session's bars."""
    s = SessionState(symbol, history, DAY, session_open_ms(DAY))
    opens, highs, lows, closes, volumes = ([b[i] for b in bars] for i in range(1, 6))
    n = len(bars)
    s.minute, s.bars = n - 1, n
    s.session_open, s.bar_open, s.high, s.low, s.close, s.volume = opens[0], opens[-1], highs[-1], lows[-1], \
        closes[-1], volumes[-1]
    s.prev_high, s.prev_low, s.prev_close = (highs[-2], lows[-2], closes[-2]) if n > 1 else (math.nan,) * 3
    pv = [(h + lo + c) / 3 * v for h, lo, c, v in zip(highs, lows, closes, volumes, strict=True)]
    s.cum_pv, s.cum_v = sum(pv), sum(volumes)
    s.vwap = s.cum_pv / s.cum_v
    s.prev_vwap = sum(pv[:-1]) / sum(volumes[:-1]) if n > 1 else math.nan
    s.hod, s.lod = max(highs), min(lows)
    s.prev_hod, s.prev_lod = (max(highs[:-1]), min(lows[:-1])) if n > 1 else (math.nan, math.nan)
    for k, minutes in enumerate(OPENING_RANGES):
        s.range_high[k], s.range_low[k] = max(highs[:minutes]), min(lows[:minutes])
        if n >= minutes:
            s.or_high[k], s.or_low[k] = s.range_high[k], s.range_low[k]
    trs = [highs[0] - lows[0]] + [max(highs[i], closes[i - 1]) - min(lows[i], closes[i - 1]) for i in range(1, n)]
    carry_trs(s, trs)
    s.minute_volumes = volumes + [0.0] * (390 - n)
    return s


def _timed(fn: object, runs: int) -> float:
    samples = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> bool:
    rng = random.Random(18)
    sessions = [(f"S{i:03d}", _session(rng)) for i in range(N_SYMBOLS)]
    histories = [_history(rng, bars[0].open) for _, bars in sessions]
    matrix = SessionMatrix.from_bars(sessions)

    def rescan() -> int:
        return sum(len(scan(s)) for s in batch_states(matrix, histories))

    def naive_rescan() -> int:
        return sum(len(scan(naive_state(sym, bars, h))) for (sym, bars), h in zip(sessions, histories, strict=True))

    signals = rescan()
    assert signals == naive_rescan(), "the rescan and the baseline must find the same setups"
    fast, slow = _timed(rescan, RUNS), _timed(naive_rescan, 3)
    print(f"full rescan   {N_SYMBOLS} x {N_BARS} bars: {fast * 1e3:7.2f} ms  (naive recompute "
          f"{slow * 1e3:8.1f} ms, {slow / fast:5.1f}x faster; {signals} signals; goal < {RESCAN_GOAL_MS:g} ms)")

    ids = itertools.count()
    context = Context(now_ms=matrix.day_open_ms + 400 * 60_000, bid=100.0, ask=100.01, min_dollar_volume=5e6)
    scanner = Scanner(lambda: f"p{next(ids)}", lambda _symbol: context)
    prefix = SessionMatrix.from_bars([(sym, bars[:WARM]) for sym, bars in sessions])
    scanner.load(batch_states(prefix, histories))
    updates = [(sym, bar) for i in range(WARM, N_BARS) for sym, bars in sessions for bar in (bars[i],)]
    gc.collect()
    started = time.perf_counter()
    for symbol, bar in updates:
        scanner.on_bar(symbol, bar)
    per_update = (time.perf_counter() - started) / len(updates)
    active = sum(len(p) for p in scanner.active.values())

    published = Scanner(lambda: f"q{next(ids)}", lambda _symbol: context)  # the same, plus what a publish adds
    published.load(batch_states(prefix, histories))
    gc.collect()
    started = time.perf_counter()
    for symbol, bar in updates:
        for pick in published.on_bar(symbol, bar):
            published.settle(pick)
    per_publish = (time.perf_counter() - started) / len(updates)

    sample = sessions[:20]
    started = time.perf_counter()
    for i in range(WARM, N_BARS):
        for (symbol, bars), h in zip(sample, histories, strict=False):
            scan(naive_state(symbol, bars[: i + 1], h))
    naive_update = (time.perf_counter() - started) / (len(sample) * (N_BARS - WARM))
    print(f"incremental   on_bar per symbol:        {per_update * 1e6:7.2f} us  (naive recompute "
          f"{naive_update * 1e6:8.1f} us, {naive_update / per_update:5.1f}x faster; {len(updates)} updates, "
          f"{active} active picks at the close; goal < {UPDATE_GOAL_US:g} us)")
    print(f"              + confidence of the changed picks: {per_publish * 1e6:7.2f} us per symbol and bar "
          "(settled once per publish, not per tick)")
    return fast * 1e3 < RESCAN_GOAL_MS and per_update * 1e6 < UPDATE_GOAL_US
