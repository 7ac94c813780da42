"""Per-symbol sorted threshold index of live alerts: O(log n + k) per tick, never a scan of all alerts.

Each (timeframe, symbol) book holds four ladders of the alerts' `watch_points` (fire points of ``price_above``
reached by the high, of ``price_below`` by the low, and the re-arm points of each reached by the last price),
kept sorted as ``sign * price`` so a single ``bisect_right`` returns exactly the entries reached. Only those k
alerts (plus snoozed alerts that are due) go through `core.domain.alerts.evaluate`, the one place the rules
live; a changed alert is re-placed (fire -> re-arm ladder on a fire, back on a re-arm, out when terminal).
Most ticks stop earlier, at the book's quiet band (its nearest points, three comparisons). Expiry is a
global heap checked in O(1) per tick; snooze wake-ups a heap per book.

Floats: the hot path compares wire floats with ``float(Decimal)`` thresholds (both correctly rounded), which
agrees with the Decimal comparison unless the two prices differ by less than one part in 10**15; candidates are
then evaluated in Decimal (``Decimal(repr(x))`` gives back the wire's decimal text). Times are Unix epoch ms.
When nothing is reached the hot path allocates nothing but its return of the shared empty tuple.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import chain

from core.domain.alerts import (
    Alert,
    AlertStatus,
    Condition,
    Fired,
    Observation,
    Timeframe,
    evaluate,
    expire,
    watch_points,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOTHING: tuple[Fired, ...] = ()
_INF = float("inf")


def ms_to_datetime(ts_ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ts_ms)


def ceil_ms(when: datetime) -> int:
    """Epoch ms rounded up, so ``ts_ms >= ceil_ms(when)`` exactly when ``ms_to_datetime(ts_ms) >= when``."""
    return -(-((when - EPOCH) // timedelta(microseconds=1)) // 1000)


def observation(price: float, high: float, low: float, ts_ms: int, late: bool = False) -> Observation:
    """The Decimal observation of wire floats (their shortest repr is the text the wire carried)."""
    last = Decimal(repr(price))
    return Observation(last, last if high == price else Decimal(repr(high)),
                       last if low == price else Decimal(repr(low)), ms_to_datetime(ts_ms), late)


class _Ladder:
    """Alert ids sorted by ``sign * threshold``: ``keys[:reached(x)]`` are the ones ``sign * x`` has reached."""

    __slots__ = ("keys", "sign", "vals")

    def __init__(self, sign: float) -> None:
        self.sign = sign
        self.vals: list[float] = []
        self.keys: list[str] = []

    def add(self, price: float, key: str) -> None:
        value = self.sign * price
        at = bisect_right(self.vals, value)
        self.vals.insert(at, value)
        self.keys.insert(at, key)

    def discard(self, price: float, key: str) -> None:
        at = bisect_left(self.vals, self.sign * price)
        while self.keys[at] != key:
            at += 1
        del self.vals[at], self.keys[at]


class _Book:
    """The live alerts of one symbol and timeframe.

    ``floor``/``ceiling`` are the nearest points below/above (the ladders' first entries) and ``wake_at`` the
    first snooze wake-up: a tick with ``floor < low``, ``high < ceiling`` and ``ts < wake_at`` reaches nothing,
    which settles most ticks with three comparisons before any bisect.
    """

    __slots__ = ("ceiling", "count", "fire_down", "fire_up", "floor", "rearm_down", "rearm_up", "wake", "wake_at")

    def __init__(self) -> None:
        self.fire_up = _Ladder(1.0)      # price_above fire points, reached when high >= point
        self.fire_down = _Ladder(-1.0)   # price_below fire points, reached when low <= point
        self.rearm_down = _Ladder(-1.0)  # price_above re-arm points, reached when last <= point
        self.rearm_up = _Ladder(1.0)     # price_below re-arm points, reached when last >= point
        self.wake: list[tuple[int, str]] = []
        self.count = 0
        self.floor, self.ceiling, self.wake_at = -_INF, _INF, _INF

    def ladder(self, condition: Condition, rearm: bool) -> _Ladder:
        if condition is Condition.PRICE_ABOVE:
            return self.rearm_down if rearm else self.fire_up
        return self.rearm_up if rearm else self.fire_down

    def refresh(self) -> None:
        """Recompute the quiet band and the next wake-up after the ladders or the wake heap changed."""
        self.ceiling = min(self.fire_up.vals[:1] + self.rearm_up.vals[:1], default=_INF)
        self.floor = -min(self.fire_down.vals[:1] + self.rearm_down.vals[:1], default=_INF)
        self.wake_at = self.wake[0][0] if self.wake else _INF


class AlertIndex:
    """Live (active or snoozed) alerts by symbol and timeframe; feed it ticks and bar closes."""

    def __init__(self) -> None:
        self._alerts: dict[str, Alert] = {}
        self._placed: dict[str, tuple[tuple[_Ladder, float], ...]] = {}
        self._books: dict[Timeframe, dict[str, _Book]] = {tf: {} for tf in Timeframe}
        self._tick_books = self._books[Timeframe.TICK]
        self._expiry: list[tuple[int, str]] = []
        self._next_expiry = _INF
        self._changed: dict[str, Alert] = {}

    def __len__(self) -> int:
        return len(self._alerts)

    def get(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def symbols(self, timeframe: Timeframe) -> set[str]:
        """Symbols with live alerts of ``timeframe`` (what the feed and the poller must cover)."""
        return {symbol for symbol, book in self._books[timeframe].items() if book.count}

    def upsert(self, alert: Alert) -> None:
        """Add, edit, snooze or re-arm an alert; a terminal status removes it."""
        self._store(alert, changed=False)

    def remove(self, alert_id: str) -> Alert | None:
        """Forget an alert (deleted, dismissed; the caller persists that) with any change not yet drained."""
        self._changed.pop(alert_id, None)
        alert = self._alerts.get(alert_id)
        if alert is not None:
            self._unplace(alert)
        return alert

    def drain_changes(self) -> list[Alert]:
        """Alerts the index changed since the last call (fired, re-armed, woken, expired), latest state each.

        For batched persistence off the hot path; an expired alert shows up here exactly once.
        """
        changed, self._changed = list(self._changed.values()), {}
        return changed

    def expire_due(self, now_ms: int) -> None:
        """Expire every alert whose ``expires_at`` is at or before ``now_ms`` (timer path, ticks do it too)."""
        heap = self._expiry
        while heap and heap[0][0] <= now_ms:
            due, alert_id = heapq.heappop(heap)
            alert = self._alerts.get(alert_id)
            if alert is not None and alert.spec.expires_at is not None and ceil_ms(alert.spec.expires_at) == due:
                self._store(expire(alert), changed=True)
        self._next_expiry = heap[0][0] if heap else _INF

    def on_tick(self, symbol: str, price: float, high: float, low: float, ts_ms: int,  # noqa: PLR0917 (hot path)
                late: bool = False) -> Sequence[Fired]:
        """Evaluate the ``tick`` alerts of ``symbol``: last price and the high/low since its last evaluation
        (``late``: back-filled prices the live stream missed; their fires say so)."""
        if ts_ms >= self._next_expiry:
            self.expire_due(ts_ms)
        book = self._tick_books.get(symbol)
        if book is None or (book.floor < low and high < book.ceiling and ts_ms < book.wake_at):
            return _NOTHING
        return self._evaluate(book, price, high, low, ts_ms, late)

    def on_bar(self, symbol: str, timeframe: Timeframe, close: float, ts_ms: int) -> Sequence[Fired]:
        """Evaluate the ``minute``/``day`` alerts of ``symbol`` on a completed bar (``ts_ms``: when it closed)."""
        if ts_ms >= self._next_expiry:
            self.expire_due(ts_ms)
        book = self._books[timeframe].get(symbol)
        if book is None or (book.floor < close < book.ceiling and ts_ms < book.wake_at):
            return _NOTHING
        return self._evaluate(book, close, close, close, ts_ms, False)

    def _evaluate(self, book: _Book, price: float, high: float, low: float, ts_ms: int,  # noqa: PLR0917
                  late: bool) -> Sequence[Fired]:
        up, down, rearm_down, rearm_up = book.fire_up, book.fire_down, book.rearm_down, book.rearm_up
        due = dict.fromkeys(chain(up.keys[:bisect_right(up.vals, high)], down.keys[:bisect_right(down.vals, -low)],
                                  rearm_down.keys[:bisect_right(rearm_down.vals, -price)],
                                  rearm_up.keys[:bisect_right(rearm_up.vals, price)]))
        while book.wake and book.wake[0][0] <= ts_ms:
            alert_id = heapq.heappop(book.wake)[1]
            alert = self._alerts.get(alert_id)
            if alert is not None and self._book(alert) is book:  # not moved to another symbol since
                due[alert_id] = None
        book.refresh()
        if not due:
            return _NOTHING
        obs = observation(price, high, low, ts_ms, late)
        fired: list[Fired] = []
        for alert_id in due:
            alert = self._alerts[alert_id]
            new, fire = evaluate(alert, obs)
            if new is not alert:
                self._store(new, changed=True)
            if fire is not None:
                fired.append(fire)
        return fired

    def _book(self, alert: Alert) -> _Book:
        books = self._books[alert.spec.timeframe]
        book = books.get(alert.spec.symbol)
        if book is None:
            book = books[alert.spec.symbol] = _Book()
        return book

    def _store(self, alert: Alert, *, changed: bool) -> None:
        old = self._alerts.get(alert.id)
        if old is not None:
            self._unplace(old)
        if changed:
            self._changed[alert.id] = alert
        if not alert.status.is_live:
            return
        book = self._book(alert)
        book.count += 1
        self._alerts[alert.id] = alert
        placed = tuple((book.ladder(alert.spec.condition, point.rearm), float(point.price))
                       for point in watch_points(alert))
        for ladder, price in placed:
            ladder.add(price, alert.id)
        self._placed[alert.id] = placed
        if alert.status is AlertStatus.SNOOZED:
            assert alert.snoozed_until is not None
            heapq.heappush(book.wake, (ceil_ms(alert.snoozed_until), alert.id))
        book.refresh()
        expires = alert.spec.expires_at
        if expires is not None and (old is None or old.spec.expires_at != expires):
            heapq.heappush(self._expiry, (ceil_ms(expires), alert.id))
            self._next_expiry = self._expiry[0][0]

    def _unplace(self, alert: Alert) -> None:
        """Take an alert out of its book (an empty book stays, cheap); heap entries go stale, skipped when popped."""
        del self._alerts[alert.id]
        for ladder, price in self._placed.pop(alert.id):
            ladder.discard(price, alert.id)
        book = self._book(alert)
        book.count -= 1
        book.refresh()


def scan_all(alerts: MutableMapping[str, Alert], symbol: str, price: float, high: float, low: float, *,
             ts_ms: int, timeframe: Timeframe = Timeframe.TICK) -> list[Fired]:
    """Brute-force reference (and poller-style baseline): visit every alert, evaluate those of ``symbol``.

    Updates ``alerts`` in place, expiring any alert past ``expires_at`` whatever its symbol, as the index does.
    """
    obs = observation(price, high, low, ts_ms)
    fired: list[Fired] = []
    for alert_id, alert in alerts.items():
        spec = alert.spec
        if spec.symbol == symbol and spec.timeframe is timeframe:
            new, fire = evaluate(alert, obs)
            if fire is not None:
                fired.append(fire)
        elif spec.expires_at is not None and obs.ts >= spec.expires_at and alert.status.is_live:
            new = expire(alert)
        else:
            continue
        alerts[alert_id] = new
    return fired
