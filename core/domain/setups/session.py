"""One symbol's regular session folded bar by bar: VWAP, high/low of day, opening ranges, ATR, volume pace.

Floats, not Decimals: this is the scanner's hot state (hundreds of symbols x every closed minute), like the stream
engine's bar rings. Unknown values are NaN, so every comparison with them is False and a setup that needs them
simply does not fire. Prices leave the scanner as Decimals (core/domain/picks.py) where a person reads them.

`SessionState.add(bar)` is O(1). `core/domain/setups/batch.py` computes the same state for many symbols at once
with numpy; tests check that both agree.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

NAN = math.nan
SESSION_MINUTES = 390
OPENING_RANGES = (5, 15, 30)
ATR_BARS = 14
HISTORY_SESSIONS = 10
MINUTE_MS = 60_000
Volumes = list[float] | npt.NDArray[np.float64]  # per minute of the session; the rescan hands out array rows
_ET = ZoneInfo("America/New_York")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = _EPOCH.date()


class MinuteBar(NamedTuple):
    """A closed one-minute bar; `start_ms` is the window start (epoch ms), like the feed's `BarTick`."""

    start_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@functools.lru_cache(maxsize=4096)
def session_open_ms(day: date) -> int:
    """09:30 New York on `day`, as epoch ms (DST handled by zoneinfo)."""
    return (datetime.combine(day, time(9, 30), _ET) - _EPOCH) // timedelta(milliseconds=1)


def session_of(start_ms: int) -> tuple[date, int] | None:
    """(New York date, minute index 0-389) of a bar in regular hours; None outside them. Regular hours
    (13:30-21:00 UTC at the latest) never cross UTC midnight, so the UTC date is the New York date."""
    day = _EPOCH_DATE + timedelta(days=start_ms // 86_400_000)
    index = (start_ms - session_open_ms(day)) // MINUTE_MS
    return (day, index) if 0 <= index < SESSION_MINUTES else None


@dataclass(slots=True)
class History:
    """What earlier sessions say: the prior session's high/low/close and the volume pace by minute of day."""

    prior_high: float = NAN
    prior_low: float = NAN
    prior_close: float = NAN
    sessions: deque[Volumes] = field(default_factory=lambda: deque(maxlen=HISTORY_SESSIONS))
    dollars: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_SESSIONS))
    minute_avg: list[float] = field(default_factory=list)  # mean volume of minute i over the kept sessions
    cum_avg: list[float] = field(default_factory=list)  # mean cumulative volume up to minute i

    @property
    def dollar_volume(self) -> float:
        """Mean regular-session dollar volume of the kept sessions (NaN before the first)."""
        return sum(self.dollars) / len(self.dollars) if self.dollars else NAN

    def add_session(self, high: float, low: float, close: float, minute_volumes: Volumes,
                    dollar_volume: float) -> None:
        """Roll one finished session in (O(390 x sessions): once per symbol per day)."""
        self.prior_high, self.prior_low, self.prior_close = high, low, close
        self.sessions.append(minute_volumes)
        self.dollars.append(dollar_volume)
        count = len(self.sessions)
        self.minute_avg = [float(sum(s[i] for s in self.sessions)) / count for i in range(SESSION_MINUTES)]
        running, self.cum_avg = 0.0, []
        for value in self.minute_avg:
            running += value
            self.cum_avg.append(running)


