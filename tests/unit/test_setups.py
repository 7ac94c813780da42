"""Truth tables for the intraday setups on hand-built minute series, and the numpy rescan against the fold."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest

from core.domain.setups.batch import SessionMatrix, batch_states
from core.domain.setups.rules import (
    Direction,
    gap_and_go,
    gap_fill,
    hod_break,
    lod_break,
    make_signal,
    orb5,
    orb15,
    pdh_break,
    rvol_surge,
    scan,
    vwap_reclaim,
    vwap_rejection,
)
from core.domain.setups.session import MINUTE_MS, History, MinuteBar, SessionState, carry_trs, session_open_ms
from tests.unit.picks_series import DAY, OPEN_MS, flat, fold, history, minute_bars

LONG, SHORT = Direction.LONG, Direction.SHORT
RANGE = [(100, 101, 99.5, 100.2, 1000), (100.2, 100.8, 99, 99.6, 1000), (99.6, 100.5, 99.2, 100.4, 1000),
         (100.4, 100.9, 100, 100.5, 1000), (100.5, 100.9, 100.3, 100.6, 1000)]


def test_orb5_forming_long_inside_the_range_near_its_high() -> None:
    state = fold(RANGE)
    signal = orb5(state)
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.stop, signal.triggered) == (LONG, 101, 99, False)
    assert signal.stop_basis == "opening-range low"
    assert state.atr == pytest.approx(6.1 / 5)
    assert orb15(state) is None  # the 15-minute range is not over yet


def test_orb5_breakout_triggers_long_with_trigger_101_and_stop_99() -> None:
    signal = orb5(fold([*RANGE, (100.6, 101.5, 100.5, 101.4, 3000)]))
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.stop, signal.triggered) == (LONG, 101, 99, True)
    assert signal.target == 103  # measured move: the range height above the trigger


def test_orb5_breakdown_triggers_short_with_trigger_99_and_stop_101() -> None:
    signal = orb5(fold([*RANGE, (100.6, 100.7, 98.5, 98.7, 3000)]))
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.stop, signal.triggered) == (SHORT, 99, 101, True)


def test_orb_expires_two_hours_after_its_range() -> None:
    signal = orb5(fold(RANGE))
    assert signal is not None
    assert signal.expires_ms == OPEN_MS + (5 + 120) * MINUTE_MS


VWAP_BASE = [(100, 100.5, 99.5, 100, 1000), (100, 100, 99, 99.2, 1000)]


def test_vwap_reclaim_long_triggers_on_the_close_back_above_vwap() -> None:
    state = fold([*VWAP_BASE, (99.2, 100.4, 99.1, 100.3, 1000)])
    signal = vwap_reclaim(state)
    assert signal is not None
    assert signal.direction is LONG and signal.triggered
    assert signal.trigger == pytest.approx((100 + 99.4 + (100.4 + 99.1 + 100.3) / 3) / 3)
    assert signal.stop == 99  # the lower of the two bars' lows
    assert vwap_rejection(state) is None


def test_vwap_rejection_short_forms_when_the_bar_tags_vwap_and_closes_below() -> None:
    state = fold([*VWAP_BASE, (99.2, 99.9, 99.1, 99.3, 1000)])
    signal = vwap_rejection(state)
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.stop, signal.triggered) == (SHORT, 99.1, 99.9, False)
    assert vwap_reclaim(state) is None  # it touched VWAP: no reclaim forming


def test_hod_break_needs_15_minutes_then_triggers_above_the_prior_high() -> None:
    state = fold([*flat(16), (100, 100.9, 99.9, 100.8, 2000)])
    signal = hod_break(state)
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.stop, signal.triggered) == (LONG, 100.5, 99.5, True)
    assert lod_break(state) is None
    assert hod_break(fold([*flat(5), (100, 100.9, 99.9, 100.8, 2000)])) is None


def test_pdh_break_crosses_the_prior_day_high_with_a_half_atr_stop() -> None:
    state = fold([*flat(10), (100, 101.3, 99.9, 101.2, 1000)], history(prior_high=101))
    signal = pdh_break(state)
    assert signal is not None
    assert signal.direction is LONG and signal.triggered and signal.trigger == 101
    assert state.atr == pytest.approx(11.4 / 11)
    assert signal.stop == pytest.approx(101 - 0.5 * 11.4 / 11)


def test_pdh_break_forms_within_half_an_atr_below_the_level() -> None:
    signal = pdh_break(fold([*flat(10), (100, 100.8, 99.9, 100.7, 1000)], history(prior_high=101)))
    assert signal is not None and not signal.triggered and signal.trigger == 101
    assert pdh_break(fold(flat(10), history(prior_high=101))) is None  # 1.0 below: more than 1/2 ATR


def test_gap_and_go_long_through_the_high_of_day_stop_vwap() -> None:
    state = fold([(100, 100.8, 99.8, 100.6, 1000), (100.6, 101.2, 100.5, 101.1, 1000)], history(prior_close=97))
    signal = gap_and_go(state)
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.triggered) == (LONG, 100.8, True)
    assert signal.stop == pytest.approx((100.4 + 302.8 / 3) / 2) and signal.stop_basis == "VWAP"
    assert gap_fill(state) is None


def test_gap_fill_short_below_vwap_targets_the_prior_close() -> None:
    state = fold([(100, 100.8, 99.8, 100.6, 1000), (100.6, 100.6, 99.6, 99.7, 1000)], history(prior_close=97))
    signal = gap_fill(state)
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.triggered, signal.target) == (SHORT, 99.8, True, 97)
    assert gap_and_go(state) is None


def test_small_gap_is_no_gap_setup() -> None:
    state = fold([(100, 100.8, 99.8, 100.6, 1000), (100.6, 101.2, 100.5, 101.1, 1000)], history(prior_close=99))
    assert gap_and_go(state) is None and gap_fill(state) is None


def test_rvol_surge_long_on_a_five_times_volume_up_bar() -> None:
    state = fold([*flat(3), (100, 100.9, 99.9, 100.8, 5000)], history(minute_volume=1000))
    signal = rvol_surge(state)
    assert state.bar_rvol == 5
    assert signal is not None
    assert (signal.direction, signal.trigger, signal.stop, signal.triggered) == (LONG, 100.9, 99.9, False)
    assert rvol_surge(fold([*flat(3), (100, 100.9, 99.9, 100.8, 2000)], history())) is None


def test_a_stop_closer_than_a_twentieth_of_an_atr_is_not_a_signal() -> None:
    state = fold(RANGE)
    assert make_signal(state, "x", LONG, 100.0, 99.99, basis="noise", window_min=10) is None
    assert make_signal(state, "x", LONG, 100.0, 100.5, basis="wrong side", window_min=10) is None
    assert make_signal(state, "x", LONG, 100.0, 99.0, basis="ok", window_min=0) is None  # window over


def test_scan_lists_every_present_setup_and_nothing_on_an_empty_session() -> None:
    assert scan(SessionState("EMPTY")) == []
    names = {s.setup for s in scan(fold([*RANGE, (100.6, 101.5, 100.5, 101.4, 3000)]))}
    assert "orb5" in names and "hod_break" not in names


def test_bars_outside_regular_hours_and_old_bars_are_ignored() -> None:
    state = SessionState("T")
    premarket = MinuteBar(OPEN_MS - 10 * MINUTE_MS, 1, 2, 0.5, 1.5, 10)
    assert not state.add(premarket) and state.bars == 0
    bars = minute_bars(flat(3))
    assert all(state.add(b) for b in bars)
    assert not state.add(bars[1])  # not after the last folded bar


def test_a_new_session_rolls_the_last_one_into_history_and_keeps_the_atr() -> None:
    state = fold([(100, 102, 99, 101, 500), (101, 103, 100, 102.5, 700)])
    next_day = minute_bars(flat(1, price=104), day=DAY + timedelta(days=1))
    assert state.add(next_day[0])
    h = state.history
    assert (h.prior_high, h.prior_low, h.prior_close) == (103, 99, 102.5)
    assert h.minute_avg[:3] == [500, 700, 0]
    assert len(state.trs) == 3 and state.bars == 1 and state.hod == 104.5


def _random_session(rng: random.Random, n: int, first_minute: int) -> list[MinuteBar]:
    price, rows = 50 + rng.random() * 100, []
    for _ in range(n):
        o = price
        c = o + rng.gauss(0, 0.3)
        h, lo = max(o, c) + rng.random() * 0.2, min(o, c) - rng.random() * 0.2
        rows.append((o, h, lo, c, float(rng.randint(0, 5000))))
        price = c
    return minute_bars(rows, first_minute=first_minute)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_numpy_rescan_reaches_the_state_of_the_bar_by_bar_fold(seed: int) -> None:
    rng = random.Random(seed)
    shapes = [(1, 0), (3, 0), (20, 2), (100, 0), (390, 0), (40, 10)]
    sessions = [(f"S{i}", _random_session(rng, n, first)) for i, (n, first) in enumerate(shapes)]
    histories = [history(prior_close=60, minute_volume=rng.randint(100, 900)) for _ in sessions]
    carried = [[rng.random() for _ in range(rng.randint(0, 20))][-14:] for _ in sessions]
    batched = batch_states(SessionMatrix.from_bars(sessions), histories, carried)
    for (symbol, bars), hist, trs, fast in zip(sessions, histories, carried, batched, strict=True):
        slow = SessionState(symbol, hist)
        carry_trs(slow, trs)
        for bar in bars:
            slow.add(bar)
        assert (fast.symbol, fast.day, fast.open_ms, fast.minute, fast.bars) == (
            slow.symbol, slow.day, slow.open_ms, slow.minute, slow.bars)
        for name in ("session_open", "bar_open", "high", "low", "close", "volume", "prev_high", "prev_low",
                     "prev_close", "cum_pv", "cum_v", "vwap", "prev_vwap", "hod", "lod", "prev_hod", "prev_lod",
                     "atr", "rvol", "bar_rvol"):
            a, b = getattr(fast, name), getattr(slow, name)
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9), name
        for name in ("or_high", "or_low", "range_high", "range_low", "minute_volumes"):
            assert [round(x, 9) if x == x else "nan" for x in getattr(fast, name)] == [
                round(x, 9) if x == x else "nan" for x in getattr(slow, name)], name
        assert [s.setup for s in scan(fast)] == [s.setup for s in scan(slow)]


def test_batch_of_no_bars_gives_empty_states() -> None:
    states = batch_states(SessionMatrix.from_bars([("A", [])]))
    assert states[0].bars == 0 and scan(states[0]) == []


def test_session_open_follows_new_york_daylight_saving() -> None:
    from datetime import date
    assert session_open_ms(date(2024, 1, 5)) % 86_400_000 == (14 * 60 + 30) * 60_000  # EST: 14:30 UTC
    assert session_open_ms(date(2024, 7, 5)) % 86_400_000 == (13 * 60 + 30) * 60_000  # EDT: 13:30 UTC


def test_history_is_shared_not_copied_by_a_new_state() -> None:
    h = History()
    assert SessionState("A", h).history is h
