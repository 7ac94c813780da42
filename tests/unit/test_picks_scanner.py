"""The scanner: picks appear, trigger on the tape, invalidate and expire, one symbol at a time."""

from __future__ import annotations

import itertools
from datetime import timedelta

from core.domain.pick_views import PickStatus
from core.domain.picks import Context
from core.domain.picks_scanner import Scanner
from core.domain.setups.batch import SessionMatrix, batch_states
from tests.unit.picks_series import DAY, flat, minute_bars
from tests.unit.test_setups import RANGE


def _scanner() -> Scanner:
    ids = itertools.count(1)
    return Scanner(lambda: f"p{next(ids)}", lambda symbol: Context(now_ms=0))


def test_an_orb_pick_forms_triggers_on_a_trade_and_is_stopped_on_the_next() -> None:
    scanner = _scanner()
    changed = []
    for bar in minute_bars(RANGE):
        changed = scanner.on_bar("AAA", bar)
    orb = next(p for p in changed if p.setup == "orb5")
    assert (orb.status, orb.trigger, orb.stop) == (PickStatus.FORMING, 101, 99)
    assert orb not in scanner.on_tape("AAA", 100.95, 100.95, 100.95, orb.as_of_ms + 1)
    assert orb in scanner.on_tape("AAA", 101.02, 101.02, 101.02, orb.as_of_ms + 2)
    assert orb.status is PickStatus.TRIGGERED
    assert orb in scanner.on_tape("AAA", 98.9, 98.9, 98.9, orb.as_of_ms + 3)
    assert orb.status is PickStatus.INVALIDATED
    assert scanner.get(orb.id) is orb and orb not in scanner.ranked(limit=50)
    assert orb in scanner.ranked(limit=50, statuses=frozenset(PickStatus))


def test_the_same_pick_is_refreshed_by_later_bars_not_duplicated() -> None:
    scanner = _scanner()
    for bar in minute_bars([*RANGE, (100.6, 100.8, 100.4, 100.7, 900)]):
        scanner.on_bar("AAA", bar)
    orbs = [p for p in scanner.ranked(limit=50) if p.setup == "orb5"]
    assert len(orbs) == 1 and orbs[0].last == 100.7 and orbs[0].version == 1


def test_a_new_session_expires_the_old_sessions_picks() -> None:
    scanner = _scanner()
    for bar in minute_bars(RANGE):
        scanner.on_bar("AAA", bar)
    active = scanner.ranked(limit=50)
    assert active
    changed = scanner.on_bar("AAA", minute_bars(flat(1), day=DAY + timedelta(days=1))[0])
    assert all(p.status is PickStatus.EXPIRED for p in active) and set(active) <= set(changed)
    assert scanner.ranked(limit=50) == []


def test_load_adopts_rescanned_states_and_continues_incrementally() -> None:
    scanner = _scanner()
    bars = minute_bars(RANGE)
    picks = scanner.load(batch_states(SessionMatrix.from_bars([("AAA", bars[:5])])))
    assert any(p.setup == "orb5" and p.status is PickStatus.FORMING for p in picks)
    more = minute_bars([*RANGE, (100.6, 101.5, 100.5, 101.4, 3000)])[5]
    changed = scanner.on_bar("AAA", more)
    orb = next(p for p in changed if p.setup == "orb5")
    assert orb.status is PickStatus.TRIGGERED and orb.triggered_ms == more.start_ms + 60_000


def test_ranked_filters_by_setup_and_symbol() -> None:
    scanner = _scanner()
    for symbol in ("AAA", "BBB"):
        for bar in minute_bars(RANGE):
            scanner.on_bar(symbol, bar)
    assert {p.symbol for p in scanner.ranked(limit=50, symbol="BBB")} == {"BBB"}
    assert {p.setup for p in scanner.ranked(limit=50, setup="orb5")} == {"orb5"}
    assert len(scanner.ranked(limit=1)) == 1


def test_the_clock_expires_a_forming_pick_after_its_window_without_any_trade() -> None:
    scanner = _scanner()
    for bar in minute_bars(RANGE):
        scanner.on_bar("AAA", bar)
    orb = next(p for p in scanner.ranked(limit=50) if p.setup == "orb5")
    assert orb not in scanner.sweep(orb.expires_ms - 1)
    assert orb in scanner.sweep(orb.expires_ms) and orb.status is PickStatus.EXPIRED
    everything = scanner.sweep(orb.session_end_ms)
    assert scanner.ranked(limit=50) == [] and all(p.status is PickStatus.EXPIRED for p in everything)