@dataclass(slots=True, eq=False)
class SessionState:
    """The live state of one symbol's current regular session after its last closed minute bar.

    `prev_*` are the same values one bar earlier (a setup compares the two to see a cross). `or_high[k]` is the
    high of the first `OPENING_RANGES[k]` minutes once they are over, else NaN.
    """

    symbol: str
    history: History = field(default_factory=History)
    day: date | None = None
    open_ms: int = 0
    minute: int = -1
    bars: int = 0
    session_open: float = NAN
    bar_open: float = NAN
    high: float = NAN
    low: float = NAN
    close: float = NAN
    volume: float = 0.0
    prev_high: float = NAN
    prev_low: float = NAN
    prev_close: float = NAN
    cum_pv: float = 0.0
    cum_v: float = 0.0
    vwap: float = NAN
    prev_vwap: float = NAN
    hod: float = NAN
    lod: float = NAN
    prev_hod: float = NAN
    prev_lod: float = NAN
    or_high: list[float] = field(default_factory=lambda: [NAN] * len(OPENING_RANGES))
    or_low: list[float] = field(default_factory=lambda: [NAN] * len(OPENING_RANGES))
    range_high: list[float] = field(default_factory=lambda: [NAN] * len(OPENING_RANGES))
    range_low: list[float] = field(default_factory=lambda: [NAN] * len(OPENING_RANGES))
    trs: deque[float] = field(default_factory=lambda: deque(maxlen=ATR_BARS))
    tr_sum: float = 0.0
    atr: float = NAN  # mean of `trs`, kept current by every fold (the setups read it a dozen times a bar)
    minute_volumes: Volumes = field(default_factory=lambda: [0.0] * SESSION_MINUTES)

    @property
    def end_ms(self) -> int:
        """When the last folded bar closed (epoch ms)."""
        return self.open_ms + (self.minute + 1) * MINUTE_MS

    @property
    def rvol(self) -> float:
        """Volume so far against the average volume by this minute of earlier sessions."""
        cum = self.history.cum_avg
        return self.cum_v / cum[self.minute] if cum and self.minute >= 0 and cum[self.minute] > 0 else NAN

    @property
    def bar_rvol(self) -> float:
        """The last bar's volume against the average volume of the same minute in earlier sessions."""
        avg = self.history.minute_avg
        return self.volume / avg[self.minute] if avg and self.minute >= 0 and avg[self.minute] > 0 else NAN

    def add(self, bar: MinuteBar) -> bool:
        """Fold one closed bar; False (and nothing changes) for a bar outside regular hours, older than the
        session, or not after the last folded one."""
        index = (bar.start_ms - self.open_ms) // MINUTE_MS
        if self.day is None or not 0 <= index < SESSION_MINUTES:
            where = session_of(bar.start_ms)
            if where is None or (self.day is not None and where[0] <= self.day):
                return False
            self._roll(where[0])
            index = where[1]
        elif index <= self.minute:
            return False
        self._fold(bar, index)
        return True

    def _roll(self, day: date) -> None:
        """Start a new session; the finished one (if any) goes into the history."""
        if self.bars:
            self.history.add_session(self.hod, self.lod, self.close, self.minute_volumes, self.cum_pv)
        carried = self.trs, self.tr_sum, self.atr
        fresh = SessionState(self.symbol, self.history, day, session_open_ms(day))
        for name in SessionState.__slots__:
            setattr(self, name, getattr(fresh, name))
        self.trs, self.tr_sum, self.atr = carried  # minute ATR carries over the overnight break

    def _fold(self, bar: MinuteBar, index: int) -> None:
        _, o, h, lo, c, v = bar
        first = self.bars == 0
        true_range = h - lo if first else max(h, self.close) - min(lo, self.close)
        if len(self.trs) == ATR_BARS:
            self.tr_sum -= self.trs[0]
        self.trs.append(true_range)
        self.tr_sum += true_range
        self.atr = self.tr_sum / len(self.trs)
        self.prev_high, self.prev_low, self.prev_close = self.high, self.low, self.close
        self.prev_vwap, self.prev_hod, self.prev_lod = self.vwap, self.hod, self.lod
        if first:
            self.session_open = o
            self.hod, self.lod = h, lo
        else:
            self.hod, self.lod = max(self.hod, h), min(self.lod, lo)
        self.bar_open, self.high, self.low, self.close, self.volume = o, h, lo, c, v
        typical = (h + lo + c) / 3
        self.cum_pv += typical * v
        self.cum_v += v
        self.vwap = self.cum_pv / self.cum_v if self.cum_v > 0 else typical
        self.minute_volumes[index] = v
        for k, minutes in enumerate(OPENING_RANGES):
            if index < minutes:
                self.range_high[k] = h if math.isnan(self.range_high[k]) else max(self.range_high[k], h)
                self.range_low[k] = lo if math.isnan(self.range_low[k]) else min(self.range_low[k], lo)
            if index >= minutes - 1 and math.isnan(self.or_high[k]):
                self.or_high[k], self.or_low[k] = self.range_high[k], self.range_low[k]
        self.minute = index
        self.bars += 1


def carry_trs(state: SessionState, trs: Iterable[float]) -> None:
    """Seed the ATR with true ranges from before this state's first bar (the last ATR_BARS are kept)."""
    state.trs.extend(trs)
    state.tr_sum = sum(state.trs)
    state.atr = state.tr_sum / len(state.trs) if state.trs else NAN


def warm_up(symbol: str, bars: Iterable[MinuteBar]) -> SessionState:
    """Fold a history of minute bars (oldest first): earlier sessions become the history, the last is live."""
    state = SessionState(symbol)
    for bar in bars:
        state.add(bar)
    return state
