"""AlertIndex: exactly what the brute-force scan returns, for random alert sets and tick sequences."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.alerts import (
    Alert,
    AlertSpec,
    AlertStatus,
    Condition,
    FireKind,
    Repeat,
    Timeframe,
    create,
    edit,
    snooze,
)
from core.engines.alert_index import AlertIndex, ceil_ms, ms_to_datetime, scan_all

T0_MS = 1_741_000_000_000
SYMBOLS = ("AAA", "BBB", "CCC")
D = Decimal


def spec(symbol: str = "AAA", condition: Condition = Condition.PRICE_ABOVE, level: str = "100",
         **kw: object) -> AlertSpec:
    return replace(AlertSpec(symbol, condition, D(level)), **kw)  # type: ignore[arg-type]


def loaded(*alerts: Alert) -> AlertIndex:
    index = AlertIndex()
    for alert in alerts:
        index.upsert(alert)
    return index


def kinds(fired: object) -> list[tuple[str, FireKind, Decimal]]:
    assert isinstance(fired, (list, tuple))
    return [(f.alert.id, f.kind, f.price) for f in fired]


# --- examples -----------------------------------------------------------------------------------------------

def test_quiet_tick_returns_the_shared_empty_result() -> None:
    index = loaded(create("a", spec(), last_price=D(95)).alert)
    assert index.on_tick("AAA", 99.0, 99.5, 98.0, T0_MS) == ()
    assert index.on_tick("ZZZ", 150.0, 150.0, 150.0, T0_MS) == ()
    assert index.on_bar("AAA", Timeframe.MINUTE, 150.0, T0_MS) == ()


def test_fire_disarms_rearm_band_and_fire_again() -> None:
    index = loaded(create("a", spec(repeat=Repeat.EVERY), last_price=D(95)).alert,
                   create("b", spec(condition=Condition.PRICE_BELOW, level="90"), last_price=D(95)).alert)
    assert kinds(index.on_tick("AAA", 100.2, 100.5, 89.0, T0_MS)) == [("a", FireKind.CROSSED, D("100.5")),
                                                                     ("b", FireKind.CROSSED, D("89.0"))]
    assert index.get("b") is None and len(index) == 1  # once: triggered and gone
    assert index.on_tick("AAA", 100.5, 100.5, 100.5, T0_MS + 1) == ()
    assert index.on_tick("AAA", 99.95, 99.95, 99.95, T0_MS + 2) == ()  # inside the band
    assert index.on_tick("AAA", 99.9, 99.9, 99.9, T0_MS + 3) == []  # re-armed, nothing fired
    assert kinds(index.on_tick("AAA", 100.0, 100.0, 100.0, T0_MS + 4)) == [("a", FireKind.CROSSED, D("100.0"))]
    states = {a.id: a.status for a in index.drain_changes()}
    assert states == {"a": AlertStatus.ACTIVE, "b": AlertStatus.TRIGGERED}
    assert index.drain_changes() == []


def test_approach_threshold_is_its_own_entry() -> None:
    index = loaded(create("a", spec(threshold_pct=D(1)), last_price=D(95)).alert)
    assert kinds(index.on_tick("AAA", 99.2, 99.2, 99.2, T0_MS)) == [("a", FireKind.APPROACHING, D("99.2"))]
    assert index.on_tick("AAA", 99.5, 99.5, 99.5, T0_MS + 1) == ()
    assert kinds(index.on_tick("AAA", 100.0, 100.0, 100.0, T0_MS + 2)) == [("a", FireKind.CROSSED, D("100.0"))]


def test_timeframes_are_separate_books_and_symbols_lists_them() -> None:
    index = loaded(create("t", spec(), last_price=D(95)).alert,
                   create("m", spec("BBB", timeframe=Timeframe.MINUTE), last_price=D(95)).alert,
                   create("d", spec("CCC", timeframe=Timeframe.DAY), last_price=D(95)).alert)
    assert index.symbols(Timeframe.MINUTE) == {"BBB"} and index.symbols(Timeframe.DAY) == {"CCC"}
    assert index.on_tick("BBB", 101.0, 101.0, 101.0, T0_MS) == ()
    assert kinds(index.on_bar("BBB", Timeframe.MINUTE, 101.0, T0_MS)) == [("m", FireKind.CROSSED, D("101.0"))]
    assert index.symbols(Timeframe.MINUTE) == set()


def test_expiry_by_timer_or_tick_is_reported_once() -> None:
    expires = ms_to_datetime(T0_MS + 5_000)
    index = loaded(create("a", spec(expires_at=expires), last_price=D(95)).alert,
                   create("b", spec("BBB", expires_at=expires + timedelta(seconds=5)), last_price=D(95)).alert)
    index.expire_due(T0_MS + 4_999)
    assert len(index) == 2
    assert index.on_tick("BBB", 50.0, 50.0, 50.0, T0_MS + 5_000) == ()  # any tick expires what is due
    assert index.get("a") is None
    index.expire_due(T0_MS + 10_000)
    assert [(a.id, a.status) for a in index.drain_changes()] == [("a", AlertStatus.EXPIRED),
                                                                  ("b", AlertStatus.EXPIRED)]
    index.expire_due(T0_MS + 20_000)
    assert index.drain_changes() == [] and len(index) == 0


def test_snoozed_alert_wakes_on_its_own_symbol() -> None:
    alert = snooze(create("a", spec(), last_price=D(95)).alert, ms_to_datetime(T0_MS + 60_000))
    index = loaded(alert)
    assert index.on_tick("AAA", 101.0, 101.0, 101.0, T0_MS) == ()
    assert index.on_tick("AAA", 99.0, 99.0, 99.0, T0_MS + 60_000) == []
    woken = index.get("a")
    assert woken is not None and woken.status is AlertStatus.ACTIVE and woken.armed
    assert kinds(index.on_tick("AAA", 100.0, 100.0, 100.0, T0_MS + 60_001)) == [("a", FireKind.CROSSED,
                                                                                 D("100.0"))]


def test_remove_and_edit_update_the_ladders() -> None:
    a = create("a", spec(), last_price=D(95)).alert
    index = loaded(a)
    assert index.remove("a") == a and index.remove("a") is None
    assert index.on_tick("AAA", 150.0, 150.0, 150.0, T0_MS) == () and index.symbols(Timeframe.TICK) == set()
    index.upsert(a)
    index.upsert(edit(a, spec(level="120"), last_price=D(95)).alert)
    assert index.on_tick("AAA", 110.0, 110.0, 110.0, T0_MS) == ()
    assert kinds(index.on_tick("AAA", 120.0, 120.0, 120.0, T0_MS + 1)) == [("a", FireKind.CROSSED, D("120.0"))]


def test_snoozed_alert_moved_to_another_symbol_wakes_only_there() -> None:
    alert = snooze(create("a", spec(), last_price=D(95)).alert, ms_to_datetime(T0_MS + 1_000))
    index = loaded(alert)
    index.upsert(edit(alert, spec("BBB"), last_price=D(95)).alert)
    assert index.on_tick("AAA", 99.0, 99.0, 99.0, T0_MS + 2_000) == ()
    moved = index.get("a")
    assert moved is not None and moved.status is AlertStatus.SNOOZED
    assert index.on_tick("BBB", 99.0, 99.0, 99.0, T0_MS + 2_000) == []
    assert index.get("a") == replace(moved, status=AlertStatus.ACTIVE, snoozed_until=None)


def test_remove_drops_an_undrained_change() -> None:
    index = loaded(create("a", spec(repeat=Repeat.EVERY), last_price=D(95)).alert)
    assert index.on_tick("AAA", 100.0, 100.0, 100.0, T0_MS)
    index.remove("a")
    assert index.drain_changes() == []


def test_ceil_ms_rounds_up_sub_millisecond_times() -> None:
    when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(microseconds=1_500)
    assert ms_to_datetime(ceil_ms(when)) >= when > ms_to_datetime(ceil_ms(when) - 1)


# --- property: index == brute force ----------------------------------------------------------------------------

cents = st.integers(9_500, 10_500)
alert_specs = st.builds(
    lambda symbol, condition, level, pct, timeframe, repeat, cooldown, expires: AlertSpec(
        symbol, condition, D(level) / 100, timeframe, repeat, cooldown,
        threshold_pct=pct, expires_at=None if expires is None else ms_to_datetime(T0_MS + expires)),
    st.sampled_from(SYMBOLS), st.sampled_from(Condition), cents, st.sampled_from([None, D("0.5"), D(1), D(3)]),
    st.sampled_from([Timeframe.TICK, Timeframe.MINUTE]), st.sampled_from(Repeat), st.sampled_from([0, 2, 30]),
    st.one_of(st.none(), st.integers(1, 120).map(lambda s: s * 1_000)),
)


@dataclass(frozen=True)
class Tick:
    symbol: str
    price: int
    up: int
    down: int
    timeframe: Timeframe


@dataclass(frozen=True)
class Remove:
    which: int


@dataclass(frozen=True)
class Snooze:
    which: int
    for_ms: int


@dataclass(frozen=True)
class Edit:
    which: int
    spec: AlertSpec
    last: int | None


@dataclass(frozen=True)
class Sweep:
    pass


ops = st.one_of(
    st.builds(Tick, st.sampled_from(SYMBOLS), cents, st.integers(0, 150), st.integers(0, 150),
              st.sampled_from([Timeframe.TICK, Timeframe.TICK, Timeframe.MINUTE])),
    st.builds(Remove, st.integers(0, 30)),
    st.builds(Snooze, st.integers(0, 30), st.sampled_from([0, 1_000, 3_000, 10_000])),
    st.builds(Edit, st.integers(0, 30), alert_specs, st.one_of(st.none(), cents)),
    st.just(Sweep()),
)


def signature(fired: object) -> list[tuple[str, FireKind, Decimal, datetime, Alert]]:
    assert isinstance(fired, (list, tuple))
    return sorted(((f.alert.id, f.kind, f.price, f.ts, f.alert) for f in fired), key=lambda x: (x[0], x[1]))


@settings(max_examples=300, deadline=None)
@given(initial=st.lists(st.tuples(alert_specs, st.one_of(st.none(), cents)), min_size=1, max_size=30),
       steps=st.lists(st.tuples(ops, st.sampled_from([0, 1, 1_000, 2_000, 5_000])), max_size=60))
def test_index_matches_brute_force(initial: list[tuple[AlertSpec, int | None]],
                                   steps: list[tuple[object, int]]) -> None:
    index, brute = AlertIndex(), {}
    for n, (s, last) in enumerate(initial):
        alert = create(f"a{n}", s, last_price=None if last is None else D(last) / 100).alert
        index.upsert(alert)
        brute[alert.id] = alert
    now, reported, expired = T0_MS, [], set()
    for op, dt in steps:
        now += dt
        ids = sorted(brute, key=lambda k: int(k[1:]))
        target = brute.get(ids[op.which % len(ids)]) if ids and hasattr(op, "which") else None
        if isinstance(op, Tick):
            price, high, low = op.price / 100, (op.price + op.up) / 100, (op.price - op.down) / 100
            if op.timeframe is Timeframe.TICK:
                got = index.on_tick(op.symbol, price, high, low, now)
                want = scan_all(brute, op.symbol, price, high, low, ts_ms=now)
            else:
                got = index.on_bar(op.symbol, op.timeframe, price, now)
                want = scan_all(brute, op.symbol, price, price, price, ts_ms=now, timeframe=op.timeframe)
            assert signature(got) == signature(want)
        elif isinstance(op, Sweep):
            index.expire_due(now)
            scan_all(brute, "NONE", 1.0, 1.0, 1.0, ts_ms=now)
        elif target is None:
            continue
        elif isinstance(op, Remove):
            index.remove(target.id)
            del brute[target.id]
        elif target.status.is_live and isinstance(op, Snooze):
            brute[target.id] = snooze(target, ms_to_datetime(now + op.for_ms))
            index.upsert(brute[target.id])
        elif target.status.is_live and isinstance(op, Edit):
            last = None if op.last is None else D(op.last) / 100
            brute[target.id] = edit(target, op.spec, last_price=last).alert
            index.upsert(brute[target.id])
        for alert_id, alert in brute.items():
            assert index.get(alert_id) == (alert if alert.status.is_live else None)
            if alert.status is AlertStatus.EXPIRED:
                expired.add(alert_id)
        reported += [a.id for a in index.drain_changes() if a.status is AlertStatus.EXPIRED]
    assert len(index) == sum(a.status.is_live for a in brute.values())
    assert sorted(reported) == sorted(expired)
